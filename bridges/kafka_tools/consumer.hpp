#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "bridges/kafka/in_record.hpp"
#include "bridges/kafka_tools/options.hpp"
#include "bridges/kafka_tools/session.hpp"

/// `distiller consume`: seed 000's consumer test as a tool. Joins a consumer
/// group (assignment strategy range, roundrobin or cooperative-sticky),
/// reports assignments and revocations (so two consumers of one group
/// visibly split the partitions), hands every record to a callback as the
/// `kafka::in_record` a source bridge's worker would see, and
/// commits what was processed: `auto` (librdkafka commits in the
/// background and on close), `manual` (a synchronous commit after every poll
/// batch and before partitions are revoked) or `none`. Offsets are stored
/// only after a record is processed, so a stopped consumer never commits
/// records it did not see (enable.auto.offset.store=false).
///
/// `consumer_run` does the work on the calling thread (rebalance callbacks
/// included) and is reused by `kafka e2e`; `run_consume` adds the seed's
/// output.
namespace distiller::kafka::tools {

/// A partition set change; `owned` is the assignment after it.
struct assignment_change {
  bool assigned = true;
  std::map<std::string, std::vector<int32_t>> partitions;
  std::map<std::string, std::vector<int32_t>> owned;
};

struct consume_callbacks {
  /// Every record, made by `kafka::fill_record` (fetched_record.hpp); the
  /// reference is valid during the call only.
  std::function<void(const in_record&)> on_record;
  std::function<void(const assignment_change&)> on_rebalance;
  /// Consumer errors (a record with an error, a failed commit).
  std::function<void(const std::string&)> on_error;
  /// Checked after every record: true ends the run (stop_reason::done).
  std::function<bool()> done;
  /// Once, when the client exists and has subscribed (before any record).
  std::function<void()> on_subscribed;
};

enum class stop_reason { max_reached, done, idle, interrupted };

struct consume_summary {
  int64_t processed = 0;
  int64_t errors = 0;
  int64_t commits = 0;
  int64_t failed_commits = 0;
  uint64_t bytes = 0;
  std::map<std::string, std::map<int32_t, int64_t>> per_partition;
  /// Whole run, and first to last record.
  double seconds = 0;
  double active_seconds = 0;
  stop_reason reason = stop_reason::interrupted;

  /// Records per second while records were flowing.
  double messages_per_second() const noexcept;
};

/// The librdkafka properties for `o` on top of the session's.
std::map<std::string, std::string>
consumer_properties(const session& s, const consume_options& o);

/// Consumes until `o.max` records, `o.idle_timeout` without records, or
/// `*stop`. Records with errors are counted in the summary; the run itself
/// fails, before reading anything, with `errc::invalid_config` (options
/// that break validate's rules, a property or client librdkafka rejects) or
/// the subscription's error (rdkafka_error, cluster.hpp).
caf::expected<consume_summary>
consumer_run(const session& s, const consume_options& o,
             const consume_callbacks& cb,
             const std::atomic<bool>* stop = nullptr);

/// The command, with seed 000's lines ("📥 Received message:", "Partition:
/// 0, Offset: 0", "📊 Stats: Processed=1, Errors=0") and a summary. Returns
/// 0, or 1 if there were consumer errors or the run could not start
/// ("❌ <reason>").
int run_consume(const session& s, const consume_options& o, std::ostream& out,
                const std::atomic<bool>* stop = nullptr);

/// "Job ID: …, Filename: …" style lines for a value: the seed's fields of a
/// JSON document, else the first bytes of the text (pure; for tests).
std::vector<std::string> summarize_value(const std::string& value);

} // namespace distiller::kafka::tools
