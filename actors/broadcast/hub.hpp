#pragma once

/// The broadcaster's logic, without an actor or a socket: channels, their
/// subscribers, and for each subscriber the position it has reached. It is
/// driven by calls that carry the time (`now`) and answers with effects for
/// its owner to perform (replays to run, timers to set), so tests drive it
/// with a fake clock and fake clients. The broadcaster actor
/// (broadcaster.hpp) owns one hub and performs the effects.
///
/// A subscriber's life:
///
///   subscribe ──► syncing ──replayed──► live ◄──────────────┐
///                   │ live events held      │ gap (log):    │
///                   │ (seq > last)          │ hold, timer   │
///                   ▼                       ▼               │
///          reset ◄─ replayed(reset)      filling ──replayed─┘
///
///   syncing  the replay of what the client missed (from Last-Event-ID, or
///            just the head) runs; live events that arrive meanwhile are
///            held. When it answers: the missed events, then `ready` (id =
///            the position reached, once per subscription when asked for),
///            then the held events that follow — no gap, no duplicate.
///   live     log channels: the next event (last + 1) goes out at once, with
///            any held ones that follow it; a later one is held, and if the
///            gap is still open after `reorder_window` (events of one user
///            can reach Kafka out of commit order from two producers, and a
///            record can be lost), the subscriber moves to filling.
///            Snapshot channels: any newer event goes out; older ones are
///            dropped.
///            A periodic head check (`head`) that finds the subscriber
///            behind the channel's head opens a gap the same way.
///   filling  a replay after `last` closes the gap, then live again.
///   reset    the replay source cannot serve the position asked for: the
///            client gets `event: reset` (refetch your state) and continues
///            from the head.
/// An event at or below `last` is a duplicate (Kafka delivers at least once,
/// the local fast path and the topic both deliver) and is dropped. A final
/// event of a subscription with `close_on_final` ends it. A client that is
/// gone (`deliver` false) is removed.
///
/// Threads: not thread-safe; one owner calls it.
/// Ownership: holds the clients and sources of its subscriptions (shared).
/// Failure: a failed replay (`replay_failed`) is retried after
/// `retry_delay`; nothing here throws except std::bad_alloc.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/json/object.hpp>

#include "actors/broadcast/event.hpp"

namespace distiller::broadcast {

using clock = std::chrono::steady_clock;

struct hub_settings {
  /// How long an out-of-order event waits for the ones before it.
  std::chrono::milliseconds reorder_window{250};
  /// Events per replay call.
  size_t replay_limit = 500;
  /// Out-of-order events held per subscriber; beyond it the gap is filled
  /// at once.
  size_t max_held = 1000;
  /// Delay before a failed replay is tried again.
  std::chrono::milliseconds retry_delay{1000};
};

struct subscribe_options {
  /// Metrics label of the stream kind ("thoughts", "jobs").
  std::string stream = "events";
  channel_order order = channel_order::log;
  /// Send `ready` once the subscriber is in sync.
  bool ready_event = true;
  /// Extra fields of the `ready` event's data (e.g. the user id, the node).
  boost::json::object ready_fields;
  /// End the subscription after a final event.
  bool close_on_final = false;
};

/// What the hub asks its owner to do.
struct effects {
  struct replay_call {
    uint64_t subscriber = 0;
    std::string channel;
    std::optional<uint64_t> after;
    size_t limit = 0;
    std::shared_ptr<replay_source> source;
  };
  struct timer_call {
    uint64_t subscriber = 0;
    clock::time_point at;
  };
  std::vector<replay_call> replays;
  std::vector<timer_call> timers;
};

/// Counters the hub reports to (metrics); every method has a no-op default.
class hub_observer {
 public:
  virtual ~hub_observer() = default;
  /// An event written to a client (replayed: it came from the source).
  virtual void sent(const std::string& stream, const event& e, bool replayed,
                    clock::time_point now) {
    (void)stream, (void)e, (void)replayed, (void)now;
  }
  /// An event not written: "duplicate", "stale", "gone" (client left).
  virtual void dropped(const std::string& stream, const char* why) {
    (void)stream, (void)why;
  }
  /// A gap that needed the replay source ("fill"), a `reset` sent.
  virtual void recovered(const std::string& stream, const char* how) {
    (void)stream, (void)how;
  }
};

/// A subscriber's position, for tests and /inspect.
struct subscriber_view {
  uint64_t id = 0;
  std::string channel;
  std::string phase; // syncing | live | filling
  uint64_t last = 0;
  size_t held = 0;
};

class hub {
 public:
  explicit hub(hub_settings settings, hub_observer* observer = nullptr);

  /// Adds a subscriber with the caller's `id` (unique; the broadcaster
  /// hands them out) to `channel`, resuming after `after` (a client's
  /// Last-Event-ID) or from now. Asks for the first replay.
  void subscribe(uint64_t id, std::string channel,
                 std::optional<uint64_t> after,
                 std::shared_ptr<replay_source> source,
                 std::shared_ptr<client> sink, subscribe_options options,
                 clock::time_point now, effects& out);

  /// Removes a subscriber (its client left); unknown ids are ignored.
  void unsubscribe(uint64_t id);

  /// Hands `e` to every subscriber of `channel`.
  void publish(const std::string& channel, const event_ptr& e,
               clock::time_point now, effects& out);

  /// The answer to a replay_call.
  void replayed(uint64_t id, replay_result result, clock::time_point now,
                effects& out);

  /// A replay_call that threw; retried after retry_delay.
  void replay_failed(uint64_t id, clock::time_point now, effects& out);

  /// A timer_call came due.
  void timer(uint64_t id, clock::time_point now, effects& out);

  /// The source says the channel has reached `head` (a periodic check of
  /// the database): a live subscriber behind it that does not get the
  /// missing events within the reorder window is filled from the source.
  /// This covers events that never reach this node's topic consumer (lost
  /// records, a consumer that joined its group after they were produced).
  void head(const std::string& channel, uint64_t head, clock::time_point now,
            effects& out);

  /// Sends every subscriber `closing` with `reason`, ends its stream and
  /// forgets it (the node stops).
  void close_all(const std::string& reason, const std::string& detail);

  size_t subscribers() const noexcept { return subs_.size(); }
  size_t channels() const noexcept { return channels_.size(); }

  /// Channels that have a subscriber and start with `prefix`.
  std::vector<std::string> channel_names(const std::string& prefix) const;

  std::optional<subscriber_view> view(uint64_t id) const;

 private:
  enum class phase { syncing, live, filling };

  struct subscriber {
    uint64_t id = 0;
    std::string channel;
    subscribe_options options;
    std::shared_ptr<replay_source> source;
    std::shared_ptr<client> sink;
    phase ph = phase::syncing;
    bool synced_once = false;
    bool replay_pending = false;
    bool retry_pending = false;
    /// The first replay's position (nullopt: from now).
    std::optional<uint64_t> start_after;
    /// The last seq written (or the head at `ready`).
    uint64_t last = 0;
    /// The highest seq the channel is known to have reached.
    uint64_t known_head = 0;
    /// Events replayed during the current sync (for `ready`).
    size_t replayed = 0;
    /// Events with seq > last that wait for their turn.
    std::map<uint64_t, event_ptr> held;
    /// Since when the oldest held event waits (log, live).
    std::optional<clock::time_point> gap_since;
    bool timer_armed = false;
  };

  using sub_ptr = std::shared_ptr<subscriber>;

  void on_event(const sub_ptr& s, const event_ptr& e, clock::time_point now,
                effects& out);
  /// Writes `e`; false when the subscriber ended (gone or final).
  bool deliver(const sub_ptr& s, const event& e, bool replayed,
               clock::time_point now);
  /// Writes the held events that are next in line; arms the gap timer
  /// when a gap remains.
  void drain_held(const sub_ptr& s, clock::time_point now, effects& out);
  void hold(const sub_ptr& s, const event_ptr& e, clock::time_point now,
            effects& out);
  void request_replay(const sub_ptr& s, std::optional<uint64_t> after,
                      effects& out);
  /// True when events between `last` and what is known to exist are
  /// missing (log channels).
  bool has_gap(const subscriber& s) const;
  void send_ready(const sub_ptr& s);
  void remove(uint64_t id);
  bool alive(uint64_t id) const { return subs_.count(id) > 0; }

  hub_settings settings_;
  hub_observer* observer_;
  hub_observer no_observer_;
  std::unordered_map<uint64_t, sub_ptr> subs_;
  std::unordered_map<std::string, std::vector<uint64_t>> channels_;
};

} // namespace distiller::broadcast
