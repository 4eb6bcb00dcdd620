#pragma once

/// Opening an SSE stream on the broadcaster from an HTTP route: the caps,
/// the stream's options, the subscription and its end, in one call.
///
///   auto after = broadcast::last_event_id(req);       // header or query
///   if (auto* bad = std::get_if<http::response>(&after)) → send it
///   broadcast::open_stream(bc, std::move(res), {  // shared_ptr
///       .channel = "user:" + user_id, .after = …, .source = thoughts,
///       .options = {.stream = "thoughts"}});
///
/// Threads: called on an HTTP I/O thread; never blocks.
/// Ownership: the stream's close callback keeps the client and its
/// admission ticket until the connection ends.
/// Failure: over a cap the responder gets 503 {"error":"unavailable",…}
/// with Retry-After; a too-slow client gets the final `closing` event
/// (reason slow_client) and is counted.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "actors/broadcast/broadcaster.hpp"
#include "actors/broadcast/event.hpp"
#include "bridges/http/request.hpp"
#include "bridges/http/responder.hpp"
#include "bridges/http/response.hpp"

namespace distiller::broadcast {

struct stream_request {
  std::string channel;
  std::optional<uint64_t> after;
  std::shared_ptr<replay_source> source;
  subscribe_options options;
};

/// The position a client resumes from: the Last-Event-ID header, else the
/// `last_event_id` query parameter, else none. A value that is not a
/// decimal number answers 400 invalid_last_event_id.
std::variant<std::optional<uint64_t>, http::response>
last_event_id(const http::request& req);

/// Admits, starts the stream and subscribes it (or answers 503).
void open_stream(std::shared_ptr<broadcaster> b, http::responder res,
                 stream_request req);

/// The `closing` event a too-slow client gets last (formatted frame).
std::string slow_client_frame(size_t queue_bytes);

} // namespace distiller::broadcast
