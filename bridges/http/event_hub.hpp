#pragma once

/// A keyed broadcaster for push streams (Server-Sent Events): subscribers
/// register a callback under a key (a job id, a user id), `publish(key, e)`
/// hands `e` to every current subscriber of that key.
///
///   http::event_hub<documents::job_row> hub;
///   auto sub = hub.subscribe(job_id, [](const job_row& j) { … });
///   hub.publish(j.job_id, j);   // e.g. from the job-updates consumer
///   sub.reset();                // or let `sub` go out of scope
///
/// Order: the publishes of one key are delivered one after the other (a
/// per-key delivery lock), so every subscriber of a key sees that key's
/// events in the same order — the order in which `publish` calls took the
/// key's lock; one thread's publishes keep their order. Keys are delivered
/// independently of each other.
/// Threads: every member is thread-safe. Callbacks run on the publishing
/// thread and must be quick and must not block (hand work to an actor, or
/// call `sse_stream::send`, which only queues). A callback may drop its own
/// subscription or subscribe others; it must not publish to its own key
/// (that would wait for itself).
/// Ownership: a `subscription` is move-only and unsubscribes when destroyed
/// or reset; after that returns, its callback is not running (unless the
/// reset happens inside that very callback) and never runs again. So don't
/// reset a subscription while holding a lock the callback takes. A
/// subscription may outlive the hub. A key without subscribers holds no
/// memory: its entry goes with its last subscriber, and publishing to it is
/// a no-op.
/// Failure: a callback that throws is logged (`event=event_hub_callback_
/// failed`) and skipped; the other subscribers still get the event.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

namespace distiller::http {

namespace detail {
class hub_core;
} // namespace detail

/// Keeps one callback subscribed; unsubscribes on destruction or `reset()`.
class subscription {
 public:
  subscription() = default;
  subscription(std::shared_ptr<detail::hub_core> core, std::string key,
               uint64_t id);
  subscription(subscription&& other) noexcept;
  subscription& operator=(subscription&& other) noexcept;
  subscription(const subscription&) = delete;
  subscription& operator=(const subscription&) = delete;
  ~subscription();

  /// Unsubscribes now (idempotent).
  void reset();

  /// True until reset, destroyed or moved from.
  bool active() const noexcept { return core_ != nullptr; }

  const std::string& key() const noexcept { return key_; }

 private:
  std::shared_ptr<detail::hub_core> core_;
  std::string key_;
  uint64_t id_ = 0;
};

namespace detail {

/// The type-erased engine behind `event_hub<Event>`.
class hub_core : public std::enable_shared_from_this<hub_core> {
 public:
  using sink = std::function<void(const void*)>;

  subscription subscribe(std::string key, sink fn);
  size_t publish(const std::string& key, const void* event);
  void unsubscribe(const std::string& key, uint64_t id);
  size_t subscribers(const std::string& key) const;
  size_t keys() const;

 private:
  struct subscriber {
    uint64_t id = 0;
    sink fn;
    std::atomic<bool> live{true};
  };

  struct channel {
    /// Held while one publish delivers; serialises the key's events.
    std::mutex delivering;
    /// The thread delivering right now (to let a callback unsubscribe
    /// itself without waiting for itself).
    std::atomic<std::thread::id> deliverer{};
    /// Guarded by hub_core::mtx_.
    std::vector<std::shared_ptr<subscriber>> subs;
  };

  mutable std::mutex mtx_;
  std::unordered_map<std::string, std::shared_ptr<channel>> channels_;
  uint64_t next_id_ = 1;
};

} // namespace detail

template <class Event>
class event_hub {
 public:
  using callback = std::function<void(const Event&)>;

  event_hub() : core_(std::make_shared<detail::hub_core>()) {}

  event_hub(const event_hub&) = delete;
  event_hub& operator=(const event_hub&) = delete;

  /// Calls `fn` with every event published to `key` from now on.
  [[nodiscard]] subscription subscribe(std::string key, callback fn) {
    return core_->subscribe(std::move(key),
                            [fn = std::move(fn)](const void* e) {
                              fn(*static_cast<const Event*>(e));
                            });
  }

  /// Delivers `e` to the subscribers of `key`; returns how many got it.
  size_t publish(const std::string& key, const Event& e) {
    return core_->publish(key, &e);
  }

  /// Current subscribers of `key`.
  size_t subscribers(const std::string& key) const {
    return core_->subscribers(key);
  }

  /// Keys that have at least one subscriber.
  size_t keys() const { return core_->keys(); }

 private:
  std::shared_ptr<detail::hub_core> core_;
};

/// A ready-made payload for hubs that carry finished SSE events.
struct sse_message {
  std::string event;
  std::string data;
  std::string id;
};

using sse_hub = event_hub<sse_message>;

} // namespace distiller::http
