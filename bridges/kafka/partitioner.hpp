#pragma once

/// How a producer picks the partition of a record that names none (a
/// record's explicit `partition` always wins) — one vocabulary for every
/// Distiller producer: the sink bridge (sink_config::partitioner) and
/// `distiller produce --partitioner` (bridges/kafka_tools).
///
/// Pure functions, no state.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace distiller::kafka {

enum class partitioner {
  /// librdkafka's own, by its names: keyed records by murmur2 hash like the
  /// Java client, keyless ones to a random partition (the default).
  murmur2_random,
  /// murmur2 hash; keyless records all hash the empty key.
  murmur2,
  /// CRC32 hash; keyless records all hash the empty key.
  consistent,
  /// CRC32 hash; keyless records to a random partition.
  consistent_random,
  /// FNV-1a hash; keyless records all hash the empty key.
  fnv1a,
  /// FNV-1a hash; keyless records to a random partition.
  fnv1a_random,
  /// Every record to a random partition, keys ignored.
  random,
  /// Java's default partitioner: keyed records by murmur2 hash, keyless
  /// ones stick to one partition per batch (KIP-480).
  sticky,
  /// Records spread evenly over the partitions, keys ignored (so per-key
  /// order is given up).
  round_robin,
};

/// "murmur2_random", "murmur2", "consistent", "consistent_random", "fnv1a",
/// "fnv1a_random", "random", "sticky", "round-robin", or nullopt.
std::optional<partitioner> partitioner_from_name(std::string_view name);

/// The name of `x`, as `partitioner_from_name` reads it.
std::string to_string(partitioner x);

/// Every partitioner's name, in enum order.
const std::vector<std::string>& partitioner_names();

/// The librdkafka producer properties of `x` for a producer whose batches
/// wait `linger_ms`: "partitioner", and "sticky.partitioning.linger.ms"
/// where it matters —
///   sticky      → murmur2_random, keyless records sticking for 2 × linger
///                 (at least 1 ms);
///   round_robin → random with sticky.partitioning.linger.ms = 0: every
///                 record to a uniformly random partition (librdkafka has no
///                 strict round-robin; this spreads load evenly on
///                 average). A producer that knows the partition count can
///                 do strict round-robin itself by naming partitions, as
///                 `distiller produce` does.
///   the others  → librdkafka's partitioner of the same name.
std::map<std::string, std::string> partitioner_properties(partitioner x,
                                                          long long linger_ms);

} // namespace distiller::kafka
