#pragma once

/// Internal to the HTTP façade: one accepted TCP connection, HTTP/1.1 with
/// keep-alive, and its state machine:
///
///   read header ──► route ──► [100 Continue] ──► read body ──► handler
///        ▲                                                        │
///        │ keep-alive                                 responder::send
///        └────────────── write response ◄─────────────────────────┘
///                             │ close / error           │ start_sse
///                             ▼                         ▼
///                  shutdown(send) + drain ──► closed ◄── SSE: events,
///                                                        heartbeats
///
/// Errors answered by the connection itself: 400 malformed, 404/405 no
/// route, 408 request timeout, 413 body too large (decided from
/// Content-Length before reading the body; chunked bodies stop at the
/// limit), 431 header too large, 500 handler gave no answer, 503 over the
/// connection cap. Each of those closes the connection afterwards.
///
/// The SSE half lives in connection_sse.cpp.
///
/// Threads: everything runs on the connection's strand; `post_*` may be
/// called from any thread (through the server core's post gate).
/// Ownership: kept alive by its pending operations and by responders;
/// the socket closes when the exchange ends, a timer fires, the client
/// leaves or the server stops (`close_now`).

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "bridges/http/response.hpp"
#include "bridges/http/router.hpp"
#include "bridges/http/sse_stream.hpp"
#include "runtime/core/ids.hpp"

namespace distiller::http::detail {

class server_core;

class connection : public std::enable_shared_from_this<connection> {
 public:
  connection(boost::asio::ip::tcp::socket&& socket,
             std::shared_ptr<server_core> core, bool admitted);
  ~connection();

  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  /// Begins serving (called once, right after accept).
  void start();

  /// Closes the socket from any thread (server stop); bypasses the gate.
  void shutdown();

  // -- called through responder / sse_stream from any thread -----------------

  bool post_response(uint64_t seq, response r);
  bool post_sse_start(uint64_t seq, sse_options options,
                      std::shared_ptr<sse_stream> stream);
  bool post_sse_frame(std::string frame);
  bool post_sse_close();

 private:
  enum class phase { reading, writing, handling, draining, sse };

  /// How long a closing connection waits for the client's FIN (so unread
  /// request bytes do not turn our close into a reset that loses the answer).
  static constexpr std::chrono::milliseconds max_linger{2000};

  // -- request cycle ---------------------------------------------------------

  void read_header();
  void on_header(boost::beast::error_code ec);
  void route_request();
  /// Checks the request's API token against the route's level; answers
  /// 401/403 itself and returns false when it is refused.
  bool authorize(const boost::beast::http::request_parser<
                     boost::beast::http::empty_body>::value_type& h,
                 const std::string& target, access_level need);
  void send_continue();
  void read_body();
  void on_body(boost::beast::error_code ec);
  template <class Message>
  void dispatch(Message& msg, std::string body);
  void on_response(uint64_t seq, response r);

  /// Writes `r`; afterwards closes (`close`) or reads the next request.
  void write_response(response r, bool close);
  void on_written(boost::beast::error_code ec, bool close);

  /// Answers an error the connection detected itself, then closes.
  void fail(unsigned status, const char* error, std::string detail);

  // -- closing ---------------------------------------------------------------

  void graceful_close();
  void drain();
  void close_now();
  void release_slot();

  // -- timers ----------------------------------------------------------------

  void arm(std::chrono::steady_clock::duration after, phase p);
  void arm_at(std::chrono::steady_clock::time_point at, phase p);
  void disarm();
  void on_deadline();

  // -- server-sent events ----------------------------------------------------

  void on_sse_start(uint64_t seq, sse_options options,
                    std::shared_ptr<sse_stream> stream);
  void sse_push(std::string frame, bool raw);
  /// The client is too slow: drop what waits, send the overflow frame, end.
  void sse_overflow();
  void sse_write_next();
  void sse_watch_client();
  void sse_heartbeat();
  void on_sse_close();

  // -- observability ---------------------------------------------------------

  void record(unsigned status);

  std::shared_ptr<server_core> core_;
  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer deadline_;
  boost::asio::steady_timer heartbeat_;
  boost::beast::flat_buffer buffer_;
  std::optional<
      boost::beast::http::request_parser<boost::beast::http::empty_body>>
      header_parser_;
  std::optional<
      boost::beast::http::request_parser<boost::beast::http::string_body>>
      body_parser_;
  std::shared_ptr<boost::beast::http::response<boost::beast::http::string_body>>
      res_;

  bool admitted_;
  bool closed_ = false;
  bool timed_out_ = false;
  phase timer_phase_ = phase::reading;
  uint64_t timer_gen_ = 0;

  // The request in progress.
  uint64_t seq_ = 0;
  bool awaiting_ = false;
  std::chrono::steady_clock::time_point read_started_;
  std::chrono::steady_clock::time_point started_;
  unsigned version_ = 11;
  bool keep_alive_ = false;
  bool head_ = false;
  std::string method_;
  std::string path_;
  std::string route_label_ = "unmatched";
  distiller::trace_id trace_;
  route_match match_;
  principal caller_;
  uint64_t body_limit_ = 0;
  unsigned status_ = 0;

  // Lingering close.
  // Small: SSE connections only watch for the client's FIN with it, and
  // a lingering close reads at most max_drain_bytes through it.
  std::array<char, 1024> scratch_{};
  size_t drained_ = 0;

  // Server-sent events.
  std::shared_ptr<sse_stream> sse_;
  std::deque<std::string> sse_queue_;
  size_t sse_pending_ = 0;
  bool sse_writing_ = false;
  bool sse_closing_ = false;
  bool sse_chunked_ = true;
  std::chrono::milliseconds sse_heartbeat_{0};
  size_t sse_max_queue_ = 0;
  std::chrono::milliseconds sse_write_timeout_{0};
  std::string sse_overflow_frame_;
};

} // namespace distiller::http::detail
