#include "actors/load/histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace distiller::load {

int log_histogram::index_of(int64_t us) noexcept {
  if (us < 0)
    us = 0;
  if (us > max_trackable)
    us = max_trackable;
  if (us < linear_limit)
    return static_cast<int>(us);
  auto v = static_cast<uint64_t>(us);
  int m = 63 - std::countl_zero(v); // 8 … 31
  int shift = m - 7;
  return 256 + (m - 8) * sub_buckets +
         static_cast<int>((v >> shift) - sub_buckets);
}

int64_t log_histogram::lower_of(int index) noexcept {
  if (index < linear_limit)
    return index;
  int octave = (index - 256) / sub_buckets; // m - 8
  int sub = (index - 256) % sub_buckets;
  int m = octave + 8;
  return (int64_t{sub_buckets} + sub) << (m - 7);
}

int64_t log_histogram::upper_of(int index) noexcept {
  if (index < linear_limit)
    return index;
  int m = (index - 256) / sub_buckets + 8;
  return lower_of(index) + (int64_t{1} << (m - 7)) - 1;
}

void log_histogram::record_us(int64_t us, uint64_t times) noexcept {
  if (times == 0)
    return;
  if (us < 0)
    us = 0;
  if (us > max_trackable) {
    clamped_ += times;
    us = max_trackable;
  }
  counts_[static_cast<size_t>(index_of(us))] += times;
  if (count_ == 0 || us < min_)
    min_ = us;
  if (us > max_)
    max_ = us;
  count_ += times;
  sum_ += static_cast<long double>(us) * times;
}

void log_histogram::merge(const log_histogram& other) noexcept {
  if (other.count_ == 0)
    return;
  for (size_t i = 0; i < counts_.size(); ++i)
    counts_[i] += other.counts_[i];
  if (count_ == 0 || other.min_ < min_)
    min_ = other.min_;
  max_ = std::max(max_, other.max_);
  count_ += other.count_;
  clamped_ += other.clamped_;
  sum_ += other.sum_;
}

void log_histogram::reset() noexcept {
  counts_.fill(0);
  count_ = clamped_ = 0;
  min_ = max_ = 0;
  sum_ = 0;
}

double log_histogram::mean_us() const noexcept {
  return count_ ? static_cast<double>(sum_ / count_) : 0.0;
}

int64_t log_histogram::value_at(double q) const noexcept {
  if (count_ == 0)
    return 0;
  if (q <= 0)
    return min_;
  if (q >= 1)
    return max_;
  auto rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
  rank = std::clamp<uint64_t>(rank, 1, count_);
  uint64_t seen = 0;
  for (int i = 0; i < bucket_count; ++i) {
    seen += counts_[static_cast<size_t>(i)];
    if (seen >= rank) {
      auto lo = lower_of(i);
      auto mid = lo + (upper_of(i) - lo + 1) / 2;
      if (i < linear_limit)
        mid = lo;
      return std::clamp(mid, min_, max_);
    }
  }
  return max_;
}

} // namespace distiller::load
