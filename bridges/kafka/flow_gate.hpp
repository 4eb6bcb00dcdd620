#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

/// Back-pressure between a source bridge and its poll thread without
/// pausing partitions.
///
/// The poll thread counts the records it hands over (`handed`); the bridge
/// counts the records it took from its mailbox (`received`) and publishes
/// how many it still holds (`held`: polled, not finished). What the bridge
/// has not finished is then
///
///     outstanding = handed - received + held
///
/// which includes poll batches still waiting in the bridge's mailbox — the
/// backlog a per-partition pause decided by the bridge notices too late.
/// Above `limit` the gate closes: the poll thread stops fetching from
/// librdkafka (whose own prefetch stops at its queue limits, and nothing
/// fetched is thrown away, unlike a pause); at or below `low_water` it opens
/// again. `held` is the bridge's own count of what it keeps, so a lost
/// update corrects itself at the next publication.
///
/// Thread-safety: `handed`/`wait_open`/`wake` from the poll thread (wake
/// from any), `received`/`publish` from the bridge. Cheap on the hot path:
/// atomics, and the mutex only while the poll thread waits.
namespace distiller::kafka {

class flow_gate {
 public:
  /// `limit` 0 disables the gate (always open).
  flow_gate(uint64_t limit, uint64_t low_water) noexcept
      : limit_(limit), low_water_(low_water < limit ? low_water : limit / 2) {}

  flow_gate(const flow_gate&) = delete;
  flow_gate& operator=(const flow_gate&) = delete;

  // -- poll thread ------------------------------------------------------------

  void handed(uint64_t n) noexcept {
    handed_.fetch_add(n, std::memory_order_relaxed);
  }

  /// True if fetching may go on: below the limit, or (once closed) back at
  /// the low-water mark. Otherwise waits for the bridge to catch up, a
  /// `wake()` or `timeout`, and tells again.
  bool wait_open(std::chrono::milliseconds timeout);

  /// Ends a `wait_open` early (a command arrived, shutdown).
  void wake();

  // -- bridge -----------------------------------------------------------------

  void received(uint64_t n) noexcept { received_ += n; }

  /// The bridge holds `held` records now; wakes the poll thread if that
  /// opens the gate.
  void publish(uint64_t held) {
    // Sequentially consistent with the poll thread's `waiting_`: either it
    // sees the new count, or this sees it waiting and wakes it.
    received_pub_.store(received_);
    held_.store(held);
    if (waiting_.load() && outstanding() <= low_water_)
      wake();
  }

  // -- either -----------------------------------------------------------------

  uint64_t outstanding() const noexcept {
    auto handed = handed_.load();
    auto received = received_pub_.load();
    auto held = held_.load();
    return (handed > received ? handed - received : 0) + held;
  }

  uint64_t limit() const noexcept { return limit_; }
  uint64_t low_water() const noexcept { return low_water_; }
  bool enabled() const noexcept { return limit_ > 0; }
  /// How often the gate closed (for metrics and benchmarks).
  uint64_t closings() const noexcept {
    return closings_.load(std::memory_order_relaxed);
  }

 private:
  const uint64_t limit_;
  const uint64_t low_water_;
  std::atomic<uint64_t> handed_{0};
  /// The bridge's private count and the value it last published.
  uint64_t received_ = 0;
  std::atomic<uint64_t> received_pub_{0};
  std::atomic<uint64_t> held_{0};
  std::atomic<bool> waiting_{false};
  std::atomic<uint64_t> closings_{0};
  /// Poll thread only: closed, waiting for the low-water mark.
  bool closed_ = false;
  std::mutex mtx_;
  std::condition_variable cv_;
  bool woken_ = false;
};

} // namespace distiller::kafka
