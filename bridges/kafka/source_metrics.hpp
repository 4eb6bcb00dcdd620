#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "bridges/kafka/source_stats.hpp"
#include "runtime/metrics/metrics.hpp"

/// What a source bridge measures: the Prometheus families (all labelled
/// `bridge=<name>`, per-partition ones also `partition=<n>`), a latency
/// recorder precise enough for percentiles, and (source_stats.hpp) the
/// plain-data snapshot the bridge returns to `(stats_atom)`.
namespace distiller::kafka {

/// The source bridge's Prometheus metrics. Families live in the node's
/// registry (or a private one when the bridge has no node metrics); the
/// metric objects are thread-safe, so the bridge actor and its poll thread
/// both update them.
struct source_metrics {
  source_metrics(metrics::node_metrics* node, const std::string& bridge);

  // -- counters ---------------------------------------------------------------
  prometheus::Counter* consumed;
  prometheus::Counter* processed;
  prometheus::Counter* retried;
  prometheus::Counter* dead_lettered;
  prometheus::Counter* failed_attempts;
  prometheus::Counter* consumer_errors;
  prometheus::Counter* rebalances_assign;
  prometheus::Counter* rebalances_revoke;
  /// Times the bridge-wide limit stopped the poll thread from fetching.
  prometheus::Counter* fetch_holds;

  // -- histograms (seconds) ---------------------------------------------------
  /// Dispatch to a worker → its answer.
  prometheus::Histogram* processing;
  /// Poll → the record is done (processed or dead-lettered).
  prometheus::Histogram* ack_latency;

  // -- gauges -----------------------------------------------------------------
  prometheus::Gauge* in_flight;
  prometheus::Gauge* buffered;
  prometheus::Gauge* paused_partitions;

  /// distiller_bridge_committed_offset{bridge,partition}
  prometheus::Gauge& committed_offset(int32_t partition);
  /// distiller_bridge_lag{bridge,partition}
  prometheus::Gauge& lag(int32_t partition);
  /// Drops a revoked partition's gauges.
  void forget_partition(int32_t partition);

 private:
  std::shared_ptr<prometheus::Registry> own_;
  std::string bridge_;
  prometheus::Family<prometheus::Gauge>* committed_family_;
  prometheus::Family<prometheus::Gauge>* lag_family_;
};

/// Collects observations for a Prometheus histogram on the actor's thread
/// and hands them over in one ObserveMultiple call (one lock instead of one
/// per record).
class histogram_batch {
 public:
  explicit histogram_batch(const std::vector<double>& bounds);
  /// `count` observations of `value`.
  void observe(double value, uint64_t count = 1) noexcept;
  /// Adds what was collected to `h` and starts over.
  void flush(prometheus::Histogram& h);

 private:
  const std::vector<double>& bounds_;
  std::vector<double> counts_;
  double sum_ = 0;
  bool empty_ = true;
};

/// The bucket bounds (seconds) of the bridge's latency histograms.
const std::vector<double>& latency_bucket_bounds();

/// A log-linear latency histogram (16 sub-buckets per power of two, so any
/// percentile is within ~6%), for the p50/p99 the benchmark and the stats
/// report. Not thread-safe; cheap enough to record every record.
class latency_recorder {
 public:
  /// `count` records of `ns`.
  void record(int64_t ns, uint64_t count = 1) noexcept;
  /// The `q`-quantile (0..1) in nanoseconds; 0 when empty.
  int64_t quantile(double q) const noexcept;
  uint64_t count() const noexcept { return count_; }
  void reset() noexcept;

 private:
  static constexpr int sub_bits = 4;
  static constexpr int buckets = 64 << sub_bits;
  static int index_of(uint64_t v) noexcept;
  static uint64_t upper_of(int index) noexcept;
  std::array<uint64_t, buckets> counts_{};
  uint64_t count_ = 0;
};

} // namespace distiller::kafka
