#include "bridges/http/responder.hpp"

#include "bridges/http/connection.hpp"
#include "bridges/http/sse_stream.hpp"
#include "runtime/logging/log.hpp"

namespace distiller::http {

responder::responder(std::shared_ptr<detail::connection> conn, uint64_t seq,
                     distiller::trace_id trace)
    : conn_(std::move(conn)), seq_(seq), trace_(std::move(trace)) {}

responder::responder(responder&& other) noexcept
    : conn_(std::move(other.conn_)), seq_(other.seq_),
      trace_(std::move(other.trace_)) {}

responder& responder::operator=(responder&& other) noexcept {
  if (this != &other) {
    release(true);
    conn_ = std::move(other.conn_);
    seq_ = other.seq_;
    trace_ = std::move(other.trace_);
  }
  return *this;
}

responder::~responder() {
  release(true);
}

void responder::release(bool send_error) {
  if (!conn_)
    return;
  auto conn = std::move(conn_);
  if (!send_error)
    return;
  try {
    conn->post_response(seq_,
                        response::error(500, "internal",
                                        "the request handler ended without a "
                                        "response"));
  } catch (...) {
    // Out of memory while posting: the connection times out on its own.
  }
}

void responder::send(response r) {
  if (!conn_) {
    log::warn("http_response_dropped",
              {{"reason", "the request was already answered"},
               {"status", r.status},
               {"trace_id", trace_.value()}});
    return;
  }
  auto conn = std::move(conn_);
  conn->post_response(seq_, std::move(r));
}

std::shared_ptr<sse_stream>
responder::start_sse(std::chrono::milliseconds heartbeat) {
  sse_options options;
  options.heartbeat = heartbeat;
  // The former fixed limit of every stream.
  options.max_queue_bytes = 4 * 1024 * 1024;
  return start_sse(std::move(options));
}

std::shared_ptr<sse_stream> responder::start_sse(sse_options options) {
  if (!conn_) {
    log::warn("http_response_dropped",
              {{"reason", "the request was already answered"},
               {"trace_id", trace_.value()}});
    auto dead = std::make_shared<sse_stream>(
        std::weak_ptr<detail::connection>{}, trace_);
    dead->mark_closed();
    return dead;
  }
  auto conn = std::move(conn_);
  auto stream = std::make_shared<sse_stream>(conn, trace_);
  if (!conn->post_sse_start(seq_, std::move(options), stream))
    stream->mark_closed();
  return stream;
}

} // namespace distiller::http
