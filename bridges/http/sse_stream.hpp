#pragma once

/// One Server-Sent Events stream, created by `responder::start_sse`.
///
/// `send(event, data, id)` writes one event:
///   id: <id>          (when id is not empty)
///   event: <event>    (when event is not empty)
///   data: <line>      (one per line of data)
///   <blank line>
/// Heartbeat comments (`: ping`) are added by the connection on its timer.
///
/// Threads: every member is thread-safe; `send` posts to the connection's
/// strand and never blocks. Events keep their order.
/// Ownership: shared; the stream does not keep the connection alive — the
/// connection lives while the socket is open. Holding a stream after it
/// closed is harmless.
/// Failure: the stream closes when the client disconnects, a write fails or
/// times out (`sse_options::write_timeout`; TCP_USER_TIMEOUT drops a
/// half-open connection whose data stays unacknowledged that long), the
/// client reads too slowly (more than `sse_options::max_queue_bytes`
/// queued: the frames not yet written are dropped, the `overflow_frame` is
/// sent as the last event and the connection ends), `close()` is called, or
/// the server stops. Then `closed()` is true, `send` returns false,
/// `reason()` says why, and the `on_close` callback runs once (on an I/O
/// thread, or at once in `on_close` when the stream is already closed).

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "runtime/core/ids.hpp"

namespace distiller::http {

namespace detail {
class connection;
} // namespace detail

/// How one stream behaves (responder::start_sse).
struct sse_options {
  /// A `: ping` comment this often (0: none).
  std::chrono::milliseconds heartbeat{30000};
  /// Bytes a stream may have queued (not yet accepted by the socket) before
  /// the client counts as too slow (one frame larger than this still goes
  /// out when nothing else waits); the socket's send buffer is capped at
  /// the same size (16 KiB … 1 MiB).
  size_t max_queue_bytes = 1024 * 1024;
  /// A write that does not finish within this ends the stream; also the
  /// socket's TCP_USER_TIMEOUT.
  std::chrono::milliseconds write_timeout{20000};
  /// Sent as `retry: <ms>` first (the client's reconnect delay); 0: not
  /// sent.
  std::chrono::milliseconds retry{0};
  /// The last event a too-slow client gets (formatted, e.g. by
  /// sse_stream::format); empty: none.
  std::string overflow_frame;
};

/// Why a stream ended.
enum class sse_close_reason {
  open,
  /// `close()` (the server decided, e.g. the final event was sent).
  closed,
  /// The client disconnected.
  client_gone,
  /// The client did not read fast enough (queue over max_queue_bytes).
  slow_client,
  /// A write failed or timed out (half-open connection).
  write_failed,
  /// The server stopped.
  server_stopped,
};

const char* to_string(sse_close_reason r) noexcept;

class sse_stream {
 public:
  sse_stream(std::weak_ptr<detail::connection> conn, distiller::trace_id trace);

  sse_stream(const sse_stream&) = delete;
  sse_stream& operator=(const sse_stream&) = delete;

  /// Queues one event; false when the stream is closed.
  bool send(std::string_view event, std::string_view data,
            std::string_view id = "");

  /// Queues a comment line (`: text`), e.g. a retry hint; false when closed.
  bool comment(std::string_view text);

  /// True once the stream ended (for any reason) or `close()` was called.
  bool closed() const noexcept { return closed_.load(); }

  /// Ends the stream after the queued events are written.
  void close();

  /// Sets the callback that runs once when the stream ends.
  void on_close(std::function<void()> f);

  /// Why the stream ended (`open` while it runs).
  sse_close_reason reason() const noexcept { return reason_.load(); }

  const distiller::trace_id& trace() const noexcept { return trace_; }

  /// Renders one event in the wire format (exposed for tests).
  static std::string format(std::string_view event, std::string_view data,
                            std::string_view id);

  // -- called by the connection ----------------------------------------------

  /// Marks the stream ended and runs the callback (once).
  void mark_closed();

  /// Records why it ends (the first reason given wins).
  void set_reason(sse_close_reason r) noexcept;

 private:
  bool enqueue(std::string frame);

  std::weak_ptr<detail::connection> conn_;
  distiller::trace_id trace_;
  std::atomic<bool> closed_{false};
  std::atomic<sse_close_reason> reason_{sse_close_reason::open};
  std::mutex mtx_;
  std::function<void()> on_close_;
  bool fired_ = false;
};

} // namespace distiller::http
