#pragma once

/// The HTTP façade's server: a Boost.Beast HTTP/1.1 server with keep-alive,
/// limits, metrics and Server-Sent Events, serving the routes of a `router`.
/// This header is the module's front door (it also declares
/// `add_node_routes`).
///
/// Threads: owns its io_context and `threads` I/O threads; each connection
/// runs on its own strand. Handlers run on those threads and must not block
/// (answer at once, or move the `responder` to an actor). `start`/`stop` are
/// for the owning thread; never call `stop` from a handler.
/// Ownership: the server owns the listening socket and its connections;
/// responders and SSE streams held elsewhere may outlive it harmlessly.
/// Limits (from http_config, per route overridable): header size (431), body
/// size (413, decided from Content-Length before reading), request timeout
/// (408), connection cap (503). Every response carries `Server: distiller`
/// and `x-trace-id`; errors have a JSON body `{"error":…, "detail":…}`.
/// Failure: `start` throws std::runtime_error when it cannot listen ("cannot
/// listen on 127.0.0.1:8000: Address already in use"); I/O errors of single
/// connections are logged and close only that connection.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "bridges/http/http_config.hpp"
#include "bridges/http/node_routes.hpp"
#include "bridges/http/router.hpp"

namespace distiller::metrics {
class node_metrics;
} // namespace distiller::metrics

namespace distiller::inspect {
class trace_ring;
} // namespace distiller::inspect

namespace distiller::http {

namespace detail {
class server_core;
class acceptor;
} // namespace detail

class server {
 public:
  /// `metrics` (optional) receives the distiller_http_* families; `trace`
  /// (optional, the node's trace ring) one entry per answered request
  /// (actor "http", what "http", detail "<METHOD> <route pattern> <status>
  /// <ms> ms"). Both must outlive the server.
  server(http_config cfg, std::shared_ptr<router> routes,
         metrics::node_metrics* metrics = nullptr,
         inspect::trace_ring* trace = nullptr);

  /// Calls `stop()`.
  ~server();

  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// Binds and listens (port 0 picks a free port), starts the I/O threads and
  /// returns the bound port. Throws std::runtime_error when binding fails,
  /// std::logic_error when called after `stop`.
  uint16_t start();

  /// Closes the listener and every connection (SSE streams too, whose
  /// on_close callbacks run), then joins the I/O threads. Idempotent.
  void stop();

  /// The bound port (0 before `start`).
  uint16_t port() const noexcept { return port_.load(); }

  /// Connections currently served (not counting rejected or closing ones).
  int open_connections() const noexcept;

 private:
  void run_io();

  std::shared_ptr<detail::server_core> core_;
  std::shared_ptr<detail::acceptor> acceptor_;
  std::optional<
      boost::asio::executor_work_guard<boost::asio::io_context::executor_type>>
      work_;
  std::vector<std::thread> threads_;
  std::atomic<uint16_t> port_{0};
  std::mutex mtx_;
  std::condition_variable cv_;
  int running_ = 0;
  bool started_ = false;
  bool stopped_ = false;
};

} // namespace distiller::http
