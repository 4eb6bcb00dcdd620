#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "runtime/config/schema.hpp"

namespace distiller::http {

/// [http]: the HTTP façade.
struct http_config {
  /// Listen address; loopback by default.
  std::string host = "127.0.0.1";
  /// Listen port; 0 picks a free port (tests).
  int port = 8000;
  /// I/O threads of the façade.
  int threads = 2;
  /// Largest request body accepted by any route (uploads).
  uint64_t max_body_bytes = 50ull * 1024 * 1024;
  /// Largest request header block.
  uint64_t max_header_bytes = 16 * 1024;
  /// Time a client has to send a whole request.
  std::chrono::milliseconds request_timeout{30000};
  /// Concurrent connections accepted before new ones get 503.
  int max_connections = 4096;
};

void declare(config::schema& s, http_config& cfg);

} // namespace distiller::http
