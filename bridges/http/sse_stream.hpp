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
/// times out, the client reads too slowly (more than `max_pending_bytes`
/// queued), `close()` is called, or the server stops. Then `closed()` is true,
/// `send` returns false, and the `on_close` callback runs once (on an I/O
/// thread, or at once in `on_close` when the stream is already closed).

#include <atomic>
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

class sse_stream {
 public:
  /// Bytes a stream may have queued for a slow client before it is closed.
  static constexpr size_t max_pending_bytes = 4 * 1024 * 1024;

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

  const distiller::trace_id& trace() const noexcept { return trace_; }

  /// Renders one event in the wire format (exposed for tests).
  static std::string format(std::string_view event, std::string_view data,
                            std::string_view id);

  // -- called by the connection ----------------------------------------------

  /// Marks the stream ended and runs the callback (once).
  void mark_closed();

 private:
  bool enqueue(std::string frame);

  std::weak_ptr<detail::connection> conn_;
  distiller::trace_id trace_;
  std::atomic<bool> closed_{false};
  std::mutex mtx_;
  std::function<void()> on_close_;
  bool fired_ = false;
};

} // namespace distiller::http
