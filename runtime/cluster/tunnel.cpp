#include "runtime/cluster/tunnel.hpp"

#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <functional>
#include <stdexcept>
#include <thread>
#include <vector>

#include <boost/asio.hpp>

#include "runtime/logging/log.hpp"

namespace distiller::cluster {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

namespace {

constexpr std::string_view greeting = "DSTL1";
constexpr size_t nonce_size = 16;
constexpr size_t proof_size = 32;
constexpr auto handshake_timeout = std::chrono::seconds(3);

/// Two sockets piped both ways; the pair ends when either side does.
class pipe : public std::enable_shared_from_this<pipe> {
 public:
  pipe(tcp::socket a, tcp::socket b) : a_(std::move(a)), b_(std::move(b)) {}

  void start() {
    pump(a_, b_, buf_ab_);
    pump(b_, a_, buf_ba_);
  }

  void close() {
    error_code ec;
    a_.shutdown(tcp::socket::shutdown_both, ec);
    b_.shutdown(tcp::socket::shutdown_both, ec);
    a_.close(ec);
    b_.close(ec);
  }

 private:
  void pump(tcp::socket& from, tcp::socket& to, std::array<char, 16384>& buf) {
    from.async_read_some(
        asio::buffer(buf),
        [self = shared_from_this(), &from, &to, &buf](error_code ec, size_t n) {
          if (ec) {
            self->close();
            return;
          }
          asio::async_write(to, asio::buffer(buf.data(), n),
                            [self, &from, &to, &buf](error_code ec2, size_t) {
                              if (ec2) {
                                self->close();
                                return;
                              }
                              self->pump(from, to, buf);
                            });
        });
  }

  tcp::socket a_;
  tcp::socket b_;
  std::array<char, 16384> buf_ab_{};
  std::array<char, 16384> buf_ba_{};
};

/// One io_context on its own thread, and what must be closed so that its
/// run() returns: every acceptor, socket, timer and pipe registers itself
/// (weakly); `stop` closes what still lives on the io thread, and once the
/// aborted operations have completed the thread ends and nothing is left
/// holding the owner alive.
struct io_thread {
  asio::io_context ioc;
  std::thread thread;
  /// The io thread only.
  std::vector<std::weak_ptr<tcp::socket>> sockets;
  std::vector<std::weak_ptr<asio::steady_timer>> timers;
  std::vector<std::weak_ptr<pipe>> pipes;
  bool stopping = false;

  void start() {
    thread = std::thread([this] { ioc.run(); });
  }

  void track(const std::shared_ptr<tcp::socket>& x) { add(sockets, x); }
  void track(const std::shared_ptr<asio::steady_timer>& x) { add(timers, x); }
  void track(const std::shared_ptr<pipe>& x) { add(pipes, x); }

  void stop() {
    asio::post(ioc, [this] {
      stopping = true;
      error_code ec;
      for (auto& w : sockets)
        if (auto s = w.lock())
          s->close(ec);
      for (auto& w : timers)
        if (auto t = w.lock())
          t->cancel();
      for (auto& w : pipes)
        if (auto p = w.lock())
          p->close();
    });
    if (thread.joinable())
      thread.join();
  }

 private:
  template <class T>
  static void add(std::vector<std::weak_ptr<T>>& xs,
                  const std::shared_ptr<T>& x) {
    // Forget what is gone before the list grows (long-running servers).
    if (xs.size() >= 64)
      xs.erase(std::remove_if(xs.begin(), xs.end(),
                              [](auto& w) { return w.expired(); }),
               xs.end());
    xs.push_back(x);
  }
};

/// Closes `i`'s acceptor on its own thread, then stops that thread (both
/// sides of the tunnel end this way).
template <class Impl>
void shut_down(const std::shared_ptr<Impl>& i) {
  asio::post(i->io.ioc, [i] {
    error_code ec;
    i->acceptor.close(ec);
  });
  i->io.stop();
}

uint16_t port_of(const tcp::acceptor& a) {
  error_code ec;
  return a.local_endpoint(ec).port();
}

} // namespace

std::string tunnel_proof(const std::string& secret, const std::string& nonce) {
  std::string msg = "distiller-cluster" + nonce;
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), out,
       &len);
  return std::string(reinterpret_cast<const char*>(out), len);
}

// -- server -------------------------------------------------------------------

struct tunnel_server::impl : std::enable_shared_from_this<impl> {
  io_thread io;
  tcp::acceptor acceptor{io.ioc};
  uint16_t target_port;
  std::string secret;
  std::atomic<uint64_t> refused{0};
  std::atomic<uint64_t> accepted{0};

  void accept() {
    acceptor.async_accept(
        [self = shared_from_this()](error_code ec, tcp::socket s) {
          if (ec == asio::error::operation_aborted || self->io.stopping)
            return;
          if (!ec) {
            auto sp = std::make_shared<tcp::socket>(std::move(s));
            self->io.track(sp);
            self->handshake(sp);
          }
          self->accept();
        });
  }

  void handshake(std::shared_ptr<tcp::socket> s) {
    auto hello = std::make_shared<std::string>(greeting);
    std::string nonce(nonce_size, '\0');
    RAND_bytes(reinterpret_cast<unsigned char*>(nonce.data()),
               static_cast<int>(nonce.size()));
    *hello += nonce;
    auto expected = std::make_shared<std::string>(tunnel_proof(secret, nonce));
    auto timer = std::make_shared<asio::steady_timer>(io.ioc);
    io.track(timer);
    timer->expires_after(handshake_timeout);
    timer->async_wait([s](error_code ec) {
      if (!ec) {
        error_code ignored;
        s->close(ignored);
      }
    });
    asio::async_write(
        *s, asio::buffer(*hello),
        [self = shared_from_this(), s, hello, expected, timer](error_code ec,
                                                               size_t) {
          if (ec) {
            self->reject(s, "greeting failed");
            return;
          }
          auto proof = std::make_shared<std::string>(proof_size, '\0');
          asio::async_read(
              *s, asio::buffer(proof->data(), proof->size()),
              [self, s, proof, expected, timer](error_code ec2, size_t) {
                timer->cancel();
                if (ec2 || CRYPTO_memcmp(proof->data(), expected->data(),
                                         proof_size) != 0) {
                  self->reject(s, ec2 ? "no proof" : "wrong proof");
                  return;
                }
                self->forward(s);
              });
        });
  }

  void reject(const std::shared_ptr<tcp::socket>& s, const char* why) {
    ++refused;
    error_code ec;
    auto peer = s->remote_endpoint(ec);
    log::warn("cluster_connection_refused",
              {{"reason", why},
               {"peer", ec ? std::string{"?"}
                           : peer.address().to_string() + ":" +
                                 std::to_string(peer.port())}});
    s->close(ec);
  }

  void forward(const std::shared_ptr<tcp::socket>& s) {
    auto inner = std::make_shared<tcp::socket>(io.ioc);
    io.track(inner);
    inner->async_connect({asio::ip::make_address("127.0.0.1"), target_port},
                         [self = shared_from_this(), s, inner](error_code ec) {
                           if (ec) {
                             error_code ignored;
                             s->close(ignored);
                             return;
                           }
                           ++self->accepted;
                           auto p = std::make_shared<pipe>(std::move(*s),
                                                           std::move(*inner));
                           self->io.track(p);
                           p->start();
                         });
  }
};

tunnel_server::tunnel_server(std::string host, uint16_t port,
                             uint16_t target_port, std::string secret)
    : impl_(std::make_shared<impl>()) {
  impl_->target_port = target_port;
  impl_->secret = std::move(secret);
  tcp::endpoint ep{asio::ip::make_address(host), port};
  impl_->acceptor.open(ep.protocol());
  impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  error_code ec;
  impl_->acceptor.bind(ep, ec);
  if (ec)
    throw std::runtime_error("cluster port " + host + ":" +
                             std::to_string(port) + ": " + ec.message());
  impl_->acceptor.listen();
  impl_->accept();
  impl_->io.start();
}

tunnel_server::~tunnel_server() {
  shut_down(impl_);
}

uint16_t tunnel_server::port() const noexcept {
  return port_of(impl_->acceptor);
}

uint64_t tunnel_server::refused() const noexcept {
  return impl_->refused.load();
}

uint64_t tunnel_server::accepted() const noexcept {
  return impl_->accepted.load();
}

// -- client -------------------------------------------------------------------

struct tunnel_client::impl : std::enable_shared_from_this<impl> {
  io_thread io;
  tcp::acceptor acceptor{io.ioc};
  std::string host;
  uint16_t port = 0;
  std::string secret;

  void accept() {
    acceptor.async_accept(
        [self = shared_from_this()](error_code ec, tcp::socket s) {
          if (ec == asio::error::operation_aborted || self->io.stopping)
            return;
          if (!ec) {
            auto sp = std::make_shared<tcp::socket>(std::move(s));
            self->io.track(sp);
            self->connect(sp);
          }
          self->accept();
        });
  }

  void connect(std::shared_ptr<tcp::socket> local) {
    auto remote = std::make_shared<tcp::socket>(io.ioc);
    io.track(remote);
    auto resolver = std::make_shared<tcp::resolver>(io.ioc);
    resolver->async_resolve(
        host, std::to_string(port),
        [self = shared_from_this(), local, remote,
         resolver](error_code ec, tcp::resolver::results_type results) {
          if (ec) {
            error_code ignored;
            local->close(ignored);
            return;
          }
          asio::async_connect(
              *remote, results,
              [self, local, remote](error_code ec2, const tcp::endpoint&) {
                if (ec2) {
                  error_code ignored;
                  local->close(ignored);
                  return;
                }
                self->prove(local, remote);
              });
        });
  }

  void prove(std::shared_ptr<tcp::socket> local,
             std::shared_ptr<tcp::socket> remote) {
    auto hello =
        std::make_shared<std::string>(greeting.size() + nonce_size, '\0');
    asio::async_read(
        *remote, asio::buffer(hello->data(), hello->size()),
        [self = shared_from_this(), local, remote, hello](error_code ec,
                                                          size_t) {
          if (ec || hello->compare(0, greeting.size(), greeting) != 0) {
            error_code ignored;
            local->close(ignored);
            remote->close(ignored);
            return;
          }
          auto proof = std::make_shared<std::string>(
              tunnel_proof(self->secret, hello->substr(greeting.size())));
          asio::async_write(
              *remote, asio::buffer(*proof),
              [self, local, remote, proof](error_code ec2, size_t) {
                if (ec2) {
                  error_code ignored;
                  local->close(ignored);
                  return;
                }
                auto p = std::make_shared<pipe>(std::move(*local),
                                                std::move(*remote));
                self->io.track(p);
                p->start();
              });
        });
  }
};

tunnel_client::tunnel_client(std::string host, uint16_t port,
                             std::string secret)
    : impl_(std::make_shared<impl>()) {
  impl_->host = std::move(host);
  impl_->port = port;
  impl_->secret = std::move(secret);
  tcp::endpoint ep{asio::ip::make_address("127.0.0.1"), 0};
  impl_->acceptor.open(ep.protocol());
  impl_->acceptor.bind(ep);
  impl_->acceptor.listen();
  impl_->accept();
  impl_->io.start();
}

tunnel_client::~tunnel_client() {
  shut_down(impl_);
}

uint16_t tunnel_client::local_port() const noexcept {
  return port_of(impl_->acceptor);
}

} // namespace distiller::cluster
