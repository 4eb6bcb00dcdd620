#include "bridges/http/connection.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdio>

#include <boost/asio/write.hpp>

#include "bridges/http/server_core.hpp"
#include "bridges/http/sse_stream.hpp"
#include "runtime/logging/log.hpp"

// The Server-Sent Events half of the connection (see connection.hpp).

namespace distiller::http::detail {

namespace net = boost::asio;
namespace beast = boost::beast;
using tcp = net::ip::tcp;

namespace {

std::string chunk(std::string_view data) {
  char size[20];
  auto n = std::snprintf(size, sizeof(size), "%zx\r\n", data.size());
  std::string out;
  out.reserve(static_cast<size_t>(n) + data.size() + 2);
  out.append(size, static_cast<size_t>(n));
  out.append(data);
  out.append("\r\n");
  return out;
}

} // namespace

// -- server-sent events ------------------------------------------------------

bool connection::post_sse_start(uint64_t seq, sse_options options,
                                std::shared_ptr<sse_stream> stream) {
  return core_->post(
      socket_.get_executor(),
      [self = shared_from_this(), seq, options = std::move(options),
       stream = std::move(stream)]() mutable {
        self->on_sse_start(seq, std::move(options), std::move(stream));
      });
}

bool connection::post_sse_frame(std::string frame) {
  return core_->post(
      socket_.get_executor(),
      [self = shared_from_this(), frame = std::move(frame)]() mutable {
        if (self->sse_ && !self->sse_closing_)
          self->sse_push(std::move(frame), false);
      });
}

bool connection::post_sse_close() {
  return core_->post(socket_.get_executor(),
                     [self = shared_from_this()] { self->on_sse_close(); });
}

void connection::on_sse_start(uint64_t seq, sse_options options,
                              std::shared_ptr<sse_stream> stream) {
  if (closed_ || !awaiting_ || seq != seq_) {
    stream->mark_closed();
    return;
  }
  auto heartbeat = options.heartbeat;
  sse_max_queue_ = std::max<size_t>(options.max_queue_bytes, 1024);
  sse_write_timeout_ = options.write_timeout.count() > 0
                           ? options.write_timeout
                           : core_->config().request_timeout;
  sse_overflow_frame_ = std::move(options.overflow_frame);
  {
    // A half-open connection (the client's host vanished) is noticed when
    // data stays unacknowledged for the write timeout: the kernel then
    // fails the socket, and the next heartbeat's write ends the stream.
    beast::error_code ec;
    socket_.set_option(net::socket_base::keep_alive(true), ec);
    unsigned ms = static_cast<unsigned>(sse_write_timeout_.count());
    ::setsockopt(socket_.native_handle(), IPPROTO_TCP, TCP_USER_TIMEOUT, &ms,
                 sizeof(ms));
    // The kernel's send buffer is capped at the queue limit too, so what a
    // stalled client holds is bounded by about twice the limit, not by the
    // kernel's autotuning (up to 4 MiB per socket); event streams need no
    // bulk throughput.
    int sndbuf = static_cast<int>(
        std::clamp<size_t>(sse_max_queue_, 16 * 1024, 1024 * 1024));
    ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_SNDBUF, &sndbuf,
                 sizeof(sndbuf));
  }
  awaiting_ = false;
  status_ = 200;
  record(200);
  sse_ = std::move(stream);
  // HTTP/1.0 has no chunked encoding: the end of the stream is the close.
  sse_chunked_ = version_ >= 11;
  sse_heartbeat_ = heartbeat;
  std::string head =
      version_ >= 11 ? "HTTP/1.1 200 OK\r\n" : "HTTP/1.0 200 OK\r\n";
  head += "Server: distiller\r\n";
  head += std::string{distiller::trace_header} + ": " + trace_.value() + "\r\n";
  head += "Content-Type: text/event-stream\r\n"
          "Cache-Control: no-cache\r\n"
          "X-Accel-Buffering: no\r\n"
          "Connection: close\r\n";
  if (sse_chunked_)
    head += "Transfer-Encoding: chunked\r\n";
  head += "\r\n";
  sse_push(std::move(head), true);
  if (options.retry.count() > 0 && !head_)
    sse_push("retry: " + std::to_string(options.retry.count()) + "\n\n", false);
  sse_watch_client();
  if (head_) {
    on_sse_close();
    return;
  }
  if (sse_heartbeat_.count() > 0)
    sse_heartbeat();
}

void connection::sse_push(std::string frame, bool raw) {
  if (closed_ || sse_closing_)
    return;
  if (!raw && sse_chunked_)
    frame = chunk(frame);
  // A frame larger than the whole limit still goes out when nothing waits
  // behind the frame being written: only a client that leaves frames
  // queued is too slow. (The write in flight may be one the client already
  // has, its completion not yet run — the response head right after
  // start_sse, for one.) What waits stays below the limit, so a stalled
  // client holds at most the frame in flight plus the limit.
  size_t in_flight =
      sse_writing_ && !sse_queue_.empty() ? sse_queue_.front().size() : 0;
  size_t waiting = sse_pending_ - in_flight;
  if (waiting > 0 && waiting + frame.size() > sse_max_queue_) {
    sse_overflow();
    return;
  }
  sse_pending_ += frame.size();
  sse_queue_.push_back(std::move(frame));
  if (!sse_writing_)
    sse_write_next();
}

void connection::sse_overflow() {
  log::warn("sse_slow_client", {{"path", path_},
                                {"pending_bytes", sse_pending_},
                                {"limit_bytes", sse_max_queue_},
                                {"trace_id", trace_.value()}});
  if (sse_)
    sse_->set_reason(sse_close_reason::slow_client);
  // Keep only the frame being written (it cannot be taken back), then the
  // overflow event and the end of the stream: the client learns why if it
  // ever reads again, and the write deadline ends a client that does not.
  while (sse_queue_.size() > (sse_writing_ ? 1u : 0u)) {
    sse_pending_ -= sse_queue_.back().size();
    sse_queue_.pop_back();
  }
  heartbeat_.cancel();
  auto last = sse_overflow_frame_;
  if (!last.empty() && sse_chunked_)
    last = chunk(last);
  if (sse_chunked_)
    last += "0\r\n\r\n";
  if (!last.empty()) {
    sse_pending_ += last.size();
    sse_queue_.push_back(std::move(last));
  }
  sse_closing_ = true;
  // The stream is over for its producers now (sends fail, the close
  // callback runs), while the last frames may still be on their way.
  if (sse_)
    sse_->mark_closed();
  if (!sse_writing_)
    sse_write_next();
}

void connection::sse_write_next() {
  if (closed_)
    return;
  if (sse_queue_.empty()) {
    if (sse_closing_) {
      // Everything is out: half-close and let the client's FIN (seen by
      // sse_watch_client) or the linger timer finish the connection.
      release_slot();
      beast::error_code ec;
      socket_.shutdown(tcp::socket::shutdown_send, ec);
      arm(std::min<std::chrono::milliseconds>(core_->config().request_timeout,
                                              max_linger),
          phase::draining);
    }
    return;
  }
  sse_writing_ = true;
  arm(sse_write_timeout_, phase::writing);
  net::async_write(socket_, net::buffer(sse_queue_.front()),
                   [self = shared_from_this()](beast::error_code ec, size_t) {
                     self->sse_writing_ = false;
                     if (self->closed_)
                       return;
                     self->disarm();
                     if (ec) {
                       if (self->sse_)
                         self->sse_->set_reason(sse_close_reason::write_failed);
                       self->close_now();
                       return;
                     }
                     self->sse_pending_ -= self->sse_queue_.front().size();
                     self->sse_queue_.pop_front();
                     self->sse_write_next();
                   });
}

void connection::sse_watch_client() {
  // A client never sends anything on an event stream: any end of the read
  // (FIN, reset) means it left.
  socket_.async_read_some(
      net::buffer(scratch_),
      [self = shared_from_this()](beast::error_code ec, size_t) {
        if (self->closed_)
          return;
        if (ec)
          self->close_now();
        else
          self->sse_watch_client();
      });
}

void connection::sse_heartbeat() {
  heartbeat_.expires_after(sse_heartbeat_);
  heartbeat_.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (ec || self->closed_ || !self->sse_ || self->sse_closing_)
      return;
    self->sse_push(": ping\n\n", false);
    self->sse_heartbeat();
  });
}

void connection::on_sse_close() {
  if (closed_ || !sse_ || sse_closing_)
    return;
  heartbeat_.cancel();
  if (sse_chunked_ && !head_)
    sse_push("0\r\n\r\n", true);
  sse_closing_ = true;
  if (!sse_writing_)
    sse_write_next();
}

} // namespace distiller::http::detail
