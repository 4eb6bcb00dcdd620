#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bridges/http/auth.hpp"
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
  /// Host header values the node answers to (names, optionally with a
  /// port; "*" = any). Empty: loopback names only (localhost, *.localhost,
  /// 127.x, [::1]) when `host` is loopback — a page on another site whose
  /// name was re-bound to 127.0.0.1 gets 403 — and any when it is not.
  std::vector<std::string> allowed_hosts;
  /// Origins (scheme://host[:port]) besides the node's own whose browser
  /// pages may send changing requests (POST, PUT, PATCH, DELETE).
  std::vector<std::string> allowed_origins;
  /// [auth]: API tokens (bridges/http/auth.hpp).
  auth_config auth;
};

/// Whether `host` (a listen address) is loopback: localhost, 127.x, ::1.
bool loopback_listener(const std::string& host);

/// Whether requests need an API token: off loopback always, on loopback
/// when auth.required says so.
bool auth_required(const http_config& cfg);

/// Throws config::config_error for a malformed auth.tokens entry, or for a
/// listener that is not loopback without any token (it would refuse every
/// request, or — worse — serve the network without one).
void validate(const http_config& cfg);

/// Whether a Host header value (name[:port]) is one the node answers to.
bool host_allowed(const http_config& cfg, std::string_view host);

/// Whether a changing request with this Origin may pass: the node's own
/// origin (the Host it was sent to), or one of allowed_origins.
bool origin_allowed(const http_config& cfg, std::string_view origin,
                    std::string_view host);

void declare(config::schema& s, http_config& cfg);

} // namespace distiller::http
