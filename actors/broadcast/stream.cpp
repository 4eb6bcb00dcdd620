#include "actors/broadcast/stream.hpp"

#include <charconv>
#include <cmath>

#include <boost/json/serialize.hpp>

#include "bridges/http/sse_stream.hpp"
#include "runtime/logging/log.hpp"

namespace distiller::broadcast {

namespace {

/// A broadcaster client on one SSE stream.
class sse_client final : public client {
 public:
  explicit sse_client(std::shared_ptr<http::sse_stream> stream)
      : stream_(std::move(stream)) {}

  bool deliver(const event& e) override {
    return stream_->send(e.type, e.data, std::to_string(e.seq));
  }

  bool control(std::string_view type, std::string_view data,
               uint64_t id) override {
    return stream_->send(type, data, id == 0 ? "" : std::to_string(id));
  }

  void finish() override { stream_->close(); }

 private:
  std::shared_ptr<http::sse_stream> stream_;
};

} // namespace

std::variant<std::optional<uint64_t>, http::response>
last_event_id(const http::request& req) {
  auto text = req.header("last-event-id");
  const char* where = "the Last-Event-ID header";
  if (text.empty()) {
    text = req.query_or("last_event_id");
    where = "last_event_id";
  }
  if (text.empty())
    return std::optional<uint64_t>{};
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size())
    return http::response::error(
        400, "invalid_last_event_id",
        std::string{where} + " must be an event id (a decimal number), not '" +
            text + "'");
  return std::optional<uint64_t>{v};
}

std::string slow_client_frame(size_t queue_bytes) {
  auto data = boost::json::serialize(boost::json::object{
      {"reason", "slow_client"},
      {"detail", "the client did not read its events fast enough (more than " +
                     std::to_string(queue_bytes) +
                     " bytes waited); reconnect with Last-Event-ID to "
                     "resume"}});
  return http::sse_stream::format("closing", data, "");
}

void open_stream(std::shared_ptr<broadcaster> bc, http::responder res,
                 stream_request req) {
  auto& b = *bc;
  auto& cfg = b.config();
  auto [verdict, ticket] = b.caps().try_admit(req.channel);
  if (verdict != admission::verdict::admitted) {
    bool node = verdict == admission::verdict::node_full;
    b.count_rejected(node ? "node_full" : "user_full");
    auto secs = static_cast<long>(
        std::ceil(static_cast<double>(cfg.retry_after.count()) / 1000.0));
    auto out = http::response::error(
        503, "unavailable",
        node ? "this node serves its maximum of " +
                   std::to_string(cfg.max_connections) +
                   " event streams; retry in " + std::to_string(secs) + " s"
             : "this stream already has " + std::to_string(cfg.max_per_user) +
                   " connections on this node (the limit); close one or "
                   "retry in " +
                   std::to_string(secs) + " s");
    out.with_header("Retry-After", std::to_string(secs));
    log::info("sse_rejected", {{"channel", req.channel},
                               {"reason", node ? "node_full" : "user_full"},
                               {"trace_id", res.trace().value()}});
    res.send(std::move(out));
    return;
  }
  http::sse_options so;
  so.heartbeat = cfg.heartbeat;
  so.max_queue_bytes = static_cast<size_t>(cfg.queue_bytes);
  so.write_timeout = cfg.write_timeout;
  so.retry = cfg.client_retry;
  so.overflow_frame = slow_client_frame(so.max_queue_bytes);
  auto stream = res.start_sse(std::move(so));
  auto sink = std::make_shared<sse_client>(stream);
  auto kind = req.options.stream;
  auto id = b.subscribe(std::move(req.channel), req.after,
                        std::move(req.source), sink, std::move(req.options));
  // Runs once, at once if the client is already gone. The ticket (the
  // slot) goes with the callback.
  stream->on_close([bc, id, ticket = std::move(ticket), stream = stream.get(),
                    kind]() mutable {
    bc->unsubscribe(id);
    auto why = stream->reason();
    if (why == http::sse_close_reason::slow_client)
      bc->count_slow_disconnect(kind, "queue_full");
    else if (why == http::sse_close_reason::write_failed)
      bc->count_slow_disconnect(kind, "write_timeout");
    ticket.reset();
  });
}

} // namespace distiller::broadcast
