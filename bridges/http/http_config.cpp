#include "bridges/http/http_config.hpp"

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
}

} // namespace distiller::http
