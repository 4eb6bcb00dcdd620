#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <librdkafka/rdkafka.h>

#include "bridges/kafka/in_record.hpp"

/// How a message fetched with librdkafka becomes an `in_record`: the one
/// conversion of every consumer in the code base — the source bridge's poll
/// thread (consumer_loop.hpp) and the Kafka tools' consumers
/// (bridges/kafka_tools/consumer.hpp) — so a tool shows a record exactly as
/// a worker sees it, trace id included.
namespace distiller::kafka {

/// The hash of a topic's name that `fill_record` derives trace ids from;
/// compute it once per topic.
uint64_t topic_hash(std::string_view topic) noexcept;

/// Overwrites every field of `r` with fetched message `m` (still owned by
/// the caller; `topic` is its topic, `hash` its `topic_hash`). `r` may be a
/// spare record from a pool: assigning into its strings reuses their
/// capacity. A null key stays nullopt, a null value or header value becomes
/// an empty string, `attempt` is 1. The trace id is the first non-empty
/// `x-trace-id` header, else derived from topic, partition and offset, so
/// every delivery of the record (retries, redelivery after a crash, its dead
/// letter) shares one id — and cheap, unlike a random id per record.
void fill_record(in_record& r, const std::string& topic, uint64_t hash,
                 const rd_kafka_message_t* m);

} // namespace distiller::kafka
