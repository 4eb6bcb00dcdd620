#pragma once

/// [cluster] and [shell]: how a node meets the others and what the
/// inspection shell may change. Plain data, filled once at start; bound into
/// the node's schema by `declare`.

#include <chrono>
#include <string>

#include "runtime/config/schema.hpp"

namespace distiller::cluster {

struct cluster_config {
  /// How often a node writes its heartbeat and reads the others'.
  std::chrono::milliseconds heartbeat{1000};
  /// A member silent this long is unreachable …
  std::chrono::milliseconds unreachable_after{3000};
  /// … and this long, down.
  std::chrono::milliseconds down_after{4000};
  /// The cluster port's address (CAF's middleman): loopback unless set.
  std::string host = "127.0.0.1";
  /// The cluster port; 0 picks a free one (announced in the membership).
  int port = 0;
  /// What other nodes connect to (default: host).
  std::string advertise_host;
  /// Shared by the nodes of one cluster; the tunnel in front of the
  /// middleman checks it (tunnel.hpp). Required when the port is not on
  /// loopback.
  std::string secret;
  /// How long a request to another node may take.
  std::chrono::milliseconds request_timeout{3000};
};

struct shell_config {
  /// Whether the shell's changing commands (restart, pause, resume, scale,
  /// send) are allowed on this node.
  bool allow_write = false;
  /// The interactive shell's history file (empty: ~/.distiller_history).
  std::string history;
};

void declare(config::schema& s, cluster_config& c, shell_config& sh);

/// Rules across keys (down after unreachable; a secret off loopback);
/// throws config::config_error naming the key.
void validate(const cluster_config& c);

/// True for 127.0.0.0/8, ::1 and "localhost".
bool is_loopback_host(const std::string& host);

} // namespace distiller::cluster
