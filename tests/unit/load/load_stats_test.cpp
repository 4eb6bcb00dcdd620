// The load tool's statistics: the log-linear histogram against a sorted
// reference (every percentile within 1 %), merging, its fixed size; the
// bounded time series; the recorder's rows and errors.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <type_traits>
#include <vector>

#include "actors/load/histogram.hpp"
#include "actors/load/recorder.hpp"
#include "actors/load/time_series.hpp"

namespace {

using namespace std::chrono_literals;
using distiller::load::log_histogram;
namespace load = distiller::load;

int64_t reference(const std::vector<int64_t>& sorted, double q) {
  auto rank = static_cast<size_t>(std::ceil(q * sorted.size()));
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

void expect_close(int64_t got, int64_t want, double q) {
  // Within 1 % (or 1 µs, the resolution) of the true value.
  auto tolerance = std::max<double>(1.0, 0.01 * static_cast<double>(want));
  EXPECT_LE(std::abs(static_cast<double>(got - want)), tolerance)
      << "q=" << q << " got " << got << " want " << want;
}

TEST(LogHistogram, BucketsCoverOneMicrosecondToAnHour) {
  EXPECT_EQ(log_histogram::index_of(0), 0);
  EXPECT_EQ(log_histogram::index_of(255), 255);
  EXPECT_EQ(log_histogram::index_of(256), 256);
  EXPECT_EQ(log_histogram::index_of(log_histogram::max_trackable),
            log_histogram::bucket_count - 1);
  EXPECT_GT(log_histogram::max_trackable, int64_t{3'600'000'000}); // 1 h
  for (int i = 0; i < log_histogram::bucket_count; ++i) {
    auto lo = log_histogram::lower_of(i);
    auto hi = log_histogram::upper_of(i);
    ASSERT_LE(lo, hi);
    EXPECT_EQ(log_histogram::index_of(lo), i);
    EXPECT_EQ(log_histogram::index_of(hi), i);
    if (i + 1 < log_histogram::bucket_count) {
      EXPECT_EQ(log_histogram::lower_of(i + 1), hi + 1);
    }
    // A counter is at most 1/128 of its values wide.
    EXPECT_LE(static_cast<double>(hi - lo + 1),
              std::max(1.0, static_cast<double>(lo) / 128.0 + 1e-9));
  }
}

TEST(LogHistogram, PercentilesMatchASortedReferenceWithinOnePercent) {
  std::mt19937_64 rng{42};
  // Latencies of a loaded service: log-normal around 5 ms with a long tail,
  // plus a few multi-second outliers.
  std::lognormal_distribution<double> body{std::log(5000.0), 0.9};
  std::vector<int64_t> values;
  log_histogram h;
  for (int i = 0; i < 200000; ++i) {
    auto v = static_cast<int64_t>(body(rng));
    if (i % 997 == 0)
      v = 2'000'000 + i * 10;
    values.push_back(v);
    h.record_us(v);
  }
  std::sort(values.begin(), values.end());
  for (double q : {0.0, 0.1, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 0.9999, 1.0})
    expect_close(h.value_at(q), reference(values, q), q);
  EXPECT_EQ(h.count(), values.size());
  EXPECT_EQ(h.min_us(), values.front());
  EXPECT_EQ(h.max_us(), values.back());
  double sum = 0;
  for (auto v : values)
    sum += static_cast<double>(v);
  EXPECT_NEAR(h.mean_us(), sum / static_cast<double>(values.size()),
              1e-6 * sum);
}

TEST(LogHistogram, UniformValuesOverEveryOctave) {
  std::mt19937_64 rng{7};
  std::uniform_int_distribution<int64_t> d{1, 3'600'000'000};
  std::vector<int64_t> values;
  log_histogram h;
  for (int i = 0; i < 50000; ++i) {
    auto v = d(rng) >> (i % 32); // spread over 1 µs … 1 h
    values.push_back(v);
    h.record_us(v);
  }
  std::sort(values.begin(), values.end());
  for (double q = 0.01; q < 1.0; q += 0.01)
    expect_close(h.value_at(q), reference(values, q), q);
}

TEST(LogHistogram, MergeEqualsRecordingEverythingInOne) {
  std::mt19937_64 rng{3};
  std::exponential_distribution<double> d{1.0 / 20000};
  log_histogram a, b, all;
  for (int i = 0; i < 30000; ++i) {
    auto v = static_cast<int64_t>(d(rng));
    (i % 3 == 0 ? a : b).record_us(v);
    all.record_us(v);
  }
  a.merge(b);
  EXPECT_EQ(a.counts(), all.counts());
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.min_us(), all.min_us());
  EXPECT_EQ(a.max_us(), all.max_us());
  EXPECT_DOUBLE_EQ(a.mean_us(), all.mean_us());
  for (double q : {0.5, 0.9, 0.99, 0.999})
    EXPECT_EQ(a.value_at(q), all.value_at(q));
  log_histogram empty;
  a.merge(empty);
  EXPECT_EQ(a.count(), all.count());
}

TEST(LogHistogram, SizeIsConstantWhateverItRecords) {
  static_assert(std::is_trivially_copyable_v<log_histogram> ||
                sizeof(log_histogram) < 32 * 1024);
  log_histogram h;
  auto before = sizeof(h) + h.counts().size();
  for (int64_t i = 0; i < 5'000'000; ++i)
    h.record_us(i * 733 % 10'000'000);
  h.record_us(int64_t{1} << 40); // beyond an hour: clamped, counted
  EXPECT_EQ(sizeof(h) + h.counts().size(), before);
  EXPECT_EQ(h.counts().size(), size_t{log_histogram::bucket_count});
  EXPECT_EQ(h.clamped(), 1u);
  EXPECT_EQ(h.max_us(), log_histogram::max_trackable);
  EXPECT_EQ(h.count(), 5'000'001u);
  h.record(1500us);
  EXPECT_EQ(h.count(), 5'000'002u);
}

TEST(LogHistogram, EmptyAndSingleValue) {
  log_histogram h;
  EXPECT_EQ(h.value_at(0.99), 0);
  EXPECT_EQ(h.mean_us(), 0);
  h.record_us(12345);
  for (double q : {0.0, 0.5, 0.99, 1.0})
    EXPECT_EQ(h.value_at(q), 12345);
}

TEST(TimeSeries, MergesAdjacentRowsWhenFullAndDoublesTheWidth) {
  load::time_series ts{8};
  for (int i = 0; i < 8; ++i) {
    load::series_row r;
    r.t = i;
    r.dt = 1;
    r.sent = 10;
    r.ok = 9;
    r.errors = 1;
    r.latency[0] = {9, 1.0 + i, 10.0 + i};
    ts.push(r);
  }
  EXPECT_EQ(ts.rows().size(), 8u);
  EXPECT_EQ(ts.width(), 1);
  load::series_row ninth;
  ninth.t = 8;
  ts.push(ninth);
  ASSERT_EQ(ts.rows().size(), 5u);
  EXPECT_EQ(ts.width(), 2);
  auto& m = ts.rows()[0];
  EXPECT_EQ(m.t, 0);
  EXPECT_EQ(m.dt, 2);
  EXPECT_EQ(m.sent, 20u);
  EXPECT_EQ(m.ok, 18u);
  EXPECT_EQ(m.errors, 2u);
  EXPECT_EQ(m.latency[0].count, 18u);
  EXPECT_DOUBLE_EQ(m.latency[0].p50_ms, 1.5);  // count-weighted mean
  EXPECT_DOUBLE_EQ(m.latency[0].p99_ms, 11.0); // the larger: an upper bound
  EXPECT_EQ(ts.rows()[3].t, 6);
}

TEST(TimeSeries, ADayStaysBounded) {
  load::time_series ts; // 3,600 rows
  double t = 0;
  for (int i = 0; i < 86400; ++i) {
    load::series_row r;
    r.t = t;
    r.dt = ts.width();
    t += r.dt;
    ts.push(r);
    if (t >= 86400)
      break;
  }
  EXPECT_LE(ts.rows().size(), 3600u);
  EXPECT_GE(ts.width(), 16);
  EXPECT_NEAR(ts.rows().back().t + ts.rows().back().dt, 86400, 64);
}

TEST(Recorder, CutsRowsPerSecondAndKeepsTheWholeRun) {
  load::recorder rec{{"req", "done"}, 0, 3600};
  auto t0 = load::steady::now();
  rec.start(t0);
  for (int s = 0; s < 3; ++s) {
    for (int i = 0; i < 10; ++i) {
      auto at =
          t0 + std::chrono::seconds{s} + std::chrono::milliseconds{i * 50};
      rec.sent(at);
      rec.ok(at);
      rec.latency(0, std::chrono::milliseconds{1 + s}, at);
    }
  }
  rec.error(load::error_class::http_5xx, t0 + 2500ms, 503);
  rec.error(load::error_class::unsent, t0 + 2600ms, 0, {}, 4);
  auto snap = rec.snapshot(t0 + 2700ms);
  EXPECT_TRUE(snap.has_p99);
  EXPECT_NEAR(snap.p99_ms, 2.0, 0.02); // the last full second
  rec.finish(t0 + 3100ms);
  auto rows = rec.series().rows();
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].sent, 10u);
  EXPECT_NEAR(rows[1].latency[0].p99_ms, 2.0, 0.02);
  EXPECT_EQ(rows[2].errors, 5u);
  EXPECT_EQ(rec.histogram(0).count(), 30u);
  EXPECT_EQ(rec.histogram(1).count(), 0u);
  auto e = rec.errors();
  EXPECT_EQ(e.total(), 5u);
  EXPECT_EQ(e.by_status.at(503), 1u);
  EXPECT_NEAR(rec.measured_s(), 3.1, 1e-6);
  // Nothing is recorded after the end.
  rec.sent(t0 + 4s);
  EXPECT_EQ(rec.sent_count(), 30u);
}

} // namespace
