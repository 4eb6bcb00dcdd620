#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <caf/error.hpp>
#include <caf/meta/load_callback.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/none.hpp>

#include "runtime/core/ids.hpp"

/// The plain record types the Kafka bridges exchange with pipelines. They
/// carry no librdkafka handles, so they travel in CAF messages (registered in
/// the `distiller_bridges` type-ID block, bridges/kafka/type_ids.hpp) and
/// serialize for remote nodes through the `inspect` overloads below.
///
/// The types live in `distiller::kafka` and so do their `inspect` overloads:
/// a function named `inspect` directly in namespace `distiller` would clash
/// with the namespace `distiller::inspect`.
namespace distiller::kafka {

// -- headers ------------------------------------------------------------------

/// One Kafka record header. Kafka allows repeated keys, so headers are a
/// list, not a map; values are bytes (any std::string content).
struct kafka_header {
  std::string key;
  std::string value;

  bool operator==(const kafka_header&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, kafka_header& x) {
  return f(caf::meta::type_name("kafka_header"), x.key, x.value);
}

// -- records to produce (sink bridge) -----------------------------------------

/// A record a pipeline asks the sink bridge to produce.
struct out_record {
  /// Destination topic (the transactional stage fills in its output topic
  /// when this is empty).
  std::string topic;
  /// Record key; none = a null key (the partitioner then spreads records).
  std::optional<std::string> key;
  std::string value;
  /// Written in this order. An `x-trace-id` header here is replaced by
  /// `trace` when `trace` is set.
  std::vector<kafka_header> headers;
  /// Explicit partition; none = chosen by the sink's partitioner.
  std::optional<int32_t> partition;
  /// Written as the `x-trace-id` header (distiller::trace_header) unless
  /// empty.
  distiller::trace_id trace;

  bool operator==(const out_record&) const = default;
};

/// CAF 0.17 has no std::optional support: optionals travel as a presence
/// flag plus a value and are rebuilt after loading.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, out_record& x) {
  bool has_key = x.key.has_value();
  std::string key = x.key.value_or(std::string{});
  bool has_partition = x.partition.has_value();
  int32_t partition = x.partition.value_or(-1);
  auto rebuild = caf::meta::load_callback([&]() -> caf::error {
    x.key = has_key ? std::optional<std::string>{std::move(key)} : std::nullopt;
    x.partition =
        has_partition ? std::optional<int32_t>{partition} : std::nullopt;
    return caf::none;
  });
  return f(caf::meta::type_name("out_record"), x.topic, has_key, key, x.value,
           x.headers, has_partition, partition, x.trace, rebuild);
}

/// Where a produced record landed, once the brokers acknowledged it
/// (acks=all: written to every in-sync replica).
struct delivery {
  std::string topic;
  int32_t partition = -1;
  int64_t offset = -1;

  bool operator==(const delivery&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, delivery& x) {
  return f(caf::meta::type_name("delivery"), x.topic, x.partition, x.offset);
}

// -- consumed records (source bridge) -----------------------------------------
//
// Reserved for the source bridge: its `in_record` (a consumed record handed
// to workers) and its inspect overload go here; register it in
// bridges/kafka/type_ids.hpp under the source bridge's section.

} // namespace distiller::kafka
