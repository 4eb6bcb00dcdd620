#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/json/value.hpp>

/// A small synchronous HTTP/1.1 client for tests (Boost.Beast), with a
/// deadline on every operation: a request that gets no answer in time throws
/// std::runtime_error instead of hanging the test. One connection, kept alive
/// between requests while the server allows it. Also raw writes (to send
/// half a request) and a Server-Sent Events reader. Not thread-safe: one
/// client per thread.
namespace distiller::testing {

using header_list = std::vector<std::pair<std::string, std::string>>;

/// One response.
struct http_reply {
  unsigned status = 0;
  boost::beast::http::fields headers;
  std::string body;
  bool keep_alive = false;

  /// The header's value or "" (case-insensitive name).
  std::string header(std::string_view name) const;

  /// The body parsed as JSON (throws on invalid JSON).
  boost::json::value json() const;
};

class http_client {
 public:
  explicit http_client(
      uint16_t port, std::string host = "127.0.0.1",
      std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~http_client();

  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;

  http_reply get(const std::string& target, const header_list& headers = {});

  http_reply post(const std::string& target, std::string body,
                  const header_list& headers = {},
                  std::string content_type = "application/json");

  /// Sends one request (connecting first when needed) and reads the reply.
  http_reply request(boost::beast::http::verb method, const std::string& target,
                     std::string body = "", const header_list& headers = {});

  // -- lower level -----------------------------------------------------------

  /// Connects unless connected.
  void connect();
  bool is_open() const;
  void close();

  /// The local port of the current connection (to tell connections apart).
  uint16_t local_port() const;

  /// Writes `bytes` as they are.
  void write_raw(std::string_view bytes);

  /// Reads one response (`head`: the request was HEAD, so no body follows).
  http_reply read_reply(bool head = false);

  /// Waits until the server closes the connection (EOF or reset); false when
  /// it is still open after `timeout`. Data that arrives meanwhile is dropped.
  bool wait_closed(std::chrono::milliseconds timeout);

  /// Changes the deadline of later operations.
  void set_timeout(std::chrono::milliseconds timeout) { timeout_ = timeout; }

 private:
  /// Runs the io_context until `done` or the deadline (then throws).
  void run_until(const bool& done, const char* what);

  std::string host_;
  uint16_t port_;
  std::chrono::milliseconds timeout_;
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
};

/// One Server-Sent Event as the client saw it.
struct sse_event {
  std::string id;
  std::string event;
  std::string data;
};

/// Opens `GET target` with `Accept: text/event-stream` and reads events.
class sse_reader {
 public:
  sse_reader(uint16_t port, const std::string& target,
             const header_list& headers = {}, std::string host = "127.0.0.1",
             std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~sse_reader();

  sse_reader(const sse_reader&) = delete;
  sse_reader& operator=(const sse_reader&) = delete;

  /// The status and headers of the response (body empty).
  const http_reply& reply() const noexcept { return reply_; }

  /// The next event, or nullopt when none arrives within `timeout` or the
  /// stream ended. Comments are counted, not returned.
  std::optional<sse_event>
  next(std::chrono::milliseconds timeout = std::chrono::seconds(5));

  /// Waits until at least `n` comment lines (e.g. ": ping") were seen.
  bool wait_comments(size_t n, std::chrono::milliseconds timeout);

  size_t comments() const noexcept { return comments_.size(); }

  /// The last `retry:` value the server sent ("" when none).
  const std::string& retry() const noexcept { return retry_; }
  const std::vector<std::string>& comment_lines() const noexcept {
    return comments_;
  }

  /// Waits until the server ends the stream; false on timeout.
  bool wait_ended(std::chrono::milliseconds timeout);

  bool ended() const noexcept { return ended_; }

  /// Disconnects (the server should notice).
  void close();

 private:
  std::string retry_;
  /// Reads more bytes, waiting at most until `deadline`; false on timeout.
  bool read_more(std::chrono::steady_clock::time_point deadline);

  /// Moves complete events from the raw text into `events_`.
  void parse();

  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
  std::optional<
      boost::beast::http::response_parser<boost::beast::http::string_body>>
      parser_;
  http_reply reply_;
  size_t consumed_ = 0;
  std::vector<sse_event> events_;
  size_t next_event_ = 0;
  std::vector<std::string> comments_;
  bool ended_ = false;
  bool reading_ = false;
  bool completed_ = false;
  boost::system::error_code error_;
};

} // namespace distiller::testing
