#include "actors/broadcast/broadcast_config.hpp"

namespace distiller::broadcast {

using std::chrono::milliseconds;

void declare(config::schema& s, broadcast_config& cfg) {
  s.add_duration("sse.heartbeat", cfg.heartbeat, milliseconds{100},
                 "A ': ping' comment this often on every event stream, so "
                 "proxies keep it open and dead clients are noticed.");
  s.alias_env("sse.heartbeat", "SSE_HEARTBEAT_INTERVAL", "s");
  s.add_int("sse.max_connections", cfg.max_connections, 1, 1000000,
            "Event streams one node keeps open; more get 503 with "
            "Retry-After.");
  s.alias_env("sse.max_connections", "SSE_MAX_CONNECTIONS");
  s.add_int("sse.max_per_user", cfg.max_per_user, 1, 100000,
            "Event streams of one user (or one job) per node; more get 503 "
            "with Retry-After.");
  s.add_duration("sse.retry_after", cfg.retry_after, milliseconds{1000},
                 "Retry-After of a 503 over the caps (rounded up to seconds).");
  s.add_duration("sse.client_retry", cfg.client_retry, milliseconds{100},
                 "Reconnect delay sent to clients as 'retry:'.");
  s.add_bytes("sse.queue_bytes", cfg.queue_bytes, 4096, 1ull << 30,
              "Bytes queued for one client before it counts as too slow: it "
              "gets a final 'closing' event and is disconnected.");
  s.add_duration("sse.write_timeout", cfg.write_timeout, milliseconds{100},
                 "A write that does not finish within this ends the stream "
                 "(half-open connections; also TCP_USER_TIMEOUT).");
  s.add_duration("sse.reorder_window", cfg.reorder_window, milliseconds{1},
                 "How long an out-of-order event waits for the ones before "
                 "it before the gap is filled from PostgreSQL.");
  s.add_int("sse.replay_limit", cfg.replay_limit, 1, 100000,
            "Events read per replay query when a client resumes.");
  s.add_duration("sse.replay_retention", cfg.replay_retention,
                 milliseconds{1000},
                 "How long thought events are kept for resuming; a client "
                 "resuming from before that gets 'event: reset'.");
  s.add_int("sse.replay_workers", cfg.replay_workers, 1, 64,
            "Threads that read replays from PostgreSQL.");
}

} // namespace distiller::broadcast
