#pragma once

/// Internal to the HTTP façade: the state a server shares with its
/// connections — config, routes, metrics, the io_context and the set of live
/// connections — plus the "post gate" through which other threads reach a
/// connection's strand.
///
/// Threads: every member is thread-safe. Ownership: the server and every
/// connection hold it by shared_ptr, so the io_context outlives the last
/// socket even when a responder held by an actor outlives the server.
/// Failure: after `close_gate()` (server stopping) posts from other threads
/// are refused, so nothing lands in an io_context nobody runs any more.

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "bridges/http/auth.hpp"
#include "bridges/http/http_config.hpp"
#include "bridges/http/router.hpp"

namespace prometheus {
class Counter;
class Gauge;
class Histogram;
template <class T>
class Family;
class Registry;
} // namespace prometheus

namespace distiller::inspect {
class trace_ring;
} // namespace distiller::inspect

namespace distiller::http::detail {

class connection;

/// The façade's Prometheus families (route = the pattern, never the path).
class http_metrics {
 public:
  explicit http_metrics(prometheus::Registry& registry);

  void observe(std::string_view method, const std::string& route,
               unsigned status, double seconds);
  /// Adds `delta` (+1 admitted, -1 released) to the open-connections gauge.
  void add_open_connections(int delta);

  /// Bounded method label: the standard verbs, else "OTHER".
  static std::string method_label(std::string_view method);

 private:
  prometheus::Family<prometheus::Histogram>* duration_;
  prometheus::Family<prometheus::Counter>* requests_;
  prometheus::Family<prometheus::Gauge>* open_;
};

class server_core {
 public:
  /// `trace` (optional) gets one entry per answered request.
  server_core(http_config cfg, std::shared_ptr<router> routes,
              prometheus::Registry* registry,
              inspect::trace_ring* trace = nullptr);

  const http_config& config() const noexcept { return cfg_; }
  router& routes() noexcept { return *routes_; }
  /// The API tokens (auth.tokens) and whether one is required.
  const token_table& tokens() const noexcept { return tokens_; }
  boost::asio::io_context& io() noexcept { return ioc_; }

  // -- the post gate ---------------------------------------------------------

  /// Posts `f` to `ex` unless the server is stopping; returns whether it did.
  template <class F>
  bool post(const boost::asio::any_io_executor& ex, F&& f) {
    std::lock_guard<std::mutex> guard{mtx_};
    if (stopping_)
      return false;
    boost::asio::post(ex, std::forward<F>(f));
    return true;
  }

  /// Refuses further posts and new connections; returns the live ones.
  std::vector<std::shared_ptr<connection>> close_gate();

  bool stopping() const;

  // -- connections -----------------------------------------------------------

  /// Tracks `c` for `close_gate`; false (drop it) when stopping.
  bool enroll(const std::shared_ptr<connection>& c);
  void forget(const connection* c);

  /// Takes a serving slot when fewer than max_connections are taken.
  bool try_admit();
  void release();
  int open_connections() const noexcept { return open_.load(); }

  // -- observability ---------------------------------------------------------

  void observe(std::string_view method, const std::string& route,
               unsigned status, double seconds);

  /// Records an answered request in the trace ring, if there is one:
  /// what = "http", detail = "<METHOD> <route pattern> <status> <ms> ms".
  void trace(const std::string& trace_id, std::string_view method,
             const std::string& route, unsigned status, double seconds);

 private:
  http_config cfg_;
  token_table tokens_;
  inspect::trace_ring* trace_ = nullptr;
  std::shared_ptr<router> routes_;
  std::unique_ptr<http_metrics> metrics_;
  std::atomic<int> open_{0};
  mutable std::mutex mtx_;
  bool stopping_ = false;
  std::unordered_map<const connection*, std::weak_ptr<connection>> conns_;
  boost::asio::io_context ioc_;
};

} // namespace distiller::http::detail
