// The cluster port's tunnel (runtime/cluster/tunnel.hpp) on loopback: a
// client with the secret reaches the target through it; a client with
// another secret, or one that does not speak the handshake, is refused and
// the target never sees a connection.

#include "runtime/cluster/tunnel.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include <boost/asio.hpp>

#include "tests/support/testing.hpp"

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
namespace dt = distiller::testing;
namespace cl = distiller::cluster;

/// A blocking echo server on 127.0.0.1 counting its connections.
class echo_server {
 public:
  echo_server() {
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] {
      for (;;) {
        tcp::socket s{ioc_};
        boost::system::error_code ec;
        acceptor_.accept(s, ec);
        if (ec || stop_)
          return;
        ++connections_;
        char buf[256];
        auto n = s.read_some(asio::buffer(buf), ec);
        if (!ec)
          asio::write(s, asio::buffer(buf, n), ec);
      }
    });
  }
  ~echo_server() {
    stop_ = true;
    boost::system::error_code ec;
    tcp::socket s{ioc_};
    s.connect({asio::ip::make_address("127.0.0.1"), port_}, ec);
    thread_.join();
  }
  uint16_t port() const { return port_; }
  int connections() const { return connections_.load(); }

 private:
  asio::io_context ioc_;
  tcp::acceptor acceptor_{ioc_, {asio::ip::make_address("127.0.0.1"), 0}};
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::thread thread_;
};

/// Sends `text` to 127.0.0.1:port and returns what comes back before the
/// connection ends or a second passes.
std::string round_trip(uint16_t port, const std::string& text) {
  asio::io_context ioc;
  tcp::socket s{ioc};
  s.connect({asio::ip::make_address("127.0.0.1"), port});
  asio::write(s, asio::buffer(text));
  std::string got;
  char buf[256];
  boost::system::error_code ec;
  s.non_blocking(true);
  auto deadline = std::chrono::steady_clock::now() + 1s;
  while (std::chrono::steady_clock::now() < deadline &&
         got.size() < text.size()) {
    auto n = s.read_some(asio::buffer(buf), ec);
    if (ec == asio::error::would_block) {
      std::this_thread::sleep_for(5ms);
      continue;
    }
    if (ec)
      break;
    got.append(buf, n);
  }
  return got;
}

} // namespace

TEST(tunnel, the_secret_opens_the_way_to_the_target) {
  echo_server target;
  cl::tunnel_server server{"127.0.0.1", 0, target.port(), "s3cret"};
  cl::tunnel_client client{"127.0.0.1", server.port(), "s3cret"};
  EXPECT_EQ(round_trip(client.local_port(), "hello"), "hello");
  EXPECT_EQ(round_trip(client.local_port(), "again"), "again");
  EXPECT_TRUE(dt::wait_until([&] { return server.accepted() == 2; }, 5s));
  EXPECT_EQ(target.connections(), 2);
  EXPECT_EQ(server.refused(), 0u);
}

TEST(tunnel, another_secret_reaches_nothing) {
  echo_server target;
  cl::tunnel_server server{"127.0.0.1", 0, target.port(), "s3cret"};
  cl::tunnel_client client{"127.0.0.1", server.port(), "guess"};
  EXPECT_EQ(round_trip(client.local_port(), "hello"), "");
  EXPECT_TRUE(dt::wait_until([&] { return server.refused() == 1; }, 5s));
  EXPECT_EQ(target.connections(), 0);
}

TEST(tunnel, a_peer_without_the_handshake_reaches_nothing) {
  echo_server target;
  cl::tunnel_server server{"127.0.0.1", 0, target.port(), ""};
  // Talks at once (as CAF's middleman would) instead of proving anything.
  auto got = round_trip(server.port(), std::string(32, 'x') + "hello");
  EXPECT_EQ(got.find("hello"), std::string::npos);
  EXPECT_TRUE(dt::wait_until([&] { return server.refused() == 1; }, 5s));
  EXPECT_EQ(target.connections(), 0);
  // With the (empty) secret's proof it goes through.
  cl::tunnel_client client{"127.0.0.1", server.port(), ""};
  EXPECT_EQ(round_trip(client.local_port(), "hello"), "hello");
}

TEST(tunnel, proofs_depend_on_secret_and_nonce) {
  auto a = cl::tunnel_proof("k", "nonce-1");
  EXPECT_EQ(a.size(), 32u);
  EXPECT_EQ(a, cl::tunnel_proof("k", "nonce-1"));
  EXPECT_NE(a, cl::tunnel_proof("k", "nonce-2"));
  EXPECT_NE(a, cl::tunnel_proof("K", "nonce-1"));
}

TEST(tunnel, stops_with_connections_open) {
  echo_server target;
  auto server =
      std::make_unique<cl::tunnel_server>("127.0.0.1", 0, target.port(), "k");
  auto client =
      std::make_unique<cl::tunnel_client>("127.0.0.1", server->port(), "k");
  asio::io_context ioc;
  tcp::socket idle{ioc};
  idle.connect({asio::ip::make_address("127.0.0.1"), client->local_port()});
  EXPECT_TRUE(dt::wait_until([&] { return server->accepted() == 1; }, 5s));
  auto t0 = std::chrono::steady_clock::now();
  client.reset();
  server.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
}
