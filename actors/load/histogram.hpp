#pragma once

#include <array>
#include <chrono>
#include <cstdint>

/// A log-linear latency histogram (HdrHistogram's layout, written here):
/// a fixed array of 3,328 counters covering 1 µs … 2^32 µs (71 minutes),
/// so its size never depends on how many values it saw.
///
/// Values are microseconds. 0…255 µs get one counter each (exact); above,
/// every power of two [2^m, 2^(m+1)) is cut into 128 equal counters of
/// width 2^(m-7), so a counter is at most 1/128 = 0.78 % of its values wide
/// and the midpoint a percentile reports is within 0.4 % of every value in
/// it. Larger values are clamped into the last counter (and counted in
/// `clamped()`); min, max, count and the sum (for the mean) are exact.
///
/// Plain data, not thread-safe; `merge` adds another histogram's counts.
namespace distiller::load {

class log_histogram {
 public:
  /// Exact counters below this value (µs).
  static constexpr int64_t linear_limit = 256;
  /// Counters per power of two above `linear_limit`.
  static constexpr int sub_buckets = 128;
  /// Largest value kept without clamping: 2^32 - 1 µs.
  static constexpr int64_t max_trackable = (int64_t{1} << 32) - 1;
  static constexpr int bucket_count = 256 + (32 - 8) * sub_buckets;

  void record_us(int64_t us, uint64_t times = 1) noexcept;
  void record(std::chrono::nanoseconds d) noexcept {
    record_us((d.count() + 500) / 1000);
  }

  void merge(const log_histogram& other) noexcept;
  void reset() noexcept;

  uint64_t count() const noexcept { return count_; }
  uint64_t clamped() const noexcept { return clamped_; }
  /// Exact extremes (µs); 0 when empty.
  int64_t min_us() const noexcept { return count_ ? min_ : 0; }
  int64_t max_us() const noexcept { return max_; }
  /// Exact mean (µs); 0 when empty.
  double mean_us() const noexcept;

  /// The value at quantile `q` (0…1): the representative of the counter
  /// holding the ceil(q × count)-th smallest value, clamped to [min, max];
  /// q = 1 is the max, q = 0 the min. 0 when empty.
  int64_t value_at(double q) const noexcept;

  /// The counter a value lands in, and a counter's range [lower, upper].
  static int index_of(int64_t us) noexcept;
  static int64_t lower_of(int index) noexcept;
  static int64_t upper_of(int index) noexcept;

  /// The counters themselves (for tests and serialisers).
  const std::array<uint64_t, bucket_count>& counts() const noexcept {
    return counts_;
  }

 private:
  std::array<uint64_t, bucket_count> counts_{};
  uint64_t count_ = 0;
  uint64_t clamped_ = 0;
  int64_t min_ = 0;
  int64_t max_ = 0;
  long double sum_ = 0;
};

} // namespace distiller::load
