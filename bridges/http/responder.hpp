#pragma once

/// The one-shot answer channel of a request. A handler receives it by value
/// and either answers at once or moves it to whoever will answer (an actor,
/// a worker thread).
///
/// Threads: `send` and `start_sse` may be called from any thread; they post
/// to the connection's strand and never block.
/// Ownership: move-only; holds the connection alive until it has answered.
/// Exactly one response per request: the first `send`/`start_sse` wins, later
/// calls are ignored (and logged). A responder destroyed without answering
/// sends `500 {"error":"internal",…}` automatically, so a handler that throws
/// or forgets never leaves the client hanging.
/// Failure: when the client is gone or the server stopped, the response is
/// dropped silently (and a stream starts closed).

#include <chrono>
#include <cstdint>
#include <memory>

#include "bridges/http/response.hpp"
#include "runtime/core/ids.hpp"

namespace distiller::http {

class sse_stream;
struct sse_options;

namespace detail {
class connection;
} // namespace detail

class responder {
 public:
  /// An empty responder (answers nothing).
  responder() = default;

  responder(std::shared_ptr<detail::connection> conn, uint64_t seq,
            distiller::trace_id trace);

  responder(responder&& other) noexcept;
  responder& operator=(responder&& other) noexcept;
  responder(const responder&) = delete;
  responder& operator=(const responder&) = delete;

  /// Sends 500 when nothing was sent.
  ~responder();

  /// Sends `r` (status, headers, body); the connection adds Content-Length,
  /// Server, x-trace-id and Connection.
  void send(response r);

  /// Answers with `200 text/event-stream` (chunked, no-cache) and keeps the
  /// connection for a Server-Sent Events stream; a `: ping` comment goes out
  /// every `heartbeat` (0 disables it). On a HEAD request only the headers
  /// are written and the stream closes right after them.
  std::shared_ptr<sse_stream>
  start_sse(std::chrono::milliseconds heartbeat = std::chrono::seconds(30));

  /// As above, with every option of the stream (queue limit, write timeout,
  /// retry hint, the final event for a too-slow client).
  std::shared_ptr<sse_stream> start_sse(sse_options options);

  /// True while this responder still owes the answer.
  bool pending() const noexcept { return conn_ != nullptr; }

  /// The trace id of the request being answered.
  const distiller::trace_id& trace() const noexcept { return trace_; }

 private:
  void release(bool send_error);

  std::shared_ptr<detail::connection> conn_;
  uint64_t seq_ = 0;
  distiller::trace_id trace_;
};

} // namespace distiller::http
