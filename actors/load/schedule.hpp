#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

/// When a load run sends its requests (pure, clock passed in).
///
/// Open model (default): request i is planned for start + i / rate whatever
/// happened to the others, and its latency is measured from that planned
/// time — so a request that waited for a free connection, or behind a slow
/// answer, counts its wait (no coordinated omission, as in wrk2). The
/// backlog is never materialised: a free connection takes the oldest due
/// index, so the memory is O(1) however far behind the target falls.
///
/// Closed model (--concurrency C): C workers send back to back; a request
/// is planned when a worker becomes free.
///
/// Bounds: the warm-up runs from start for `warmup` (not counted); then the
/// measurement, until `duration` has passed (by planned time) and/or
/// `count` counted requests were issued, whichever comes first.
namespace distiller::load {

using steady = std::chrono::steady_clock;

struct schedule_options {
  bool closed = false;
  /// Requests per second (open model).
  double rate = 10;
  /// Workers (closed model).
  int concurrency = 1;
  std::chrono::nanoseconds warmup{0};
  /// 0: no time bound.
  std::chrono::nanoseconds duration{0};
  /// 0: no count bound.
  uint64_t count = 0;
};

class schedule {
 public:
  struct slot {
    uint64_t index = 0;
    steady::time_point planned{};
    /// False during the warm-up.
    bool counted = true;
  };

  schedule(const schedule_options& o, steady::time_point start);

  /// Planned time of request i (open model).
  steady::time_point planned(uint64_t i) const noexcept;

  /// The request to send now, if one is due and the bounds allow it;
  /// `in_flight` is what the closed model's workers are busy with.
  std::optional<slot> next_due(steady::time_point now, int in_flight) const;

  /// `next_due`'s request was sent.
  void issued(const slot& s) noexcept;

  /// When the next request becomes due (open model, bounds not reached);
  /// for the closed model or when done, nullopt.
  std::optional<steady::time_point> next_time() const noexcept;

  /// No request will be due any more.
  bool exhausted(steady::time_point now) const noexcept;

  steady::time_point start() const noexcept { return start_; }
  steady::time_point measure_start() const noexcept {
    return start_ + opts_.warmup;
  }
  /// measure_start + duration; for the open model with only a count, the
  /// end of the count's planned times; max() without either bound.
  steady::time_point measure_end() const noexcept;

  uint64_t issued_total() const noexcept { return next_; }
  uint64_t issued_counted() const noexcept { return counted_; }
  const schedule_options& options() const noexcept { return opts_; }

 private:
  bool within(steady::time_point planned) const noexcept;

  schedule_options opts_;
  steady::time_point start_;
  uint64_t next_ = 0;
  uint64_t counted_ = 0;
};

} // namespace distiller::load
