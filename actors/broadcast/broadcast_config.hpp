#pragma once

/// [sse]: the node's Server-Sent Events streams (thought streams and job
/// streams alike), bound into the node's schema by `declare`. Plain data,
/// filled once at start. Seed 003's SSE_HEARTBEAT_INTERVAL (seconds) and
/// SSE_MAX_CONNECTIONS set the matching keys.

#include <chrono>
#include <cstdint>

#include "runtime/config/schema.hpp"

namespace distiller::broadcast {

struct broadcast_config {
  /// A `: ping` comment this often on every stream.
  std::chrono::milliseconds heartbeat{30000};
  /// Streams one node keeps open; more get 503 with Retry-After.
  int max_connections = 1000;
  /// Streams of one key (a user, a job) per node.
  int max_per_user = 10;
  /// What a 503 asks the client to wait (Retry-After, whole seconds).
  std::chrono::milliseconds retry_after{5000};
  /// The reconnect delay sent to clients (`retry:`).
  std::chrono::milliseconds client_retry{2000};
  /// Bytes queued for one client before it counts as too slow.
  uint64_t queue_bytes = 1024 * 1024;
  /// A write that does not finish in this ends the stream (half-open
  /// connections); also the socket's TCP_USER_TIMEOUT.
  std::chrono::milliseconds write_timeout{20000};
  /// How long an out-of-order event waits for the ones before it before the
  /// gap is filled from PostgreSQL.
  std::chrono::milliseconds reorder_window{250};
  /// Events read per replay query.
  int replay_limit = 500;
  /// How long thought events are kept for resuming (older: `reset`).
  std::chrono::milliseconds replay_retention{std::chrono::hours(24)};
  /// Threads that read replays from PostgreSQL.
  int replay_workers = 2;
};

void declare(config::schema& s, broadcast_config& cfg);

} // namespace distiller::broadcast
