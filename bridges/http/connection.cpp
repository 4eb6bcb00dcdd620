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

} // namespace distiller::http::detail
