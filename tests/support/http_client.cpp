#include "tests/support/http_client.hpp"

#include <stdexcept>

#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>

namespace distiller::testing {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = net::ip::tcp;
using steady = std::chrono::steady_clock;

namespace {

tcp::endpoint endpoint_of(const std::string& host, uint16_t port) {
  return tcp::endpoint{net::ip::make_address(host), port};
}

/// Connects `socket` within `timeout`; throws on failure.
void connect_socket(net::io_context& ioc, tcp::socket& socket,
                    const std::string& host, uint16_t port,
                    std::chrono::milliseconds timeout) {
  bool done = false;
  boost::system::error_code err;
  socket.async_connect(endpoint_of(host, port),
                       [&](boost::system::error_code ec) {
                         err = ec;
                         done = true;
                       });
  ioc.restart();
  auto deadline = steady::now() + timeout;
  while (!done && ioc.run_one_until(deadline) > 0) {
  }
  if (!done) {
    socket.close();
    ioc.restart();
    ioc.run();
    throw std::runtime_error("connect to " + host + ":" + std::to_string(port) +
                             " timed out");
  }
  if (err)
    throw std::runtime_error("connect to " + host + ":" + std::to_string(port) +
                             ": " + err.message());
}

} // namespace

// -- http_reply --------------------------------------------------------------

std::string http_reply::header(std::string_view name) const {
  auto i = headers.find(beast::string_view{name.data(), name.size()});
  if (i == headers.end())
    return {};
  return std::string{i->value()};
}

boost::json::value http_reply::json() const {
  return boost::json::parse(body);
}

// -- http_client -------------------------------------------------------------

http_client::http_client(uint16_t port, std::string host,
                         std::chrono::milliseconds timeout)
    : host_(std::move(host)), port_(port), timeout_(timeout), socket_(ioc_) {}

http_client::~http_client() {
  close();
}

void http_client::connect() {
  if (socket_.is_open())
    return;
  buffer_.clear();
  connect_socket(ioc_, socket_, host_, port_, timeout_);
}

bool http_client::is_open() const {
  return socket_.is_open();
}

void http_client::close() {
  boost::system::error_code ec;
  socket_.shutdown(tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  buffer_.clear();
}

uint16_t http_client::local_port() const {
  return socket_.local_endpoint().port();
}

void http_client::run_until(const bool& done, const char* what) {
  ioc_.restart();
  auto deadline = steady::now() + timeout_;
  while (!done && ioc_.run_one_until(deadline) > 0) {
  }
  if (done)
    return;
  // Abort the operation, let its handler run, and report.
  boost::system::error_code ec;
  socket_.close(ec);
  ioc_.restart();
  ioc_.run();
  throw std::runtime_error(std::string{what} + ": nothing within " +
                           std::to_string(timeout_.count()) + " ms");
}

void http_client::write_raw(std::string_view bytes) {
  connect();
  bool done = false;
  boost::system::error_code err;
  net::async_write(socket_, net::buffer(bytes.data(), bytes.size()),
                   [&](boost::system::error_code ec, size_t) {
                     err = ec;
                     done = true;
                   });
  run_until(done, "writing a request");
  if (err)
    throw std::runtime_error("writing a request: " + err.message());
}

http_reply http_client::read_reply(bool head) {
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(boost::none);
  parser.skip(head);
  bool done = false;
  boost::system::error_code err;
  bhttp::async_read(socket_, buffer_, parser,
                    [&](boost::system::error_code ec, size_t) {
                      err = ec;
                      done = true;
                    });
  run_until(done, "reading a response");
  if (err)
    throw std::runtime_error("reading a response: " + err.message());
  auto msg = parser.release();
  http_reply reply;
  reply.status = msg.result_int();
  reply.keep_alive = msg.keep_alive();
  reply.body = std::move(msg.body());
  reply.headers = std::move(static_cast<bhttp::fields&>(msg));
  return reply;
}

http_reply http_client::request(bhttp::verb method, const std::string& target,
                                std::string body, const header_list& headers) {
  connect();
  bhttp::request<bhttp::string_body> req{method, target, 11};
  req.set(bhttp::field::host, host_ + ":" + std::to_string(port_));
  req.set(bhttp::field::user_agent, "distiller-test-client");
  req.keep_alive(true); // before the caller's headers: "Connection: close"
  for (auto& [name, value] : headers)
    req.set(name, value);
  req.body() = std::move(body);
  if (!req.body().empty() || method == bhttp::verb::post ||
      method == bhttp::verb::put || method == bhttp::verb::patch)
    req.prepare_payload();
  bool done = false;
  boost::system::error_code err;
  bhttp::async_write(socket_, req, [&](boost::system::error_code ec, size_t) {
    err = ec;
    done = true;
  });
  run_until(done, "writing a request");
  if (err)
    throw std::runtime_error("writing a request: " + err.message());
  auto reply = read_reply(method == bhttp::verb::head);
  if (!reply.keep_alive)
    close();
  return reply;
}

http_reply http_client::get(const std::string& target,
                            const header_list& headers) {
  return request(bhttp::verb::get, target, "", headers);
}

http_reply http_client::post(const std::string& target, std::string body,
                             const header_list& headers,
                             std::string content_type) {
  header_list all = headers;
  all.emplace_back("Content-Type", std::move(content_type));
  return request(bhttp::verb::post, target, std::move(body), all);
}

bool http_client::wait_closed(std::chrono::milliseconds timeout) {
  if (!socket_.is_open())
    return true;
  auto deadline = steady::now() + timeout;
  char scratch[4096];
  for (;;) {
    bool done = false;
    boost::system::error_code err;
    socket_.async_read_some(net::buffer(scratch),
                            [&](boost::system::error_code ec, size_t) {
                              err = ec;
                              done = true;
                            });
    ioc_.restart();
    while (!done && ioc_.run_one_until(deadline) > 0) {
    }
    if (!done) {
      boost::system::error_code ec;
      socket_.cancel(ec);
      ioc_.restart();
      ioc_.run();
      return false;
    }
    if (err) {
      close();
      return true;
    }
  }
}

// -- sse_reader --------------------------------------------------------------

sse_reader::sse_reader(uint16_t port, const std::string& target,
                       const header_list& headers, std::string host,
                       std::chrono::milliseconds timeout)
    : socket_(ioc_) {
  connect_socket(ioc_, socket_, host, port, timeout);
  bhttp::request<bhttp::empty_body> req{bhttp::verb::get, target, 11};
  req.set(bhttp::field::host, host + ":" + std::to_string(port));
  req.set(bhttp::field::accept, "text/event-stream");
  req.set(bhttp::field::cache_control, "no-cache");
  for (auto& [name, value] : headers)
    req.set(name, value);
  auto deadline = steady::now() + timeout;
  auto run = [&](bool& done, const char* what) {
    ioc_.restart();
    while (!done && ioc_.run_one_until(deadline) > 0) {
    }
    if (!done) {
      socket_.close();
      ioc_.restart();
      ioc_.run();
      throw std::runtime_error(std::string{what} + " timed out");
    }
  };
  bool done = false;
  boost::system::error_code err;
  bhttp::async_write(socket_, req, [&](boost::system::error_code ec, size_t) {
    err = ec;
    done = true;
  });
  run(done, "writing the SSE request");
  if (err)
    throw std::runtime_error("writing the SSE request: " + err.message());
  parser_.emplace();
  parser_->body_limit(boost::none);
  done = false;
  bhttp::async_read_header(socket_, buffer_, *parser_,
                           [&](boost::system::error_code ec, size_t) {
                             err = ec;
                             done = true;
                           });
  run(done, "reading the SSE response header");
  if (err)
    throw std::runtime_error("reading the SSE response header: " +
                             err.message());
  auto& msg = parser_->get();
  reply_.status = msg.result_int();
  reply_.keep_alive = msg.keep_alive();
  reply_.headers = static_cast<const bhttp::fields&>(msg);
  if (reply_.status != 200) {
    // Not a stream: read the (error) body so a test can look at it.
    done = false;
    bhttp::async_read(socket_, buffer_, *parser_,
                      [&](boost::system::error_code ec, size_t) {
                        err = ec;
                        done = true;
                      });
    run(done, "reading the SSE error body");
    reply_.body = parser_->get().body();
    ended_ = true;
    return;
  }
  parse();
}

sse_reader::~sse_reader() {
  close();
}

void sse_reader::close() {
  boost::system::error_code ec;
  socket_.shutdown(tcp::socket::shutdown_both, ec);
  socket_.close(ec);
}

bool sse_reader::read_more(steady::time_point deadline) {
  if (ended_)
    return false;
  if (!reading_) {
    reading_ = true;
    completed_ = false;
    bhttp::async_read_some(socket_, buffer_, *parser_,
                           [this](boost::system::error_code ec, size_t) {
                             reading_ = false;
                             completed_ = true;
                             error_ = ec;
                           });
  }
  ioc_.restart();
  while (!completed_ && ioc_.run_one_until(deadline) > 0) {
  }
  if (!completed_)
    return false; // the read stays pending for the next call
  completed_ = false;
  if (error_ || parser_->is_done())
    ended_ = true;
  parse();
  return true;
}

void sse_reader::parse() {
  const auto& text = parser_->get().body();
  for (;;) {
    auto end = text.find("\n\n", consumed_);
    if (end == std::string::npos)
      return;
    std::string_view block{text.data() + consumed_, end - consumed_ + 1};
    consumed_ = end + 2;
    sse_event ev;
    bool has_data = false;
    bool has_field = false;
    while (!block.empty()) {
      auto nl = block.find('\n');
      auto line = block.substr(0, nl);
      block.remove_prefix(nl == std::string_view::npos ? block.size() : nl + 1);
      if (line.empty())
        continue;
      if (line.front() == ':') {
        comments_.emplace_back(line);
        continue;
      }
      auto colon = line.find(':');
      auto field = line.substr(0, colon);
      std::string_view value;
      if (colon != std::string_view::npos) {
        value = line.substr(colon + 1);
        if (!value.empty() && value.front() == ' ')
          value.remove_prefix(1);
      }
      has_field = true;
      if (field == "id") {
        ev.id = std::string{value};
      } else if (field == "event") {
        ev.event = std::string{value};
      } else if (field == "retry") {
        retry_ = std::string{value};
      } else if (field == "data") {
        if (has_data)
          ev.data += '\n';
        ev.data += value;
        has_data = true;
      }
    }
    // As a browser does: a block without data dispatches no event.
    (void)has_field;
    if (has_data)
      events_.push_back(std::move(ev));
  }
}

std::optional<sse_event> sse_reader::next(std::chrono::milliseconds timeout) {
  auto deadline = steady::now() + timeout;
  while (next_event_ >= events_.size()) {
    if (ended_ || !read_more(deadline))
      return std::nullopt;
  }
  return events_[next_event_++];
}

bool sse_reader::wait_comments(size_t n, std::chrono::milliseconds timeout) {
  auto deadline = steady::now() + timeout;
  while (comments_.size() < n) {
    if (ended_ || !read_more(deadline))
      return false;
  }
  return true;
}

bool sse_reader::wait_ended(std::chrono::milliseconds timeout) {
  auto deadline = steady::now() + timeout;
  while (!ended_) {
    if (!read_more(deadline))
      return false;
  }
  return true;
}

} // namespace distiller::testing
