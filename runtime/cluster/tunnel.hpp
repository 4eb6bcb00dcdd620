#pragma once

/// The cluster port: an authenticated TCP tunnel in front of CAF's
/// middleman. CAF 0.17's middleman accepts any peer that speaks its
/// protocol (the server does not check the client's app identifier, and
/// any connected peer may message a published actor or kill it), so the
/// middleman listens on 127.0.0.1 only and other nodes reach it through
/// this gate:
///
///   node A (client)                          node B (server)
///   CAF remote_actor(127.0.0.1, p) ──► tunnel_client ══TCP══► tunnel_server
///                                      (local port p)          │ HMAC check
///                                                              ▼
///                                               127.0.0.1:<B's middleman>
///
/// Handshake, per connection: the server sends "DSTL1" and a 16-byte random
/// nonce; the client answers HMAC-SHA256(secret, "distiller-cluster" ||
/// nonce) (32 bytes); the server compares in constant time and then pipes
/// bytes both ways, or closes the connection — a peer without the secret
/// never reaches the middleman, so it reaches no actor. Without a secret
/// (loopback clusters) the key is empty and the handshake still runs. The
/// traffic after the handshake is not encrypted: off loopback, run the
/// cluster port on a private network or through a VPN (docs/operations.md).
///
/// Threads: each object runs one io_context on a thread of its own; every
/// member is thread-safe. Failure: the constructors throw
/// std::runtime_error when they cannot listen; a connection that fails is
/// closed and counted (`refused()`), never thrown.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

namespace distiller::cluster {

/// The public side: listens on `host:port`, forwards authenticated
/// connections to `127.0.0.1:target_port`.
class tunnel_server {
 public:
  tunnel_server(std::string host, uint16_t port, uint16_t target_port,
                std::string secret);
  ~tunnel_server();
  tunnel_server(const tunnel_server&) = delete;
  tunnel_server& operator=(const tunnel_server&) = delete;

  /// The port it listens on (the chosen one when 0 was asked for).
  uint16_t port() const noexcept;

  /// Connections refused (wrong or missing HMAC, timeout, bad greeting).
  uint64_t refused() const noexcept;

  /// Connections let through.
  uint64_t accepted() const noexcept;

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

/// The connecting side: listens on 127.0.0.1 (a free port) and forwards
/// each local connection to the remote `host:port` after the handshake.
class tunnel_client {
 public:
  tunnel_client(std::string host, uint16_t port, std::string secret);
  ~tunnel_client();
  tunnel_client(const tunnel_client&) = delete;
  tunnel_client& operator=(const tunnel_client&) = delete;

  /// The local port CAF connects to.
  uint16_t local_port() const noexcept;

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

/// HMAC-SHA256(secret, "distiller-cluster" || nonce), 32 bytes (exposed for
/// tests).
std::string tunnel_proof(const std::string& secret, const std::string& nonce);

} // namespace distiller::cluster
