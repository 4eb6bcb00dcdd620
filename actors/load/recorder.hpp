#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "actors/load/histogram.hpp"
#include "actors/load/time_series.hpp"

/// What a load run measured, as it runs: request counters, errors by class,
/// up to four named latency histograms (whole run, the current series row,
/// the last second) and the bounded time series.
///
/// Memory is constant: 3 × 26 KiB per histogram, the series (≤ 3,600 rows),
/// and the error maps (keyed by HTTP status or Kafka error name, both small
/// finite sets). Thread-safe: every method locks one mutex, so the Kafka
/// workload's producer and consumer threads and the progress printer can
/// share it; the HTTP workloads call it from their one I/O thread.
///
/// Callers record only what counts (not during the warm-up); time stamps
/// are steady-clock points, rows are cut at `start + k × width`.
namespace distiller::load {

using steady = std::chrono::steady_clock;

enum class error_class : uint8_t {
  /// TCP connect failed (refused, unreachable, reset while connecting).
  connect,
  /// No answer within --timeout (or still in flight when the run ended).
  timeout,
  http_4xx,
  http_5xx,
  /// Anything else: a malformed or unexpected answer, a broken stream.
  protocol,
  /// Due by the schedule but never sent before the run ended (too few
  /// connections for the rate, or a target that stopped answering).
  unsent,
  /// A Kafka produce or consume error (by error name).
  kafka,
};
inline constexpr size_t error_class_count = 7;

const char* to_string(error_class c) noexcept;

/// The class of an HTTP status that is an error (>= 400), else protocol.
error_class class_of_status(unsigned status) noexcept;

/// A copy of the counters for progress lines.
struct progress_snapshot {
  double elapsed_s = 0;
  uint64_t sent = 0;
  uint64_t ok = 0;
  uint64_t errors = 0;
  /// p99 of the primary histogram over the last full second (ms), and
  /// whether there was any value in it.
  double p99_ms = 0;
  bool has_p99 = false;
};

struct error_counts {
  std::array<uint64_t, error_class_count> by_class{};
  std::map<unsigned, uint64_t> by_status;
  std::map<std::string, uint64_t> by_kafka_error;

  uint64_t total() const noexcept;
};

class recorder {
 public:
  /// `names` are the histograms (at most max_histograms), `primary` the
  /// index of the one thresholds and progress use.
  recorder(std::vector<std::string> names, size_t primary,
           size_t max_rows = 3600);

  /// The measurement starts (after the warm-up); rows are cut from here.
  void start(steady::time_point t0);
  bool started() const;

  void sent(steady::time_point now);
  void ok(steady::time_point now);
  void error(error_class c, steady::time_point now, unsigned status = 0,
             const std::string& kafka_error = {}, uint64_t times = 1);
  void latency(size_t histogram, std::chrono::nanoseconds d,
               steady::time_point now);
  /// Cuts every row that ended before `now` (call at least once a second).
  void tick(steady::time_point now);
  /// Ends the measurement at `now`: cuts the last, partial row.
  void finish(steady::time_point now);

  progress_snapshot snapshot(steady::time_point now);

  // -- results (after finish) -------------------------------------------------

  const std::vector<std::string>& names() const noexcept { return names_; }
  size_t primary() const noexcept { return primary_; }
  log_histogram histogram(size_t i) const;
  time_series series() const;
  error_counts errors() const;
  uint64_t sent_count() const;
  uint64_t ok_count() const;
  /// Seconds from start to finish (or to the last tick).
  double measured_s() const;

 private:
  void roll(steady::time_point now);
  void cut_row(double t, double dt);

  mutable std::mutex mtx_;
  std::vector<std::string> names_;
  size_t primary_;
  bool started_ = false;
  bool finished_ = false;
  steady::time_point t0_{};
  steady::time_point end_{};
  /// Start of the row being filled, in seconds since t0.
  double row_start_ = 0;
  /// Start of the current one-second window of `recent_`.
  double recent_start_ = 0;

  uint64_t sent_ = 0;
  uint64_t ok_ = 0;
  error_counts errors_;
  std::vector<log_histogram> whole_;
  std::vector<log_histogram> row_;
  series_row pending_{};
  log_histogram recent_;
  double last_p99_ms_ = 0;
  bool has_last_p99_ = false;
  time_series series_;
};

} // namespace distiller::load
