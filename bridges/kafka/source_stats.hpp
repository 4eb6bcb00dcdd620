#pragma once

/// The plain-data snapshot a source bridge returns to `(stats_atom)`:
/// counters, latencies, the pool and, per assigned partition, offsets and
/// lag. Serializable (CAF `inspect` overloads), so that a node can answer for
/// its bridges to another node.

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

namespace distiller::kafka {

/// One assigned partition of a source bridge.
struct partition_stats {
  int32_t partition = 0;
  /// The last offset this bridge committed for it (Kafka's "next offset to
  /// read"); until it commits one in this assignment, the group's committed
  /// offset (a short query to the coordinator); -1 when neither is known.
  int64_t committed = -1;
  /// The leader's high watermark (a short query when stats are asked for;
  /// the last fetch response's if that fails); -1 when unknown.
  int64_t high_watermark = -1;
  /// The offset of the next record the consumer will hand to the bridge
  /// (librdkafka's position); -1 before the first record.
  int64_t position = -1;
  /// high_watermark - committed; with no committed offset at all,
  /// high_watermark - position, or before the first record high - low
  /// watermark; -1 when unknown.
  int64_t lag = -1;
  /// Paused in librdkafka by the bridge: back-pressure or an operator's
  /// pause.
  bool paused = false;
  bool operator==(const partition_stats&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, partition_stats& x) {
  return f(caf::meta::type_name("partition_stats"), x.partition, x.committed,
           x.high_watermark, x.position, x.lag, x.paused);
}

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
  /// The pool size in effect (the last `scale_atom`, else the binding's);
  /// retiring workers still finishing their batches do not count.
  int32_t pool_size = 0;
  /// Workers with at least one batch outstanding (retiring ones included).
  int32_t busy_workers = 0;
  /// An operator paused the binding (`pause_atom`).
  bool operator_paused = false;
  /// Per assigned partition, ascending.
  std::vector<partition_stats> partitions;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, source_stats& x) {
  return f(caf::meta::type_name("source_stats"), x.consumed, x.processed,
           x.retried, x.dead_lettered, x.failed_attempts, x.dropped, x.batches,
           x.in_flight, x.max_in_flight, x.buffered, x.paused_partitions,
           x.pauses, x.resumes, x.fetch_holds, x.assigns, x.revokes, x.commits,
           x.assigned, x.ack_p50_ns, x.ack_p99_ns, x.processing_p50_ns,
           x.processing_p99_ns, x.state, x.pool_size, x.busy_workers,
           x.operator_paused, x.partitions);
}

} // namespace distiller::kafka
