#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/verb.hpp>

#include "actors/load/recorder.hpp"
#include "actors/load/sse_parser.hpp"
#include "actors/load/target.hpp"

/// The load tool's HTTP/1.1 client (Boost.Beast, asynchronous, one
/// io_context): a pool of keep-alive connections for requests, and
/// Server-Sent Events streams, each on a connection of its own.
///
/// Where it runs: every handler on the io_context's one thread; nothing is
/// thread-safe. Owns: its sockets. Failures become an `http_outcome` with an
/// error class (connect, timeout, protocol) or the HTTP status; a request
/// on a reused keep-alive connection that the server had closed meanwhile
/// is retried once on a fresh one (the usual race with idle timeouts), so it
/// is not counted as an error.
namespace distiller::load {

namespace net = boost::asio;
using tcp = net::ip::tcp;

struct http_request {
  boost::beast::http::verb method = boost::beast::http::verb::get;
  std::string target;
  std::string body;
  std::string content_type;
  std::vector<std::pair<std::string, std::string>> headers;
};

struct http_outcome {
  /// No answer (connect failure, timeout, broken connection).
  bool failed = false;
  /// The class of the failure, or of a non-2xx status.
  error_class cls = error_class::protocol;
  unsigned status = 0;
  std::string body;
  std::string detail;
  /// The first byte left / the answer was complete.
  steady::time_point sent{};
  steady::time_point done{};

  bool ok() const noexcept { return !failed && status >= 200 && status < 300; }
};

/// The target's addresses, resolved once (throws std::runtime_error).
tcp::resolver::results_type resolve(net::io_context& ioc, const http_target& t);

class http_pool {
 public:
  using callback = std::function<void(http_outcome)>;

  http_pool(net::io_context& ioc, http_target target,
            tcp::resolver::results_type endpoints, int max_connections,
            std::chrono::nanoseconds timeout);
  ~http_pool();

  http_pool(const http_pool&) = delete;
  http_pool& operator=(const http_pool&) = delete;

  /// An idle connection, or room to open one.
  bool can_start() const noexcept;
  /// Sends `req` (requires can_start()); `done` is called exactly once.
  void start(http_request req, callback done);

  int busy() const noexcept { return busy_; }
  int opened() const noexcept { return static_cast<int>(conns_.size()); }
  int max_connections() const noexcept { return max_; }

  /// Called after every completion (a connection is free again).
  std::function<void()> on_free;

  /// Ends every request in flight with error class timeout ("still in
  /// flight when the run ended") and closes every connection.
  void abort_all();

  class connection;

 private:
  friend class connection;
  void released(connection* c);

  net::io_context& ioc_;
  http_target target_;
  tcp::resolver::results_type endpoints_;
  int max_;
  std::chrono::nanoseconds timeout_;
  std::vector<std::shared_ptr<connection>> conns_;
  std::vector<connection*> idle_;
  int busy_ = 0;
};

/// One Server-Sent Events stream. Callbacks stop once `close()` was called.
class sse_client : public std::enable_shared_from_this<sse_client> {
 public:
  struct callbacks {
    /// The response head arrived with status 200.
    std::function<void()> opened;
    std::function<void(const sse_event&)> event;
    /// The stream ended: `failed` false and status 200 when the server
    /// closed it normally; otherwise why (a non-200 status, connect,
    /// timeout, protocol).
    std::function<void(const http_outcome&)> ended;
  };

  sse_client(net::io_context& ioc, const http_target& target,
             const tcp::resolver::results_type& endpoints, std::string path,
             std::string last_event_id, callbacks cb,
             std::chrono::nanoseconds connect_timeout,
             std::chrono::nanoseconds idle_timeout);
  ~sse_client();

  void start();
  void close();
  bool closed() const noexcept { return closed_; }

 private:
  struct state;
  void read_header();
  void read_body();
  void end(http_outcome o);

  std::unique_ptr<state> s_;
  bool closed_ = false;
};

} // namespace distiller::load
