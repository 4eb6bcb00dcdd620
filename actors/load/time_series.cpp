#include "actors/load/time_series.hpp"

#include <algorithm>
#include <cmath>

namespace distiller::load {

time_series::time_series(size_t max_rows)
    : max_rows_(std::max<size_t>(max_rows, 2)) {
  rows_.reserve(max_rows_);
}

series_row time_series::merge(const series_row& a, const series_row& b) {
  series_row out;
  out.t = a.t;
  out.dt = a.dt + b.dt;
  out.sent = a.sent + b.sent;
  out.ok = a.ok + b.ok;
  out.errors = a.errors + b.errors;
  for (size_t i = 0; i < max_histograms; ++i) {
    auto& x = a.latency[i];
    auto& y = b.latency[i];
    auto& z = out.latency[i];
    z.count = x.count + y.count;
    if (z.count == 0)
      continue;
    // Rounded to whole microseconds, like every latency in the report.
    z.p50_ms = std::round((x.p50_ms * static_cast<double>(x.count) +
                           y.p50_ms * static_cast<double>(y.count)) /
                          static_cast<double>(z.count) * 1000.0) /
               1000.0;
    z.p99_ms = std::max(x.count ? x.p99_ms : 0.0, y.count ? y.p99_ms : 0.0);
  }
  return out;
}

void time_series::push(const series_row& row) {
  if (rows_.size() >= max_rows_) {
    // Halve in place: rows 2k and 2k+1 become row k; an odd last row stays.
    size_t n = rows_.size();
    size_t out = 0;
    for (size_t i = 0; i + 1 < n; i += 2)
      rows_[out++] = merge(rows_[i], rows_[i + 1]);
    if (n % 2 == 1)
      rows_[out++] = rows_[n - 1];
    rows_.resize(out);
    width_ *= 2;
  }
  rows_.push_back(row);
}

} // namespace distiller::load
