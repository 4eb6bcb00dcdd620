// The OpenAPI descriptions of the thought routes (thought_routes.hpp): their
// parameters, bodies, schemas and error codes, as JSON text. Every error
// response lists the codes it may carry in `x-error-codes`; a test sends
// each bad input to a real node and checks the answer is declared here.

#include <string>

#include <boost/json.hpp>

#include "actors/thoughts/thought_routes.hpp"
#include "bridges/http/openapi.hpp"

namespace distiller::thoughts {

namespace bhttp = boost::beast::http;

namespace {

constexpr std::string_view result_schema = R"J({
  "type": "object", "nullable": true,
  "description": "the agent's result (null until it ran); fields in docs/thought-pipeline.md"
})J";

constexpr std::string_view thought_schema = R"J({
  "type": "object",
  "required": ["thought_id", "user_id", "text", "status", "agents_completed",
               "attempts", "error", "created_at", "updated_at", "completed_at",
               "classification", "analysis", "value", "plan", "summary"],
  "properties": {
    "thought_id": {"type": "string", "format": "uuid"},
    "user_id": {"type": "string", "format": "uuid"},
    "text": {"type": "string"},
    "status": {"type": "string", "enum": ["pending", "processing", "completed", "failed"]},
    "agents_completed": {"type": "integer", "minimum": 0, "maximum": 5},
    "attempts": {"type": "integer", "minimum": 0},
    "error": {"type": "string", "nullable": true, "description": "why it failed (failed only)"},
    "created_at": {"type": "string", "format": "date-time"},
    "updated_at": {"type": "string", "format": "date-time"},
    "completed_at": {"type": "string", "format": "date-time", "nullable": true},
    "classification": {"$ref": "#/components/schemas/AgentResult"},
    "analysis": {"$ref": "#/components/schemas/AgentResult"},
    "value": {"$ref": "#/components/schemas/AgentResult"},
    "plan": {"$ref": "#/components/schemas/AgentResult"},
    "summary": {"$ref": "#/components/schemas/AgentResult"}
  }
})J";

constexpr std::string_view accepted_schema = R"J({
  "type": "object",
  "required": ["thought_id", "user_id", "status", "message", "created_at"],
  "properties": {
    "thought_id": {"type": "string", "format": "uuid"},
    "user_id": {"type": "string", "format": "uuid"},
    "status": {"type": "string", "enum": ["pending"]},
    "message": {"type": "string", "example": "Processing started"},
    "created_at": {"type": "string", "format": "date-time"}
  }
})J";

constexpr std::string_view list_schema = R"J({
  "type": "object",
  "required": ["thoughts", "next", "limit"],
  "properties": {
    "thoughts": {"type": "array", "items": {"$ref": "#/components/schemas/Thought"},
                 "description": "newest first"},
    "next": {"type": "string", "nullable": true,
             "description": "pass as ?before= for the next page; null on the last"},
    "limit": {"type": "integer"}
  }
})J";

constexpr std::string_view event_schema = R"J({
  "type": "object",
  "required": ["type", "seq", "thought_id", "user_id", "time", "trace_id"],
  "description": "One SSE event's data; `seq` is also the SSE id. thought_created adds text, status, created_at; thought_processing adds status, attempt, agents_completed; thought_agent_completed adds agent, result_name, step, total_steps, result, backend, duration_ms; thought_completed adds status, agents_completed, thought; thought_failed adds status, error, attempts, agents_completed.",
  "properties": {
    "type": {"type": "string", "enum": ["thought_created", "thought_processing",
             "thought_agent_completed", "thought_completed", "thought_failed"]},
    "seq": {"type": "integer", "minimum": 1, "description": "per-user sequence number, 1, 2, 3 …"},
    "thought_id": {"type": "string", "format": "uuid"},
    "user_id": {"type": "string", "format": "uuid"},
    "time": {"type": "string", "format": "date-time"},
    "trace_id": {"type": "string"}
  }
})J";

constexpr std::string_view submit_op = R"J({
  "tags": ["thoughts"],
  "summary": "Submit a thought for the five agents",
  "description": "Stores the thought and answers at once; classify → analyse → value → plan → summarise run in order (a user's thoughts one after the other), each step streamed on /thoughts/stream/{user_id}. Accepted also while Kafka is down: the thought waits in the outbox.",
  "requestBody": {
    "required": true,
    "content": {"application/json": {"schema": {
      "type": "object", "required": ["text", "user_id"],
      "properties": {"text": {"type": "string", "maxLength": MAXCHARS},
                     "user_id": {"type": "string", "format": "uuid"}}}}}
  },
  "responses": {
    "202": {"description": "accepted; Location names the thought",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ThoughtAccepted"}}}},
    "400": {"description": "not a JSON object, or text missing or blank",
            "x-error-codes": ["invalid_json", "invalid_text"],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    "403": {"description": "a user=<uuid> API token for another user (auth.tokens)",
            "x-error-codes": ["forbidden"],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    "413": {"description": "text longer than the limit, or a body larger than the route allows",
            "x-error-codes": ["text_too_long", "payload_too_large"],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    "422": {"description": "user_id missing or not a UUID",
            "x-error-codes": ["invalid_user_id"],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    "503": {"description": "the database is unavailable or the API queue is full (Retry-After)",
            "x-error-codes": ["unavailable"],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
  }
})J";

constexpr std::string_view get_op = R"J({
  "tags": ["thoughts"],
  "summary": "One thought: status, progress, each agent's result",
  "parameters": [{"name": "thought_id", "in": "path", "required": true,
                  "schema": {"type": "string", "format": "uuid"}}],
  "responses": {
    "200": {"description": "the thought",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thought"}}}},
    "404": {"description": "no such thought (or, for a user=<uuid> API token, another user's)",
            "x-error-codes": ["not_found"],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    "503": {"description": "the database is unavailable",
            "x-error-codes": ["unavailable"],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
  }
})J";

constexpr std::string_view list_op = R"J({
  "tags": ["thoughts"],
  "summary": "A user's thoughts, newest first (keyset pagination)",
  "parameters": [
    {"name": "user_id", "in": "path", "required": true,
     "schema": {"type": "string", "format": "uuid"}},
    {"name": "limit", "in": "query", "description": "page size",
     "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}},
    {"name": "before", "in": "query", "description": "the `next` of the previous page",
     "schema": {"type": "string"}}
  ],
  "responses": {
    "200": {"description": "one page",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ThoughtList"}}}},
    "403": {"description": "a user=<uuid> API token for another user (auth.tokens)",
            "x-error-codes": ["forbidden"],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    "422": {"description": "user_id not a UUID, limit out of range, or a cursor this node did not make",
            "x-error-codes": ["invalid_user_id", "invalid_limit", "invalid_cursor"],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    "503": {"description": "the database is unavailable",
            "x-error-codes": ["unavailable"],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
  }
})J";

constexpr std::string_view stream_op = R"J({
  "tags": ["thoughts"],
  "summary": "Server-Sent Events of a user's thoughts, resumable",
  "description": "Every event has `id: <seq>` (the user's sequence number) and `event: <type>`. With Last-Event-ID (header, or ?last_event_id=) the missed events are replayed first, then live ones follow — no gap, no duplicate. `event: ready` (id = the position reached) follows the replay; `event: reset` means the position cannot be replayed (refetch state); `event: closing` comes before the server ends the stream (slow_client, server_stopping). `: ping` comments are heartbeats (sse.heartbeat).",
  "parameters": [
    {"name": "user_id", "in": "path", "required": true,
     "schema": {"type": "string", "format": "uuid"}},
    {"name": "last_event_id", "in": "query", "description": "resume after this event id (like the Last-Event-ID header)",
     "schema": {"type": "integer", "minimum": 0}},
    {"name": "Last-Event-ID", "in": "header", "schema": {"type": "integer", "minimum": 0}}
  ],
  "responses": {
    "200": {"description": "the event stream; each pipeline event's data is a ThoughtEvent",
            "content": {"text/event-stream": {"schema": {"$ref": "#/components/schemas/ThoughtEvent"}}}},
    "400": {"description": "Last-Event-ID not a number",
            "x-error-codes": ["invalid_last_event_id"],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    "403": {"description": "a user=<uuid> API token for another user (auth.tokens)",
            "x-error-codes": ["forbidden"],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    "422": {"description": "user_id not a UUID",
            "x-error-codes": ["invalid_user_id"],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    "503": {"description": "over the node's or the user's stream cap (Retry-After), or no broadcaster on this node",
            "x-error-codes": ["unavailable"],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
  }
})J";

} // namespace

void describe_thought_routes(http::openapi_spec& spec, int max_text_chars) {
  spec.add_schema("AgentResult", result_schema);
  spec.add_schema("Thought", thought_schema);
  spec.add_schema("ThoughtAccepted", accepted_schema);
  spec.add_schema("ThoughtList", list_schema);
  spec.add_schema("ThoughtEvent", event_schema);
  std::string submit{submit_op};
  auto at = submit.find("MAXCHARS");
  submit.replace(at, 8, std::to_string(max_text_chars));
  spec.describe(bhttp::verb::post, "/thoughts", submit);
  spec.describe(bhttp::verb::get, "/thoughts/{thought_id}", get_op);
  spec.describe(bhttp::verb::get, "/users/{user_id}/thoughts", list_op);
  spec.describe(bhttp::verb::get, "/thoughts/stream/{user_id}", stream_op);
}

} // namespace distiller::thoughts
