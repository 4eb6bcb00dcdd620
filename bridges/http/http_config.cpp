#include "bridges/http/http_config.hpp"

#include <cctype>
#include <string>

namespace distiller::http {

void declare(config::schema& s, http_config& cfg) {
  s.add_string("http.host", cfg.host, "Listen address of the HTTP façade.");
  s.add_int("http.port", cfg.port, 0, 65535,
            "Listen port of the HTTP façade; 0 picks a free port.");
  s.add_int("http.threads", cfg.threads, 1, 64, "I/O threads of the façade.");
  s.add_bytes("http.max_body_bytes", cfg.max_body_bytes, 1024,
              uint64_t{16} * 1024 * 1024 * 1024,
              "Largest request body accepted (uploads); larger gets 413.");
  s.add_bytes("http.max_header_bytes", cfg.max_header_bytes, 1024,
              uint64_t{1024} * 1024,
              "Largest request header block; larger gets 431.");
  s.add_duration("http.request_timeout", cfg.request_timeout,
                 std::chrono::milliseconds{100},
                 "Time a client has to send a whole request.");
  s.add_int("http.max_connections", cfg.max_connections, 1, 1000000,
            "Concurrent connections before new ones get 503.");
  s.add_list("http.allowed_hosts", cfg.allowed_hosts,
             "Host header values the node answers to (name[:port], * for "
             "any); empty: loopback names only when http.host is loopback "
             "(against DNS rebinding), any otherwise.");
  s.add_list("http.allowed_origins", cfg.allowed_origins,
             "Origins (scheme://host[:port]) besides the node's own whose "
             "pages may POST, PUT, PATCH or DELETE (against cross-site "
             "requests).");
  s.add_bool("auth.required", cfg.auth.required,
             "Require an API token on a loopback listener too (off "
             "loopback one is always required).");
  s.add_list("auth.tokens", cfg.auth.tokens,
             "API tokens as sha256:HEX:SCOPE entries (the token's SHA-256 "
             "and admin, write, read or user=UUID; distiller auth token "
             "makes one).");
}

namespace {

std::string lower(std::string_view s) {
  std::string out{s};
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

/// "name" of "name:port", "[::1]" of "[::1]:8000".
std::string_view host_name(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    auto close = host.find(']');
    return close == std::string_view::npos ? host : host.substr(0, close + 1);
  }
  auto colon = host.rfind(':');
  return colon == std::string_view::npos ? host : host.substr(0, colon);
}

bool loopback_name(std::string_view name) {
  auto n = lower(name);
  return n == "localhost" || n == "[::1]" || n.rfind("127.", 0) == 0 ||
         (n.size() > 10 && n.compare(n.size() - 10, 10, ".localhost") == 0);
}

} // namespace

bool loopback_listener(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]" ||
         host.rfind("127.", 0) == 0;
}

bool auth_required(const http_config& cfg) {
  return cfg.auth.required || !loopback_listener(cfg.host);
}

void validate(const http_config& cfg) {
  try {
    token_table table{cfg.auth, auth_required(cfg)};
  } catch (const std::invalid_argument& e) {
    throw config::config_error("auth.tokens", e.what());
  }
  if (cfg.auth.tokens.empty() && auth_required(cfg))
    throw config::config_error(
        "auth.tokens",
        cfg.auth.required
            ? std::string{"auth.required is set but no token is configured: "
                          "make one with `distiller auth token --scope "
                          "admin` and add its entry"}
            : "http.host '" + cfg.host +
                  "' is not loopback, so every request needs an API token, "
                  "and none is configured: make one with `distiller auth "
                  "token --scope admin` and add its entry");
}

bool host_allowed(const http_config& cfg, std::string_view host) {
  if (cfg.allowed_hosts.empty())
    return !loopback_listener(cfg.host) || loopback_name(host_name(host));
  auto h = lower(host);
  auto name = lower(host_name(host));
  for (auto& a : cfg.allowed_hosts) {
    auto x = lower(a);
    if (x == "*" || x == h || x == name)
      return true;
  }
  return false;
}

bool origin_allowed(const http_config& cfg, std::string_view origin,
                    std::string_view host) {
  auto o = lower(origin);
  for (auto& a : cfg.allowed_origins)
    if (lower(a) == o)
      return true;
  // Same origin: the page came from the node it writes to.
  auto scheme = o.find("://");
  if (scheme == std::string::npos)
    return false; // "null" (a sandboxed or file page) and the like
  return o.substr(scheme + 3) == lower(host);
}

} // namespace distiller::http
