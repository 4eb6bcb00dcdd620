#include "bridges/http/server.hpp"

#include <stdexcept>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "bridges/http/connection.hpp"
#include "bridges/http/server_core.hpp"
#include "runtime/logging/log.hpp"
#include "runtime/metrics/metrics.hpp"

namespace distiller::http {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

namespace detail {

/// The listening socket and its accept loop, on a strand of its own.
class acceptor : public std::enable_shared_from_this<acceptor> {
 public:
  explicit acceptor(std::shared_ptr<server_core> core)
      : core_(std::move(core)), strand_(net::make_strand(core_->io())),
        socket_(strand_), retry_(strand_) {}

  /// Binds and listens; throws std::runtime_error naming the address.
  uint16_t listen(const std::string& host, int port) {
    auto fail = [&](const std::string& why) {
      throw std::runtime_error("cannot listen on " + host + ":" +
                               std::to_string(port) + ": " + why);
    };
    boost::system::error_code ec;
    auto address = net::ip::make_address(host, ec);
    if (ec) {
      tcp::resolver resolver{core_->io()};
      auto found = resolver.resolve(host, std::to_string(port), ec);
      if (ec || found.empty())
        fail(ec ? ec.message() : "host not found");
      address = found.begin()->endpoint().address();
    }
    tcp::endpoint endpoint{address, static_cast<unsigned short>(port)};
    socket_.open(endpoint.protocol(), ec);
    if (ec)
      fail(ec.message());
    socket_.set_option(net::socket_base::reuse_address(true), ec);
    socket_.bind(endpoint, ec);
    if (ec)
      fail(ec.message());
    socket_.listen(net::socket_base::max_listen_connections, ec);
    if (ec)
      fail(ec.message());
    return socket_.local_endpoint().port();
  }

  void start() {
    net::dispatch(strand_, [self = shared_from_this()] { self->accept(); });
  }

  void close() {
    net::post(strand_, [self = shared_from_this()] {
      boost::system::error_code ec;
      self->socket_.close(ec);
      self->retry_.cancel();
    });
  }

 private:
  void accept() {
    socket_.async_accept(net::make_strand(core_->io()),
                         [self = shared_from_this()](
                             boost::system::error_code ec, tcp::socket peer) {
                           self->on_accept(ec, std::move(peer));
                         });
  }

  void on_accept(boost::system::error_code ec, tcp::socket peer) {
    if (!socket_.is_open() || ec == net::error::operation_aborted)
      return;
    if (ec) {
      // E.g. out of file descriptors: back off instead of spinning.
      log::warn("http_accept_failed", {{"error", ec.message()}});
      retry_.expires_after(100ms);
      retry_.async_wait([self = shared_from_this()](auto err) {
        if (!err && self->socket_.is_open())
          self->accept();
      });
      return;
    }
    bool admitted = core_->try_admit();
    if (!admitted)
      log::warn("http_connection_rejected",
                {{"reason", "max_connections"},
                 {"max_connections", core_->config().max_connections}});
    auto conn = std::make_shared<connection>(std::move(peer), core_, admitted);
    if (core_->enroll(conn))
      conn->start();
    accept();
  }

  std::shared_ptr<server_core> core_;
  net::strand<net::io_context::executor_type> strand_;
  tcp::acceptor socket_;
  net::steady_timer retry_;
};

} // namespace detail

server::server(http_config cfg, std::shared_ptr<router> routes,
               metrics::node_metrics* metrics, inspect::trace_ring* trace) {
  if (!routes)
    routes = std::make_shared<router>();
  core_ = std::make_shared<detail::server_core>(
      std::move(cfg), std::move(routes),
      metrics ? &metrics->registry() : nullptr, trace);
}

server::~server() {
  try {
    stop();
  } catch (const std::exception& e) {
    log::error("http_stop_failed", {{"error", e.what()}});
  }
}

uint16_t server::start() {
  std::lock_guard<std::mutex> guard{mtx_};
  if (stopped_)
    throw std::logic_error("http::server::start after stop");
  if (started_)
    return port_.load();
  auto& cfg = core_->config();
  acceptor_ = std::make_shared<detail::acceptor>(core_);
  port_ = acceptor_->listen(cfg.host, cfg.port);
  acceptor_->start();
  // Keeps the I/O threads running while no operation is pending (e.g. every
  // connection waits for an actor's answer); released by stop().
  work_.emplace(core_->io().get_executor());
  auto n = std::max(cfg.threads, 1);
  running_ = n;
  for (int i = 0; i < n; ++i)
    threads_.emplace_back([this] { run_io(); });
  started_ = true;
  log::debug("http_server_started", {{"address", cfg.host},
                                     {"port", static_cast<int>(port_.load())},
                                     {"threads", n}});
  return port_.load();
}

void server::run_io() {
  for (;;) {
    try {
      core_->io().run();
      break;
    } catch (const std::exception& e) {
      // A handler threw past its connection: log it and keep serving.
      log::error("http_io_failed", {{"error", e.what()}});
    }
  }
  std::lock_guard<std::mutex> guard{mtx_};
  --running_;
  cv_.notify_all();
}

void server::stop() {
  std::unique_lock<std::mutex> lock{mtx_};
  if (stopped_)
    return;
  stopped_ = true;
  if (!started_) {
    core_->close_gate();
    return;
  }
  for (auto& t : threads_)
    if (t.get_id() == std::this_thread::get_id())
      throw std::logic_error("http::server::stop called from an I/O thread");
  // No more posts from other threads, no new connections; then close the
  // listener and every connection, and release the work guard: once the
  // closes and the handlers they abort have run, the I/O threads return.
  auto live = core_->close_gate();
  for (auto& c : live)
    c->shutdown();
  live.clear();
  acceptor_->close();
  work_.reset();
  if (!cv_.wait_for(lock, 5s, [this] { return running_ == 0; })) {
    log::warn("http_stop_forced",
              {{"reason", "I/O threads still busy after 5 s"}});
    core_->io().stop();
  }
  lock.unlock();
  for (auto& t : threads_)
    t.join();
  threads_.clear();
  acceptor_.reset();
}

int server::open_connections() const noexcept {
  return core_->open_connections();
}

} // namespace distiller::http
