#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "actors/load/http_client.hpp"
#include "actors/load/recorder.hpp"
#include "actors/load/schedule.hpp"
#include "actors/load/target.hpp"

/// What an HTTP workload (docs, thoughts, sse) plugs into the HTTP driver:
/// its histograms, the request it sends for each scheduled index, what it
/// does with each answer, and the streams and completions it tracks.
///
/// Where it runs: every method on the driver's one I/O thread, so a workload
/// needs no locks. The driver records the request histogram, `sent`, `ok`
/// and the errors of the scheduled requests; the workload records its other
/// histograms itself through the context (only what `counted` allows).
namespace distiller::load {

/// Shared by the driver and its workload during a run.
struct http_context {
  net::io_context& ioc;
  http_target target;
  tcp::resolver::results_type endpoints;
  recorder& rec;
  std::chrono::nanoseconds timeout;
  /// Set by the driver when the clock starts (after prepare).
  steady::time_point measure_start = steady::time_point::max();
  /// True once the run ends (streams should not reconnect any more).
  bool stopping = false;

  /// Whether a request planned at `t` (or an event arriving at `t`) counts.
  bool counted(steady::time_point t) const noexcept {
    return t >= measure_start;
  }
};

class http_workload {
 public:
  virtual ~http_workload() = default;

  /// The histogram names (at most four), the one the driver records the
  /// scheduled requests' latency in, and the primary one.
  virtual std::vector<std::string> histograms() const = 0;
  virtual size_t request_histogram() const { return 0; }
  virtual size_t primary() const { return 0; }

  /// Before the clock starts (open streams …); calls `done("")` when ready or
  /// `done(why)` to abort the run.
  virtual void prepare(http_context& ctx,
                       std::function<void(std::string)> done) = 0;

  virtual http_request request(uint64_t index) = 0;
  virtual void response(const schedule::slot& s, const http_outcome& o) = 0;

  /// What the drain still waits for (completions, events); 0 = settled.
  virtual uint64_t waiting() const { return 0; }

  /// The run is over: close streams, count what never came.
  virtual void stop() = 0;

  /// The driver's io_context is about to go: drop every stream and timer
  /// bound to it (after `stop`; their destructors touch the io_context).
  virtual void release() {}

  /// Workload-specific report fields (`duration_s`: the scheduled window).
  virtual boost::json::object fields(double duration_s) const = 0;
  virtual boost::json::object config() const = 0;
};

} // namespace distiller::load
