#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <caf/actor.hpp>

#include "bridges/kafka/compression.hpp"
#include "bridges/kafka/dispatch_queue.hpp"
#include "bridges/kafka/record_worker.hpp"
#include "runtime/core/backoff.hpp"
#include "runtime/inspect/registry.hpp"
#include "runtime/inspect/trace_ring.hpp"
#include "runtime/metrics/metrics.hpp"
#include "runtime/supervision/supervisor.hpp"

/// The typed API a pipeline uses to bind a Kafka topic to a pool of worker
/// actors: what to consume, in which group, with which ordering, how many
/// workers and how to build one, how to retry, where dead letters go, and the
/// limits that keep memory bounded. Pass it to `spawn_source_bridge`
/// (source_bridge.hpp); see docs/kafka-bridge.md for an example.
namespace distiller::kafka {

using namespace std::chrono_literals;

struct source_binding {
  /// Pool name: metrics label `bridge=<name>`, worker registry names
  /// "<name>-worker-<i>", the pool supervisor "<name>", the bridge actor
  /// "<name>-source".
  std::string name;
  std::string topic;
  std::string group;
  ordering mode = ordering::key;
  int pool_size = 4;
  /// Builds one worker actor, `record_worker_actor` (record_worker.hpp);
  /// called at start and by the pool supervisor after every crash.
  worker_factory worker;
  /// Attempts in total (first try included) and the delays between them.
  backoff_policy retry{3, 100ms, 2.0, 10s, 0.2};
  /// Empty means "<topic>.dlq".
  std::string dead_letter_topic;
  /// Records at workers and not finished, per bridge …
  size_t max_in_flight = 1000;
  /// … and per partition.
  size_t max_in_flight_per_partition = 500;
  /// Polled and unfinished records of the whole bridge, poll batches not yet
  /// taken from its mailbox included; at this many the poll thread stops
  /// fetching (nothing is paused or fetched twice), at half of it it goes on.
  /// Records of paused partitions do not count (they are bounded by the
  /// per-partition limit). 0: no bridge-wide limit.
  size_t max_buffered = 16384;
  /// Polled and unfinished records of one partition; at this many the
  /// partition is paused, below half of it resumed, so that a partition
  /// stuck behind a slow or retried record does not hold up the others. With
  /// a bridge-wide limit, the limit in effect is at most 3/4 of it
  /// (`partition_buffer_limit`).
  size_t max_buffered_per_partition = 12288;
  /// The per-partition limit in effect.
  size_t partition_buffer_limit() const noexcept {
    if (max_buffered == 0)
      return max_buffered_per_partition;
    auto cap = max_buffered / 4 * 3;
    return cap < 2
               ? 2
               : (max_buffered_per_partition < cap ? max_buffered_per_partition
                                                   : cap);
  }
  /// Most records in one batch sent to one worker.
  size_t max_batch = 256;
  /// Batches a worker may have outstanding (the next one waits in its
  /// mailbox while it works on the current one).
  size_t max_batches_per_worker = 2;
  /// Most records one poll of the consumer returns (Kafka's
  /// max.poll.records): the step in which the poll thread hands records over.
  size_t max_poll_records = 2000;
  std::chrono::milliseconds commit_interval{1000};
  /// How long a revoke or a shutdown waits for records running at workers.
  std::chrono::milliseconds drain_timeout{10000};
  /// A partition with records waiting that nothing holds back (no pause,
  /// no hold of the bridge-wide limit) and whose consumer position has not
  /// moved for this long is sought to its own position, which restarts its
  /// fetch, and logged as `partition_stalled`; 0 = off.
  std::chrono::milliseconds stall_after{30000};
  /// A batch not answered within this is a failure of every record in it;
  /// the worker is killed and restarted by its supervisor.
  std::chrono::milliseconds worker_timeout{30000};
  /// cooperative-sticky assignment instead of range,roundrobin.
  bool cooperative = false;
  /// earliest | latest | error
  std::string auto_offset_reset = "earliest";
  /// Raw librdkafka consumer properties, applied last (they win).
  std::map<std::string, std::string> consumer_properties;
  /// Restart intensity of the worker pool's supervisor.
  supervision::restart_policy pool_policy{50, 10s, 5s};

  /// The dead-letter topic in effect.
  std::string dlq_topic() const {
    return dead_letter_topic.empty() ? topic + ".dlq" : dead_letter_topic;
  }
};

/// Checks a binding once, before spawning; returns the problems found, each
/// naming the field ("pool_size must be 1..1024, got 0"). Empty means valid.
std::vector<std::string> validate(const source_binding& b);

/// Called by the consumer's thread for every offset commit it issues, before
/// sending it (`sync` for the commits on revoke and shutdown). For tests and
/// audits; must be thread-safe and fast.
using commit_observer =
    std::function<void(int32_t partition, int64_t offset, bool sync)>;

/// What a bridge reports to and produces through; all optional, and all must
/// outlive the bridge.
struct bridge_deps {
  /// The inspection registry (the bridge, its pool and workers enroll).
  /// Required: the pool's supervisor needs it.
  inspect::registry* actors = nullptr;
  metrics::node_metrics* metrics = nullptr;
  /// Reserved for the sink bridge (produce_atom, out_record → delivery),
  /// which is not wired yet: today every bridge owns a small idempotent
  /// producer (acks=all) for its dead letters and logs dlq_sink_ignored if
  /// this is set.
  caf::actor dlq_sink;
  commit_observer on_commit;
  /// The codec of each dead-letter topic (compression.hpp; the pipelines
  /// pass the node's catalog plan). Default: snappy for every topic.
  compression_plan codecs;
  /// The node's trace ring (null: off). The bridge records each dead letter
  /// (what = "dead_letter"); its workers record each record they run only if
  /// their factory got the ring too (`record_worker_options::trace`).
  inspect::trace_ring* trace = nullptr;
};

} // namespace distiller::kafka
