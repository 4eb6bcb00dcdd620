// A connection's way out (connection.hpp): responses in request order and
// their writes, closing (graceful, draining, at once), the phase deadlines,
// and the access log and metrics of every answer.

#include "bridges/http/connection.hpp"

#include <algorithm>
#include <string>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/write.hpp>

#include "bridges/http/server_core.hpp"
#include "bridges/http/sse_stream.hpp"
#include "runtime/logging/log.hpp"

namespace distiller::http::detail {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = net::ip::tcp;
using steady = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

/// How much a closing connection reads and discards at most.
constexpr size_t max_drain_bytes = 1024 * 1024;

} // namespace

// -- responses ---------------------------------------------------------------

bool connection::post_response(uint64_t seq, response r) {
  return core_->post(socket_.get_executor(), [self = shared_from_this(), seq,
                                              r = std::move(r)]() mutable {
    self->on_response(seq, std::move(r));
  });
}

void connection::on_response(uint64_t seq, response r) {
  if (closed_ || !awaiting_ || seq != seq_)
    return; // the client left or the server stopped meanwhile
  awaiting_ = false;
  write_response(std::move(r), !keep_alive_);
}

void connection::write_response(response r, bool close) {
  if (closed_)
    return;
  if (r.status < 100 || r.status > 999) {
    log::warn("http_bad_status", {{"status", r.status},
                                  {"route", route_label_},
                                  {"trace_id", trace_.value()}});
    r = response::error(500, "internal",
                        "the handler produced no valid status");
  }
  if (trace_.value().empty())
    trace_ = make_trace_id();
  status_ = r.status;
  auto res = std::make_shared<bhttp::response<bhttp::string_body>>();
  res->version(version_);
  res->result(r.status);
  res->set(bhttp::field::server, "distiller");
  res->set(distiller::trace_header, trace_.value());
  bool bodiless = r.status < 200 || r.status == 204 || r.status == 304;
  if (!bodiless && !r.content_type.empty())
    res->set(bhttp::field::content_type, r.content_type);
  for (auto& [name, value] : r.headers)
    res->insert(name, value);
  if (!bodiless)
    res->body() = std::move(r.body);
  res->keep_alive(!close);
  res->prepare_payload();
  if (head_) {
    // HEAD: the GET answer's headers, Content-Length included, no body.
    auto n = res->body().size();
    res->body().clear();
    res->content_length(n);
  }
  res_ = std::move(res);
  arm(core_->config().request_timeout, phase::writing);
  bhttp::async_write(
      socket_, *res_,
      [self = shared_from_this(), close](beast::error_code ec, size_t) {
        self->on_written(ec, close);
      });
}

void connection::on_written(beast::error_code ec, bool close) {
  disarm();
  res_.reset();
  record(status_);
  if (closed_)
    return;
  if (ec) {
    close_now();
    return;
  }
  if (close)
    graceful_close();
  else
    read_header();
}

void connection::fail(unsigned status, const char* error, std::string detail) {
  if (closed_)
    return;
  auto r = response::error(status, error, std::move(detail));
  if (status == 503)
    r.with_header("Retry-After", "1");
  write_response(std::move(r), true);
}

// -- closing -----------------------------------------------------------------

void connection::graceful_close() {
  if (closed_)
    return;
  release_slot();
  beast::error_code ec;
  socket_.shutdown(tcp::socket::shutdown_send, ec);
  if (ec) {
    close_now();
    return;
  }
  drained_ = 0;
  arm(std::min<std::chrono::milliseconds>(core_->config().request_timeout,
                                          max_linger),
      phase::draining);
  drain();
}

void connection::drain() {
  socket_.async_read_some(
      net::buffer(scratch_),
      [self = shared_from_this()](beast::error_code ec, size_t n) {
        self->drained_ += n;
        if (ec || self->drained_ > max_drain_bytes)
          self->close_now();
        else
          self->drain();
      });
}

void connection::close_now() {
  if (closed_)
    return;
  closed_ = true;
  awaiting_ = false;
  ++timer_gen_;
  deadline_.cancel();
  heartbeat_.cancel();
  beast::error_code ec;
  socket_.shutdown(tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  release_slot();
  sse_queue_.clear();
  if (auto s = std::move(sse_))
    s->mark_closed();
}

void connection::release_slot() {
  if (admitted_) {
    admitted_ = false;
    core_->release();
  }
}

// -- timers ------------------------------------------------------------------

void connection::arm(steady::duration after, phase p) {
  arm_at(steady::now() + after, p);
}

void connection::arm_at(steady::time_point at, phase p) {
  timer_phase_ = p;
  auto gen = ++timer_gen_;
  deadline_.expires_at(at);
  deadline_.async_wait([self = shared_from_this(), gen](beast::error_code ec) {
    if (ec || gen != self->timer_gen_ || self->closed_)
      return;
    self->on_deadline();
  });
}

void connection::disarm() {
  ++timer_gen_;
  deadline_.cancel();
}

void connection::on_deadline() {
  if (timer_phase_ == phase::reading) {
    // Cancel the read; its handler answers 408 (or drops an idle client).
    timed_out_ = true;
    beast::error_code ec;
    socket_.cancel(ec);
    return;
  }
  if (timer_phase_ == phase::writing) {
    log::debug("http_write_timeout",
               {{"path", path_}, {"trace_id", trace_.value()}});
    if (sse_)
      sse_->set_reason(sse_close_reason::write_failed);
  }
  close_now();
}

// -- observability -----------------------------------------------------------

void connection::record(unsigned status) {
  double secs = std::chrono::duration<double>(steady::now() - started_).count();
  core_->observe(method_, route_label_, status, secs);
  core_->trace(trace_.value(), method_, route_label_, status, secs);
  // Server-side failures at warn; 503 is an answer (not ready, overloaded:
  // logged where it is decided), and 4xx are the client's business.
  auto lvl =
      status >= 500 && status != 503 ? log::level::warn : log::level::debug;
  if (log::enabled(lvl))
    log::write(lvl, "http_request",
               {{"method", method_},
                {"path", path_},
                {"route", route_label_},
                {"status", status},
                {"duration_ms", secs * 1000.0},
                {"trace_id", trace_.value()}});
}

} // namespace distiller::http::detail
