#include "actors/load/http_client.hpp"

#include <array>
#include <optional>

#include <boost/asio/connect.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

namespace distiller::load {

namespace beast = boost::beast;
namespace http = beast::http;
using error_code = boost::system::error_code;

namespace {

constexpr const char* user_agent = "distiller-load/" DISTILLER_VERSION;

std::string host_header(const http_target& t) {
  auto h = t.host.find(':') != std::string::npos ? "[" + t.host + "]" : t.host;
  return h + ":" + std::to_string(t.port);
}

bool closed_by_peer(const error_code& ec) {
  return ec == http::error::end_of_stream || ec == net::error::eof ||
         ec == net::error::connection_reset || ec == net::error::broken_pipe ||
         ec == net::error::connection_aborted;
}

void close_socket(beast::tcp_stream& s) {
  error_code ignored;
  s.socket().shutdown(tcp::socket::shutdown_both, ignored);
  s.socket().close(ignored);
}

} // namespace

tcp::resolver::results_type resolve(net::io_context& ioc,
                                    const http_target& t) {
  tcp::resolver r{ioc};
  error_code ec;
  auto out = r.resolve(t.host, std::to_string(t.port), ec);
  if (ec)
    throw std::runtime_error("cannot resolve " + t.host + ": " + ec.message());
  return out;
}

// -- pool connections ---------------------------------------------------------

class http_pool::connection
    : public std::enable_shared_from_this<http_pool::connection> {
 public:
  connection(http_pool* pool, net::io_context& ioc)
      : pool_(pool), stream_(ioc) {}

  void run(http_request r, callback done) {
    ++gen_;
    done_ = std::move(done);
    out_ = {};
    retries_ = 0;
    req_ = {};
    req_.method(r.method);
    req_.target(r.target);
    req_.version(11);
    req_.set(http::field::host, host_header(pool_->target_));
    req_.set(http::field::user_agent, user_agent);
    if (!pool_->target_.token.empty())
      req_.set(http::field::authorization, "Bearer " + pool_->target_.token);
    if (!r.content_type.empty())
      req_.set(http::field::content_type, r.content_type);
    for (auto& [k, v] : r.headers)
      req_.set(k, v);
    req_.body() = std::move(r.body);
    req_.keep_alive(true);
    req_.prepare_payload();
    out_.sent = steady::now();
    deadline_ = out_.sent + pool_->timeout_;
    if (stream_.socket().is_open())
      write();
    else
      connect();
  }

  void abort() {
    ++gen_;
    bool was_busy = static_cast<bool>(done_);
    close_socket(stream_);
    reused_ = false;
    if (was_busy)
      fail(error_class::timeout, "still in flight when the run ended");
  }

  void detach() {
    pool_ = nullptr;
    ++gen_;
    close_socket(stream_);
  }

 private:
  void connect() {
    reused_ = false;
    buffer_.clear();
    stream_.expires_at(deadline_);
    stream_.async_connect(pool_->endpoints_, [self = shared_from_this(),
                                              g = gen_](const error_code& ec,
                                                        const tcp::endpoint&) {
      if (g != self->gen_)
        return;
      if (ec) {
        self->fail(ec == beast::error::timeout ? error_class::timeout
                                               : error_class::connect,
                   "connect: " + ec.message());
        return;
      }
      self->write();
    });
  }

  void write() {
    stream_.expires_at(deadline_);
    http::async_write(
        stream_, req_,
        [self = shared_from_this(), g = gen_](const error_code& ec, size_t) {
          if (g != self->gen_)
            return;
          if (ec)
            self->io_error(ec);
          else
            self->read();
        });
  }

  void read() {
    parser_.emplace();
    parser_->body_limit(64u << 20);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this(), g = gen_](const error_code& ec, size_t) {
          if (g != self->gen_)
            return;
          if (ec)
            self->io_error(ec);
          else
            self->complete();
        });
  }

  void io_error(const error_code& ec) {
    if (ec == beast::error::timeout) {
      fail(error_class::timeout, "no answer in time");
      return;
    }
    bool nothing_read = !parser_ || !parser_->got_some();
    if (reused_ && retries_ == 0 && closed_by_peer(ec) && nothing_read) {
      // The server closed this idle keep-alive connection just as we sent:
      // the request never reached it, so it goes again on a fresh one.
      ++retries_;
      close_socket(stream_);
      connect();
      return;
    }
    fail(error_class::protocol,
         "connection closed before the answer: " + ec.message());
  }

  void complete() {
    auto& res = parser_->get();
    out_.status = res.result_int();
    out_.body = std::move(res.body());
    bool keep = res.keep_alive();
    parser_.reset();
    reused_ = true;
    if (!keep) {
      close_socket(stream_);
      reused_ = false;
    }
    if (!out_.ok())
      out_.cls = class_of_status(out_.status);
    finish();
  }

  void fail(error_class c, std::string detail) {
    out_.failed = true;
    out_.cls = c;
    out_.detail = std::move(detail);
    close_socket(stream_);
    reused_ = false;
    finish();
  }

  void finish() {
    out_.done = steady::now();
    stream_.expires_never();
    auto cb = std::move(done_);
    done_ = nullptr;
    auto out = std::move(out_);
    auto* pool = pool_;
    if (pool)
      pool->released(this);
    if (cb)
      cb(std::move(out));
    if (pool && pool_ && pool->on_free)
      pool->on_free();
  }

  http_pool* pool_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
  std::optional<http::response_parser<http::string_body>> parser_;
  callback done_;
  http_outcome out_;
  steady::time_point deadline_{};
  bool reused_ = false;
  int retries_ = 0;
  uint64_t gen_ = 0;
};

// -- pool ---------------------------------------------------------------------

http_pool::http_pool(net::io_context& ioc, http_target target,
                     tcp::resolver::results_type endpoints, int max_connections,
                     std::chrono::nanoseconds timeout)
    : ioc_(ioc), target_(std::move(target)), endpoints_(std::move(endpoints)),
      max_(std::max(1, max_connections)), timeout_(timeout) {}

http_pool::~http_pool() {
  for (auto& c : conns_)
    c->detach();
}

bool http_pool::can_start() const noexcept {
  return max_ > 0 && (!idle_.empty() || static_cast<int>(conns_.size()) < max_);
}

void http_pool::start(http_request req, callback done) {
  connection* c = nullptr;
  if (!idle_.empty()) {
    c = idle_.back();
    idle_.pop_back();
  } else {
    conns_.push_back(std::make_shared<connection>(this, ioc_));
    c = conns_.back().get();
  }
  ++busy_;
  c->run(std::move(req), std::move(done));
}

void http_pool::released(connection* c) {
  --busy_;
  idle_.push_back(c);
}

void http_pool::abort_all() {
  // No new request may start from the callbacks below.
  auto saved = max_;
  max_ = 0;
  auto free = std::move(on_free);
  on_free = nullptr;
  for (auto& c : conns_)
    c->abort();
  max_ = saved;
  on_free = std::move(free);
}

// -- sse
// ------------------------------------------------------------------------

struct sse_client::state {
  state(net::io_context& ioc) : stream(ioc) {}
  http_target target;
  tcp::resolver::results_type endpoints;
  std::string path;
  std::string last_id;
  callbacks cb;
  std::chrono::nanoseconds connect_timeout{};
  std::chrono::nanoseconds idle_timeout{};
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  http::request<http::empty_body> req;
  http::response_parser<http::buffer_body> parser;
  std::array<char, 16384> body{};
  sse_parser sse;
};

sse_client::sse_client(net::io_context& ioc, const http_target& target,
                       const tcp::resolver::results_type& endpoints,
                       std::string path, std::string last_event_id,
                       callbacks cb, std::chrono::nanoseconds connect_timeout,
                       std::chrono::nanoseconds idle_timeout)
    : s_(std::make_unique<state>(ioc)) {
  s_->target = target;
  s_->endpoints = endpoints;
  s_->path = std::move(path);
  s_->last_id = std::move(last_event_id);
  s_->cb = std::move(cb);
  s_->connect_timeout = connect_timeout;
  s_->idle_timeout = idle_timeout;
}

sse_client::~sse_client() {
  close_socket(s_->stream);
}

void sse_client::start() {
  auto& s = *s_;
  s.req.method(http::verb::get);
  s.req.target(s.path);
  s.req.version(11);
  s.req.set(http::field::host, host_header(s.target));
  s.req.set(http::field::user_agent, user_agent);
  if (!s.target.token.empty())
    s.req.set(http::field::authorization, "Bearer " + s.target.token);
  s.req.set(http::field::accept, "text/event-stream");
  s.req.set(http::field::cache_control, "no-cache");
  if (!s.last_id.empty())
    s.req.set("Last-Event-ID", s.last_id);
  s.parser.body_limit(boost::none);
  s.stream.expires_after(s.connect_timeout);
  s.stream.async_connect(
      s.endpoints,
      [self = shared_from_this()](const error_code& ec, const tcp::endpoint&) {
        if (self->closed_)
          return;
        if (ec) {
          http_outcome o;
          o.failed = true;
          o.cls = ec == beast::error::timeout ? error_class::timeout
                                              : error_class::connect;
          o.detail = "connect: " + ec.message();
          self->end(std::move(o));
          return;
        }
        http::async_write(self->s_->stream, self->s_->req,
                          [self](const error_code& ec, size_t) {
                            if (self->closed_)
                              return;
                            if (ec) {
                              http_outcome o;
                              o.failed = true;
                              o.cls = ec == beast::error::timeout
                                          ? error_class::timeout
                                          : error_class::protocol;
                              o.detail = "send: " + ec.message();
                              self->end(std::move(o));
                              return;
                            }
                            self->read_header();
                          });
      });
}

void sse_client::read_header() {
  http::async_read_header(
      s_->stream, s_->buffer, s_->parser,
      [self = shared_from_this()](const error_code& ec, size_t) {
        if (self->closed_)
          return;
        if (ec) {
          http_outcome o;
          o.failed = true;
          o.cls = ec == beast::error::timeout ? error_class::timeout
                                              : error_class::protocol;
          o.detail = "no response head: " + ec.message();
          self->end(std::move(o));
          return;
        }
        auto status = self->s_->parser.get().result_int();
        if (status != 200) {
          http_outcome o;
          o.status = status;
          o.cls = class_of_status(status);
          o.detail = "stream answered " + std::to_string(status);
          self->end(std::move(o));
          return;
        }
        if (self->s_->cb.opened)
          self->s_->cb.opened();
        if (!self->closed_)
          self->read_body();
      });
}

void sse_client::read_body() {
  auto& s = *s_;
  s.parser.get().body().data = s.body.data();
  s.parser.get().body().size = s.body.size();
  s.stream.expires_after(s.idle_timeout);
  http::async_read_some(s.stream, s.buffer, s.parser,
                        [self = shared_from_this()](error_code ec, size_t) {
                          if (self->closed_)
                            return;
                          auto& s = *self->s_;
                          if (ec == http::error::need_buffer)
                            ec = {};
                          auto got = s.body.size() - s.parser.get().body().size;
                          if (got > 0) {
                            bool fine =
                                s.sse.feed(std::string_view{s.body.data(), got},
                                           [&](const sse_event& e) {
                                             if (!self->closed_ && s.cb.event)
                                               s.cb.event(e);
                                           });
                            if (self->closed_)
                              return;
                            if (!fine) {
                              http_outcome o;
                              o.failed = true;
                              o.cls = error_class::protocol;
                              o.detail = "event line too long";
                              self->end(std::move(o));
                              return;
                            }
                          }
                          if (ec || s.parser.is_done()) {
                            http_outcome o;
                            o.status = 200;
                            if (ec && !closed_by_peer(ec)) {
                              o.failed = true;
                              o.cls = ec == beast::error::timeout
                                          ? error_class::timeout
                                          : error_class::protocol;
                              o.detail = "stream broke: " + ec.message();
                            }
                            self->end(std::move(o));
                            return;
                          }
                          self->read_body();
                        });
}

void sse_client::end(http_outcome o) {
  if (closed_)
    return;
  closed_ = true;
  close_socket(s_->stream);
  o.done = steady::now();
  auto cb = std::move(s_->cb.ended);
  s_->cb = {};
  if (cb)
    cb(o);
}

void sse_client::close() {
  if (closed_)
    return;
  // The callbacks stay: close() may be called from inside one of them.
  closed_ = true;
  close_socket(s_->stream);
}

} // namespace distiller::load
