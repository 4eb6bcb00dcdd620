#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "bridges/kafka_tools/session.hpp"

/// Consumer-group offsets and lag, from what every Kafka (the embedded mock
/// included) answers: committed offsets (OffsetFetch, through a consumer
/// configured with the group's group.id that never subscribes) and partition
/// watermarks (ListOffsets). The arithmetic is pure and tested on its own.
namespace distiller::kafka::tools {

/// What `rd_kafka_committed` reports when a group has no offset for a
/// partition (RD_KAFKA_OFFSET_INVALID).
inline constexpr int64_t no_offset = -1001;

/// Records a group still has to consume in a partition.
///   - no committed offset (negative): every retained record, high - low
///     (where the group starts depends on auto.offset.reset; this is the
///     upper bound, as for a new group with "earliest");
///   - committed below the log start (records were deleted by retention):
///     high - low;
///   - committed beyond the end (the log was truncated): 0;
///   - otherwise high - committed.
int64_t compute_lag(int64_t committed, int64_t low, int64_t high) noexcept;

struct partition_lag {
  std::string topic;
  int32_t partition = 0;
  /// Negative: the group has committed nothing here.
  int64_t committed = no_offset;
  int64_t low = 0;
  int64_t high = 0;
  int64_t lag = 0;

  bool has_commit() const noexcept { return committed >= 0; }
};

struct lag_report {
  std::string group;
  std::vector<partition_lag> partitions;

  int64_t total_lag() const noexcept;
};

/// The lag of `group` on `topics` (every partition of each); with `topics`
/// empty, on every non-internal topic where the group has committed
/// something. Unknown topics are an errc::unknown_topic error ("unknown
/// topic <name>"; never asked for by name, which would make the mock create
/// them); a failed OffsetFetch or ListOffsets is a `kafka` error naming the
/// group or partition.
caf::expected<lag_report>
fetch_lag(session& s, const std::string& group,
          const std::vector<std::string>& topics,
          std::chrono::milliseconds timeout = std::chrono::seconds{10});

// -- reset-offsets
// -------------------------------------------------------------

enum class reset_to { earliest, latest, offset };

struct reset_spec {
  reset_to to = reset_to::earliest;
  /// For reset_to::offset.
  int64_t offset = 0;
};

/// The offset a partition is reset to: the log start, the end, or the given
/// offset clamped into [low, high] (as kafka-consumer-groups does).
int64_t reset_target(const reset_spec& spec, int64_t low,
                     int64_t high) noexcept;

struct reset_row {
  std::string topic;
  int32_t partition = 0;
  /// Negative if none.
  int64_t current = no_offset;
  int64_t target = 0;
};

/// The plan for every partition of `topic` (pure, from a lag report of it).
std::vector<reset_row> plan_reset(const lag_report& current,
                                  const std::string& topic,
                                  const reset_spec& spec);

/// Commits the plan's targets for `group`; returns a `kafka` error (its
/// sentence names the group) or none.
/// Like kafka-consumer-groups it commits from outside the group, which Kafka
/// accepts only while the group has no active members (the error then says
/// so). librdkafka 2.0.2's mock refuses such commits for any group it has
/// seen members in (UNKNOWN_MEMBER_ID); on a cluster without a controller
/// (the mock, see cluster_info::has_controller) this then joins the group,
/// commits with the member's generation and leaves (~3 s).
caf::error
commit_offsets(session& s, const std::string& group,
               const std::vector<reset_row>& plan,
               std::chrono::milliseconds timeout = std::chrono::seconds{10});

} // namespace distiller::kafka::tools
