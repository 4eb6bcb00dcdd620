#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

/// Where a load run sends its traffic, and the rule that keeps it on this
/// machine: loopback (127.0.0.0/8, ::1, localhost) or a host the user named
/// twice, in the target and in --allow-host.
namespace distiller::load {

/// A bad command line (exit code 2); the message names the option.
class usage_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct http_target {
  std::string host;
  uint16_t port = 80;
  /// The API token sent as `Authorization: Bearer` (empty: none).
  std::string token = {};

  /// "http://host:port" ([::1] bracketed).
  std::string url() const;
};

/// Parses "http://HOST[:PORT][/]"; throws usage_error (https, a path, a bad
/// port).
http_target parse_target(std::string_view url);

/// 127.0.0.0/8, ::1 or "localhost" (no name is resolved to decide).
bool is_loopback_host(std::string_view host) noexcept;

/// Throws usage_error naming `option` unless `host` is loopback or equals
/// one of `allowed` (case-insensitive).
void check_host_allowed(std::string_view host,
                        const std::vector<std::string>& allowed,
                        std::string_view option);

/// The hosts of a bootstrap list "h1:9092,[::1]:9093".
std::vector<std::string> broker_hosts(std::string_view brokers);

/// The local node's HTTP address from `<data_dir>/node.json` (0.0.0.0 and ::
/// become loopback); throws std::runtime_error naming the file when there
/// is none.
http_target node_target(const std::string& data_dir);

} // namespace distiller::load
