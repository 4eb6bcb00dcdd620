#pragma once

/// The SSE broadcaster of a node: one actor that owns every event stream's
/// subscription (thought streams per user, job streams per job), fed by the
/// pipelines' events — from the node's own workers at once, and from the
/// updates topics that every API node consumes — and by replays from
/// PostgreSQL when a client resumes (Last-Event-ID) or an event went
/// missing. Its logic is the plain `hub` (hub.hpp); this file is the actor
/// around it and a thread-safe handle to it.
///
///   broadcaster b{sys, cfg, &metrics, &registry};
///   b.publish("user:" + user_id, event);            // any thread
///   auto id = b.subscribe("user:" + user_id, last_event_id, source, client,
///                         options);                  // an HTTP I/O thread
///   b.unsubscribe(id);                               // the stream closed
///
/// Accepts (internal messages, local only; `broadcaster_actor`,
/// messages.hpp): subscribe, unsubscribe, publish, replay answers from its
/// replay workers, its own timers, and (channels_atom, prefix) →
/// std::vector<std::string>.
/// Where it runs: the actor on the shared scheduler (it never blocks: a
/// client only queues bytes on its connection); replays run on
/// `sse.replay_workers` detached task actors ("sse-replay-<i>"), which may
/// block on PostgreSQL.
/// Owns: the hub (subscriptions, their clients and sources), the replay
/// pool, the admission caps (admission.hpp) and its metrics:
///   distiller_sse_connections                      open streams (gauge)
///   distiller_sse_events_sent_total{stream}
///   distiller_sse_events_replayed_total{stream}
///   distiller_sse_events_dropped_total{stream,reason}  duplicate|stale|gone
///   distiller_sse_recoveries_total{stream,kind}     fill|reset
///   distiller_sse_slow_disconnects_total{stream,reason} queue_full|
///                                                   write_timeout
///   distiller_sse_rejected_total{reason}            node_full|user_full
///   distiller_sse_publish_to_send_seconds{stream}   event time → queued on
///                                                   the connection
/// Failure: a replay that throws is logged (sse_replay_failed) and retried
/// after a second; a client that is gone is dropped. `stop()` sends every
/// open stream `event: closing` (server_stopping) and ends it.

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>

#include "actors/broadcast/admission.hpp"
#include "actors/broadcast/broadcast_config.hpp"
#include "actors/broadcast/event.hpp"
#include "actors/broadcast/hub.hpp"
#include "actors/broadcast/messages.hpp"
#include "runtime/inspect/registry.hpp"
#include "runtime/metrics/metrics.hpp"

namespace distiller::broadcast {

class broadcast_metrics;

class broadcaster {
 public:
  broadcaster(caf::actor_system& sys, broadcast_config cfg,
              metrics::node_metrics* metrics, inspect::registry* actors);
  ~broadcaster();
  broadcaster(const broadcaster&) = delete;
  broadcaster& operator=(const broadcaster&) = delete;

  /// Subscribes `sink` to `channel` (see hub::subscribe); returns the
  /// subscription's id. Never blocks.
  uint64_t subscribe(std::string channel, std::optional<uint64_t> after,
                     std::shared_ptr<replay_source> source,
                     std::shared_ptr<client> sink, subscribe_options options);

  void unsubscribe(uint64_t id);

  /// Hands `e` to the channel's subscribers. Never blocks.
  void publish(std::string channel, event_ptr e);

  /// Tells the channel's subscribers how far it has got (see hub::head).
  /// Never blocks.
  void head(std::string channel, uint64_t head);

  /// Channels with subscribers that start with `prefix`. Blocks until the
  /// actor answers (at most 5 s): call from detached actors only.
  std::vector<std::string> channels(const std::string& prefix);

  /// Open streams, slots per key.
  admission& caps() noexcept { return *caps_; }
  std::shared_ptr<admission> shared_caps() noexcept { return caps_; }

  const broadcast_config& config() const noexcept { return cfg_; }

  /// Counts a stream that ended because its client was too slow:
  /// "queue_full" (more than sse.queue_bytes waited) or "write_timeout"
  /// (a write did not finish within sse.write_timeout).
  void count_slow_disconnect(const std::string& stream, const char* reason);

  /// Counts a stream refused over a cap ("node_full", "user_full").
  void count_rejected(const char* reason);

  /// Ends every stream (`closing`, reason server_stopping) and the actor.
  /// Idempotent.
  void stop();

 private:
  caf::actor_system& sys_;
  broadcast_config cfg_;
  std::shared_ptr<broadcast_metrics> metrics_;
  std::shared_ptr<admission> caps_;
  std::atomic<uint64_t> next_id_{1};
  std::atomic<bool> stopped_{false};
  broadcaster_actor actor_;
  struct replay_pool;
  std::shared_ptr<replay_pool> replays_;
};

} // namespace distiller::broadcast
