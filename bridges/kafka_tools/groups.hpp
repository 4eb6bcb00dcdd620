#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "bridges/kafka_tools/offsets.hpp"
#include "bridges/kafka_tools/session.hpp"

/// `distiller groups list|describe|lag|reset-offsets`, in the spirit of
/// kafka-consumer-groups.
///
/// `list` and `describe` use ListGroups/DescribeGroups (rd_kafka_list_groups),
/// which librdkafka's mock cluster does not implement: there they say so
/// (describe still prints the group's committed offsets and lag). `lag` and
/// `reset-offsets` work everywhere (committed offsets and watermarks; see
/// offsets.hpp). `reset-offsets` prints its plan and commits it only with
/// --execute. Every function prints to `out` and returns the exit code.
namespace distiller::kafka::tools {

/// The partitions a member owns, decoded from its member_assignment bytes
/// (ConsumerProtocolAssignment: int16 version, [topic, [int32 partition]],
/// user data). Nullopt if the bytes are not in that format (another protocol
/// type, or truncated).
struct member_partitions {
  std::string topic;
  std::vector<int32_t> partitions;

  bool operator==(const member_partitions&) const = default;
};
std::optional<std::vector<member_partitions>>
decode_assignment(const void* data, size_t size);

int groups_list(session& s, std::ostream& out);
int groups_describe(session& s, const std::string& group, std::ostream& out);
/// `topic` empty: every topic the group has committed offsets on.
int groups_lag(session& s, const std::string& group, const std::string& topic,
               std::ostream& out);
int groups_reset_offsets(session& s, const std::string& group,
                         const std::string& topic, const reset_spec& spec,
                         bool execute, std::ostream& out);

/// Prints a lag report as a table with the total (shared with `kafka e2e`).
void print_lag(const lag_report& report, std::ostream& out);

} // namespace distiller::kafka::tools
