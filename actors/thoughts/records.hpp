#pragma once

/// The thought pipeline's data as it travels (docs/thought-pipeline.md):
/// the row of a thought, its JSON in the API, the ThoughtCreated record on
/// thought-processing, and the five events of seed 003 on thought-updates
/// and the SSE streams.
///
/// Pure functions, thread-safe. Decoders throw `record_error` naming the
/// topic and the missing or malformed field; a worker turns that into a
/// dead letter at once (the record can never succeed).

#include <array>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "actors/thoughts/agents/agent.hpp"

namespace distiller::thoughts {

namespace topics {
inline constexpr const char* processing = "thought-processing";
inline constexpr const char* updates = "thought-updates";
inline constexpr const char* dead_letters = "thought-processing.dlq";
} // namespace topics

/// The states of a thought, in order (failed is final like completed).
/// Text only at the edges (the `status` column, the API's JSON, the events)
/// through `to_string` and `parse_thought_status`.
enum class thought_status : uint8_t { pending, processing, completed, failed };

/// The wire name ("pending" … "failed").
std::string_view to_string(thought_status s) noexcept;

/// The status a wire name names; nullopt for anything else.
std::optional<thought_status> parse_thought_status(std::string_view) noexcept;

/// The five events (seed 003), the SSE event names.
namespace event_types {
inline constexpr const char* created = "thought_created";
inline constexpr const char* processing = "thought_processing";
inline constexpr const char* agent_completed = "thought_agent_completed";
inline constexpr const char* completed = "thought_completed";
inline constexpr const char* failed = "thought_failed";
} // namespace event_types

class record_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// One row of `thoughts`. Times are RFC 3339 UTC with milliseconds.
struct thought_row {
  std::string thought_id;
  std::string user_id;
  std::string text;
  thought_status status = thought_status::pending;
  int agents_completed = 0;
  int attempts = 0;
  std::optional<std::string> error;
  std::string trace_id;
  std::string created_at;
  std::string updated_at;
  std::optional<std::string> completed_at;
  /// created_at in microseconds since the epoch (the list cursor).
  int64_t created_us = 0;
  /// Each agent's result (JSON text), by agent_kind; empty until it ran.
  std::array<std::optional<std::string>, agent_count> results;
};

/// completed or failed: nothing changes the thought any more.
constexpr bool is_final(thought_status s) noexcept {
  return s == thought_status::completed || s == thought_status::failed;
}

/// The thought as the API shows it: thought_id, user_id, text, status,
/// agents_completed, attempts, error (null unless failed), created_at,
/// updated_at, completed_at (null until final), and classification,
/// analysis, value, plan, summary (each an object, or null until its agent
/// ran).
boost::json::object thought_json(const thought_row& t);

/// The record on thought-processing (key user_id).
struct thought_created {
  std::string thought_id;
  std::string user_id;
  std::string created_at;
  std::string trace_id;
};

std::string encode(const thought_created& x);
thought_created decode_thought_created(std::string_view json);

/// One event of a user's stream, as stored in thought_events.
struct thought_event {
  std::string user_id;
  uint64_t seq = 0;
  std::string thought_id;
  std::string type;
  /// The type's own fields (agent, step, result …).
  boost::json::object body;
  std::string trace_id;
  /// RFC 3339 UTC with milliseconds, and microseconds since the epoch.
  std::string time;
  int64_t time_us = 0;
};

/// The event as SSE data and the thought-updates value: {type, seq,
/// thought_id, user_id, time, trace_id} followed by the body's fields.
std::string encode(const thought_event& e);
thought_event decode_thought_event(std::string_view json);

/// The thought-updates channel of a user in the broadcaster.
std::string user_channel(std::string_view user_id);

/// Microseconds since the epoch of an RFC 3339 UTC time
/// ("2026-12-01T09:30:00.123Z", fraction optional); 0 when malformed.
int64_t parse_time_us(std::string_view rfc3339);

/// The opaque keyset cursor of GET /users/{id}/thoughts, and back
/// (nullopt for anything that is not a cursor this node made).
struct list_cursor {
  int64_t created_us = 0;
  std::string thought_id;
};
std::string encode_cursor(const list_cursor& c);
std::optional<list_cursor> decode_cursor(std::string_view text);

} // namespace distiller::thoughts
