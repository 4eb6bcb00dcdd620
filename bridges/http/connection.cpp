#include "bridges/http/connection.hpp"

#include <algorithm>
#include <cctype>
#include <limits>
#include <optional>
#include <string>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "bridges/http/responder.hpp"
#include "bridges/http/server_core.hpp"
#include "bridges/http/sse_stream.hpp"
#include "bridges/http/url.hpp"
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

bool is_http_error(const beast::error_code& ec) {
  return ec.category() ==
         bhttp::make_error_code(bhttp::error::bad_method).category();
}

struct framing_error {
  unsigned status;
  const char* error;
  std::string detail;
};

/// The header rules Beast leaves to us (RFC 9112): an HTTP/1.1 request
/// names exactly one Host; a body is framed by Content-Length or by
/// `Transfer-Encoding: chunked` alone — other codings (gzip, …) are not
/// decoded here, and a request with both framings is how requests are
/// smuggled past proxies. The connection closes after any of these errors:
/// the body's end is unknown.
std::optional<framing_error>
framing_problem(const bhttp::request_parser<bhttp::empty_body>::value_type& h,
                int version) {
  auto hosts = h.count(bhttp::field::host);
  if (version >= 11 && hosts == 0)
    return framing_error{400, "bad_request",
                         "an HTTP/1.1 request must carry a Host header"};
  if (hosts > 1)
    return framing_error{400, "bad_request",
                         "the request carries more than one Host header"};
  auto codings = h.count(bhttp::field::transfer_encoding);
  if (codings == 0)
    return std::nullopt;
  if (version < 11)
    return framing_error{400, "bad_request",
                         "HTTP/1.0 requests cannot use Transfer-Encoding"};
  if (h.count(bhttp::field::content_length) > 0)
    return framing_error{400, "bad_request",
                         "a request cannot carry both Content-Length and "
                         "Transfer-Encoding"};
  auto value = h[bhttp::field::transfer_encoding];
  auto b = value.find_first_not_of(" \t");
  auto e = value.find_last_not_of(" \t");
  auto coding = b == beast::string_view::npos ? beast::string_view{}
                                              : value.substr(b, e - b + 1);
  if (codings > 1 || !beast::iequals(coding, "chunked")) {
    std::string shown{value.substr(0, 60)};
    for (auto& c : shown)
      if (static_cast<unsigned char>(c) < 0x20 ||
          static_cast<unsigned char>(c) >= 0x7f)
        c = '?';
    return framing_error{501, "not_implemented",
                         "Transfer-Encoding '" + shown +
                             "' is not supported: send the body with "
                             "Content-Length or Transfer-Encoding: chunked"};
  }
  return std::nullopt;
}

/// Printable ASCII of a header value for an error message, at most 60.
std::string shown(beast::string_view v) {
  std::string out{v.substr(0, 60)};
  for (auto& c : out)
    if (static_cast<unsigned char>(c) < 0x20 ||
        static_cast<unsigned char>(c) >= 0x7f)
      c = '?';
  return out;
}

/// Against DNS rebinding and cross-site requests from browsers: a Host the
/// node does not answer to is 403 (a page whose name was re-bound to
/// 127.0.0.1 sends its own name), and so is a changing request whose
/// Origin is another site (a form or fetch from a page elsewhere). A
/// request without Host (HTTP/1.0) or without Origin (curl, tools) passes:
/// browsers always send both for these.
std::optional<framing_error>
origin_problem(const bhttp::request_parser<bhttp::empty_body>::value_type& h,
               const http_config& cfg) {
  auto host = h[bhttp::field::host];
  if (!host.empty() && !host_allowed(cfg, std::string_view{host}))
    return framing_error{403, "forbidden_host",
                         "this node does not answer to Host '" + shown(host) +
                             "' (http.allowed_hosts)"};
  auto m = h.method();
  bool changing = m == bhttp::verb::post || m == bhttp::verb::put ||
                  m == bhttp::verb::patch || m == bhttp::verb::delete_;
  if (!changing)
    return std::nullopt;
  auto origin = h[bhttp::field::origin];
  if (!origin.empty()) {
    if (!origin_allowed(cfg, std::string_view{origin}, std::string_view{host}))
      return framing_error{403, "forbidden_origin",
                           "a page from '" + shown(origin) +
                               "' may not change this node "
                               "(http.allowed_origins)"};
  } else if (beast::iequals(h["Sec-Fetch-Site"], "cross-site")) {
    return framing_error{403, "forbidden_origin",
                         "a cross-site request may not change this node"};
  }
  return std::nullopt;
}

/// The client's trace id when it is a sane token, else a fresh one.
distiller::trace_id pick_trace(beast::string_view given) {
  auto ok = !given.empty() && given.size() <= 128 &&
            std::all_of(given.begin(), given.end(), [](char c) {
              return std::isalnum(static_cast<unsigned char>(c)) || c == '-' ||
                     c == '_' || c == '.';
            });
  if (ok)
    return distiller::trace_id{std::string{given.data(), given.size()}};
  return make_trace_id();
}

} // namespace

connection::connection(tcp::socket&& socket, std::shared_ptr<server_core> core,
                       bool admitted)
    : core_(std::move(core)), socket_(std::move(socket)),
      deadline_(socket_.get_executor()), heartbeat_(socket_.get_executor()),
      admitted_(admitted), read_started_(steady::now()),
      started_(read_started_), method_("-"), path_("-") {}

connection::~connection() {
  release_slot();
  if (sse_)
    sse_->mark_closed();
  core_->forget(this);
}

void connection::start() {
  net::dispatch(socket_.get_executor(), [self = shared_from_this()] {
    if (self->core_->stopping()) {
      self->close_now();
      return;
    }
    if (!self->admitted_) {
      self->fail(503, "overloaded",
                 "the node serves its maximum of " +
                     std::to_string(self->core_->config().max_connections) +
                     " connections; retry later");
      return;
    }
    self->read_header();
  });
}

void connection::shutdown() {
  net::post(socket_.get_executor(), [self = shared_from_this()] {
    if (self->sse_)
      self->sse_->set_reason(sse_close_reason::server_stopped);
    self->close_now();
  });
}

// -- request cycle -----------------------------------------------------------

void connection::read_header() {
  auto& cfg = core_->config();
  timed_out_ = false;
  head_ = false;
  keep_alive_ = false;
  version_ = 11;
  method_ = "-";
  path_ = "-";
  route_label_ = "unmatched";
  match_ = route_match{};
  caller_ = principal{};
  trace_ = distiller::trace_id{};
  status_ = 0;
  body_parser_.reset();
  header_parser_.emplace();
  header_parser_->header_limit(static_cast<uint32_t>(std::min<uint64_t>(
      cfg.max_header_bytes, std::numeric_limits<uint32_t>::max())));
  // The body limit is ours to decide after routing (see route_request).
  header_parser_->body_limit(boost::none);
  read_started_ = steady::now();
  started_ = read_started_;
  arm(cfg.request_timeout, phase::reading);
  bhttp::async_read_header(
      socket_, buffer_, *header_parser_,
      [self = shared_from_this()](beast::error_code ec, size_t) {
        self->on_header(ec);
      });
}

void connection::on_header(beast::error_code ec) {
  if (closed_)
    return;
  if (ec == bhttp::error::end_of_stream) {
    close_now(); // an idle keep-alive connection ended by the client
    return;
  }
  if (timed_out_) {
    // Quietly drop idle connections; answer clients that started a request.
    if (header_parser_->got_some() || buffer_.size() > 0)
      fail(408, "request_timeout",
           "the request was not received within " +
               std::to_string(core_->config().request_timeout.count()) + " ms");
    else
      close_now();
    return;
  }
  if (ec == bhttp::error::header_limit) {
    fail(431, "header_too_large",
         "the request header exceeds " +
             std::to_string(core_->config().max_header_bytes) + " bytes");
    return;
  }
  if (ec == bhttp::error::partial_message) {
    close_now();
    return;
  }
  if (ec && is_http_error(ec)) {
    fail(400, "bad_request", "malformed HTTP request: " + ec.message());
    return;
  }
  if (ec) {
    close_now();
    return;
  }
  route_request();
}

void connection::route_request() {
  auto& cfg = core_->config();
  auto& h = header_parser_->get();
  started_ = steady::now();
  version_ = h.version() == 10 ? 10 : 11;
  keep_alive_ = h.keep_alive();
  method_ = std::string{h.method_string()};
  head_ = h.method() == bhttp::verb::head;
  trace_ = pick_trace(h[distiller::trace_header]);
  std::string target{h.target()};
  path_ = std::string{split_target(target).path};
  bool has_body = !header_parser_->is_done();
  if (target.empty() ||
      (target.front() != '/' && target.find("://") == std::string::npos)) {
    fail(400, "bad_request", "the request target must be a path");
    return;
  }
  if (auto problem = framing_problem(h, version_)) {
    fail(problem->status, problem->error, std::move(problem->detail));
    return;
  }
  if (auto problem = origin_problem(h, cfg)) {
    fail(problem->status, problem->error, std::move(problem->detail));
    return;
  }
  match_ = core_->routes().match(h.method(), path_);
  if (!match_.found()) {
    route_label_ = match_.route ? match_.route->pattern : "unmatched";
    // An unread body would be taken for the next request: close instead.
    write_response(router::reject(match_, h.method(), method_, path_),
                   has_body || !keep_alive_);
    return;
  }
  route_label_ = match_.route->pattern;
  auto& opts = match_.route->options;
  if (!authorize(h, target, access_of(opts, h.method())))
    return;
  body_limit_ = opts.max_body_bytes.value_or(cfg.max_body_bytes);
  if (auto len = header_parser_->content_length(); len && *len > body_limit_) {
    // Decided from the header alone: the body is never read.
    fail(413, "payload_too_large",
         "the request body of " + std::to_string(*len) +
             " bytes exceeds the limit of " + std::to_string(body_limit_) +
             " bytes");
    return;
  }
  if (opts.timeout)
    arm_at(read_started_ + *opts.timeout, phase::reading);
  if (timed_out_) {
    // The deadline fired just as the header completed.
    fail(408, "request_timeout", "the request was not received in time");
    return;
  }
  if (!has_body) {
    dispatch(h, {});
    return;
  }
  if (beast::iequals(h[bhttp::field::expect], "100-continue"))
    send_continue();
  else
    read_body();
}

void connection::send_continue() {
  static const std::string text = "HTTP/1.1 100 Continue\r\n\r\n";
  net::async_write(socket_, net::buffer(text),
                   [self = shared_from_this()](beast::error_code ec, size_t) {
                     if (self->closed_)
                       return;
                     if (self->timed_out_)
                       self->fail(408, "request_timeout",
                                  "the request was not received in time");
                     else if (ec)
                       self->close_now();
                     else
                       self->read_body();
                   });
}

void connection::read_body() {
  body_parser_.emplace(std::move(*header_parser_));
  header_parser_.reset();
  body_parser_->body_limit(body_limit_);
  bhttp::async_read(socket_, buffer_, *body_parser_,
                    [self = shared_from_this()](beast::error_code ec, size_t) {
                      self->on_body(ec);
                    });
}

void connection::on_body(beast::error_code ec) {
  if (closed_)
    return;
  if (ec && timed_out_) {
    fail(408, "request_timeout",
         "the request body was not received within the time limit");
    return;
  }
  if (ec == bhttp::error::body_limit) {
    fail(413, "payload_too_large",
         "the request body exceeds the limit of " +
             std::to_string(body_limit_) + " bytes");
    return;
  }
  if (ec == bhttp::error::end_of_stream ||
      ec == bhttp::error::partial_message) {
    close_now();
    return;
  }
  if (ec && is_http_error(ec)) {
    fail(400, "bad_request", "malformed HTTP request body: " + ec.message());
    return;
  }
  if (ec) {
    close_now();
    return;
  }
  auto& msg = body_parser_->get();
  dispatch(msg, std::move(msg.body()));
}

template <class Message>
void connection::dispatch(Message& msg, std::string body) {
  disarm();
  timer_phase_ = phase::handling;
  request req;
  req.method = msg.method();
  req.target = std::string{msg.target()};
  req.path = path_;
  req.query = parse_query(split_target(req.target).query);
  req.params = std::move(match_.params);
  // Method and target are copied above: the fields own their storage.
  req.headers = std::move(static_cast<bhttp::fields&>(msg));
  req.body = std::move(body);
  req.trace = trace_;
  req.caller = std::move(caller_);
  auto route = match_.route;
  ++seq_;
  awaiting_ = true;
  try {
    route->fn(std::move(req), responder{shared_from_this(), seq_, trace_});
  } catch (const std::exception& e) {
    // The responder died with the stack and answers 500 by itself.
    log::warn("http_handler_failed", {{"method", method_},
                                      {"route", route_label_},
                                      {"error", e.what()},
                                      {"trace_id", trace_.value()}});
  } catch (...) {
    log::warn("http_handler_failed", {{"method", method_},
                                      {"route", route_label_},
                                      {"error", "unknown exception"},
                                      {"trace_id", trace_.value()}});
  }
}

bool connection::authorize(
    const bhttp::request_parser<bhttp::empty_body>::value_type& h,
    const std::string& target, access_level need) {
  auto& tokens = core_->tokens();
  auto authorization = h[bhttp::field::authorization];
  std::string from_query;
  if (authorization.empty()) {
    // EventSource cannot send headers: its pages pass ?access_token=.
    auto q = parse_query(split_target(target).query);
    if (auto i = q.find("access_token"); i != q.end())
      from_query = i->second;
  }
  auto outcome =
      tokens.check(std::string_view{authorization}, from_query, need);
  if (!outcome.refused()) {
    caller_ = std::move(outcome.caller);
    return true;
  }
  auto r =
      response::error(outcome.status, outcome.error, std::move(outcome.detail));
  if (outcome.status == 401)
    r.with_header("WWW-Authenticate",
                  authorization.empty() && from_query.empty()
                      ? "Bearer realm=\"distiller\""
                      : "Bearer realm=\"distiller\", error=\"invalid_token\"");
  // An unread body would be taken for the next request: close instead.
  write_response(std::move(r), !header_parser_->is_done() || !keep_alive_);
  return false;
}

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
