#pragma once

/// The thought pipeline's HTTP routes (seed 003), answered through a
/// `thought_service`:
///
///   POST /thoughts                        {text, user_id} → 202
///   GET  /thoughts/{thought_id}           → the thought with its results
///   GET  /users/{user_id}/thoughts        ?limit=&before= → newest first
///   GET  /thoughts/stream/{user_id}       → SSE: the user's events
///
/// Bodies, codes and the event format: docs/thought-pipeline.md; with
/// `api_docs` set the routes also describe themselves in /openapi.json.
///
/// Threads: handlers validate on the I/O thread and call the service, which
/// answers on its own threads.
/// Failure: bad input is answered before the service is called — 400
/// invalid_json / invalid_text / invalid_last_event_id, 413 text_too_long,
/// 422 invalid_user_id / invalid_limit / invalid_cursor; unknown ids 404
/// not_found; service errors as they come (503 unavailable with
/// Retry-After). Every error body is {"error": …, "detail": …}.

#include <memory>

#include "actors/thoughts/service.hpp"

namespace distiller::http {
class openapi_spec;
class router;
} // namespace distiller::http

namespace distiller::thoughts {

struct thought_routes_config {
  /// When set, the routes add their descriptions to this OpenAPI spec.
  std::shared_ptr<http::openapi_spec> api_docs;
};

void add_thought_routes(http::router& r, std::shared_ptr<thought_service> svc,
                        thought_routes_config cfg = {});

/// Describes the routes above (called by add_thought_routes when
/// cfg.api_docs is set).
void describe_thought_routes(http::openapi_spec& spec, int max_text_chars);

} // namespace distiller::thoughts
