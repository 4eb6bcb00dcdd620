#pragma once

#include <atomic>
#include <chrono>
#include <ostream>
#include <string>

#include "bridges/kafka/kafka_config.hpp"
#include "bridges/kafka_tools/session.hpp"

/// `distiller kafka e2e`: seed 004's end-to-end workflow as one command.
///
///   1. cluster: `--brokers` (kafka.brokers) if configured; the running
///      node's embedded cluster with --use-node; otherwise an in-process
///      embedded cluster started for this run alone (self-contained, needs
///      nothing running, and the only way to get an exact partition count
///      from a mock);
///   2. topic: created with the requested partitions (CreateTopics on a real
///      cluster, the mock's own call in process). A mock reached over the
///      network (a node's, or --brokers pointing at one) has no CreateTopics:
///      an existing topic is used as it is, a missing one is auto-created by
///      a Metadata request (4 partitions) and the report says so;
///   3. produce N keyed records (idempotent, acks=all);
///   4. consume them in a fresh group from the beginning, verifying every
///      record arrived exactly once, at the partition and offset its delivery
///      report named, and the per-partition counts (keys carry a run id, so
///      records of earlier runs in a reused topic are skipped, not counted);
///   5. commit, then check the committed offsets (lag 0);
///   6. delete the topic with --cleanup (DeleteTopics; the mock cannot, which
///      is reported; an in-process cluster goes away with the run).
/// Prints a step-by-step report; returns 0 if every check passed, else 1.
namespace distiller::kafka::tools {

struct e2e_options {
  int partitions = 3;
  int64_t messages = 100;
  /// Empty: "distiller-e2e-<random>".
  std::string topic;
  bool cleanup = false;
  /// Use the running node's embedded cluster instead of an in-process one.
  bool use_node = false;
  /// Upper bound for consuming everything (the group join alone takes ~3 s
  /// on the mock).
  std::chrono::milliseconds consume_timeout{60'000};
};

/// `data_dir` is node.data_dir (for --use-node).
int run_e2e(const kafka_config& cfg, const std::string& data_dir,
            const e2e_options& o, std::ostream& out,
            const std::atomic<bool>* stop = nullptr);

} // namespace distiller::kafka::tools
