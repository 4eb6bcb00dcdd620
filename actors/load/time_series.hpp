#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

/// The per-interval rows of a load run (sent, ok, errors, and p50/p99 of
/// each latency histogram in that interval), in bounded memory.
///
/// Rows start one second wide. When `max_rows` rows are kept (3,600 by
/// default: an hour), adjacent pairs are merged into rows twice as wide and
/// every later row covers the doubled width, so a day-long run keeps at most
/// 3,600 rows of 32 s. A merged row adds the counts; its p50 is the
/// count-weighted mean of the two p50s (an approximation) and its p99 the
/// larger of the two (an upper bound of the true p99 of the merged
/// interval: at most 1 % of either half lies above it). Plain data.
namespace distiller::load {

/// The most latency histograms one workload records.
inline constexpr size_t max_histograms = 4;

struct row_latency {
  uint64_t count = 0;
  /// Milliseconds; 0 when count is 0.
  double p50_ms = 0;
  double p99_ms = 0;

  bool operator==(const row_latency&) const = default;
};

struct series_row {
  /// Seconds since the measurement started, and the row's width.
  double t = 0;
  double dt = 1;
  uint64_t sent = 0;
  uint64_t ok = 0;
  uint64_t errors = 0;
  std::array<row_latency, max_histograms> latency{};

  bool operator==(const series_row&) const = default;
};

class time_series {
 public:
  explicit time_series(size_t max_rows = 3600);

  /// Appends a finished row of width `width()` (merging first when full).
  void push(const series_row& row);

  /// The width of the next row, in seconds (1, 2, 4 …).
  double width() const noexcept { return width_; }
  size_t max_rows() const noexcept { return max_rows_; }
  const std::vector<series_row>& rows() const noexcept { return rows_; }

  /// Two rows as one (see above).
  static series_row merge(const series_row& a, const series_row& b);

 private:
  size_t max_rows_;
  double width_ = 1;
  std::vector<series_row> rows_;
};

} // namespace distiller::load
