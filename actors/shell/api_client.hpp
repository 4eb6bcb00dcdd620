#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>

/// The inspection shell's way to a node: one blocking HTTP/1.1 request at a
/// time to the node's API (the /cluster routes, docs/cluster.md), each
/// bounded by a deadline, on a fresh connection (an operator's command, not
/// a hot path).
///
/// Where it runs: the shell's thread. Owns: nothing between calls.
namespace distiller::shell {

/// What a node answered, or why nothing was answered.
struct api_answer {
  /// No HTTP answer: the node could not be reached or did not answer in
  /// time; `detail` says which.
  bool unreachable = false;
  unsigned status = 0;
  std::string body;
  std::string detail;
};

class api_client {
 public:
  /// `address` is HOST:PORT, or a URL http://HOST:PORT[/]. Throws
  /// std::invalid_argument naming what is wrong with it.
  explicit api_client(const std::string& address,
                      std::chrono::milliseconds timeout = std::chrono::seconds{
                          10});

  api_answer get(const std::string& target) const;
  api_answer post(const std::string& target, const std::string& json) const;

  /// Sends `token` as `Authorization: Bearer` with every request (empty:
  /// none).
  void set_token(std::string token) { token_ = std::move(token); }

  const std::string& host() const noexcept { return host_; }
  uint16_t port() const noexcept { return port_; }
  /// "HOST:PORT", for messages.
  std::string address() const;

 private:
  api_answer request(bool post, const std::string& target,
                     const std::string& body) const;

  std::string host_;
  uint16_t port_ = 0;
  std::chrono::milliseconds timeout_;
  std::string token_;
};

/// `s` with every byte outside [A-Za-z0-9-._~] percent-encoded (a path
/// segment or a query value).
std::string url_encode(const std::string& s);

} // namespace distiller::shell
