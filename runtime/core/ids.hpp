#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "runtime/core/named_type.hpp"

namespace distiller {

// -- identifiers that travel between actors, Kafka and PostgreSQL
// --------------

using trace_id = named_type<std::string, struct trace_id_tag>;
using job_id = named_type<std::string, struct job_id_tag>;
using chunk_id = named_type<std::string, struct chunk_id_tag>;
using user_id = named_type<std::string, struct user_id_tag>;
using thought_id = named_type<std::string, struct thought_id_tag>;
using topic_name = named_type<std::string, struct topic_name_tag>;
using partition_id = named_type<int32_t, struct partition_id_tag>;
using kafka_offset = named_type<int64_t, struct kafka_offset_tag>;

/// Returns a fresh random trace id: 32 lowercase hex digits (W3C trace-id).
trace_id make_trace_id();

/// Returns a fresh random UUID (version 4) in its canonical text form.
std::string make_uuid();

/// True for a UUID in canonical text form (8-4-4-4-12 hex digits, any
/// case); PostgreSQL would reject anything else as `uuid`.
bool is_uuid(std::string_view text) noexcept;

/// Name of the Kafka header that carries the trace id between processes.
inline constexpr const char* trace_header = "x-trace-id";

} // namespace distiller
