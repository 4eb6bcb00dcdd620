#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "runtime/metrics/metrics.hpp"

/// What a source bridge measures: the Prometheus families (all labelled
/// `bridge=<name>`, per-partition ones also `partition=<n>`), a latency
/// recorder precise enough for percentiles, and the plain-data snapshot the
/// bridge returns to `(stats_atom)`.
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

/// A snapshot of a bridge, the reply to `(stats_atom)`.
struct source_stats {
  uint64_t consumed = 0;
  uint64_t processed = 0;
  uint64_t retried = 0;
  uint64_t dead_lettered = 0;
  uint64_t failed_attempts = 0;
  /// Records polled for partitions no longer owned, or redelivered.
  uint64_t dropped = 0;
  /// Batches sent to workers (processed / batches: records per batch).
  uint64_t batches = 0;
  uint64_t in_flight = 0;
  /// The most records ever at workers at once.
  uint64_t max_in_flight = 0;
  uint64_t buffered = 0;
  uint64_t paused_partitions = 0;
  uint64_t pauses = 0;
  uint64_t resumes = 0;
  /// How often the bridge-wide limit held the poll thread back.
  uint64_t fetch_holds = 0;
  uint64_t assigns = 0;
  uint64_t revokes = 0;
  uint64_t commits = 0;
  std::vector<int32_t> assigned;
  int64_t ack_p50_ns = 0;
  int64_t ack_p99_ns = 0;
  int64_t processing_p50_ns = 0;
  int64_t processing_p99_ns = 0;
  /// running | draining | closing | stopped
  std::string state;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, source_stats& x) {
  return f(caf::meta::type_name("source_stats"), x.consumed, x.processed,
           x.retried, x.dead_lettered, x.failed_attempts, x.dropped, x.batches,
           x.in_flight, x.max_in_flight, x.buffered, x.paused_partitions,
           x.pauses, x.resumes, x.fetch_holds, x.assigns, x.revokes, x.commits,
           x.assigned, x.ack_p50_ns, x.ack_p99_ns, x.processing_p50_ns,
           x.processing_p99_ns, x.state);
}

} // namespace distiller::kafka
