#pragma once

/// Internal to the consumer loop: finds partitions whose fetching stopped
/// without a reason the bridge knows of. Plain data, single-threaded, time
/// passed in (the loop thread calls it about once a second).
///
/// A partition is stalled when records wait for it (the high watermark is
/// at least two above the consumer's position: a transaction's commit
/// marker takes an offset that no consumer ever receives, so a caught-up
/// partition written by transactions stays one below), nothing holds it
/// back (no pause of the bridge, of the gate's hold or of an operator), and
/// its position has not moved for `after`. The loop then seeks the partition to
/// its own position, which restarts librdkafka's fetcher for it without
/// skipping or repeating a record, and logs it. Once seen in a run under load
/// (a job whose last chunks stayed unfetched for minutes, docs/status.md,
/// session 11).

#include <chrono>
#include <cstdint>
#include <map>

namespace distiller::kafka::detail {

class stall_watch {
 public:
  using clock = std::chrono::steady_clock;

  /// `after` = 0 turns the watch off.
  explicit stall_watch(std::chrono::milliseconds after) : after_(after) {}

  /// One look at `partition` at `now`: its consumer position (negative: not
  /// known yet), its high watermark, and whether something holds it back.
  /// Returns how long it has been stalled if it is, and starts its watch
  /// over (a stall is reported at most once per `after`); 0 otherwise.
  std::chrono::milliseconds observe(int32_t partition, int64_t position,
                                    int64_t high_watermark, bool held,
                                    clock::time_point now) {
    if (after_.count() <= 0)
      return std::chrono::milliseconds{0};
    auto& s = seen_[partition];
    if (held || position < 0 || high_watermark - position < 2 ||
        position != s.position || s.since == clock::time_point{}) {
      s = {position, now};
      return std::chrono::milliseconds{0};
    }
    auto still =
        std::chrono::duration_cast<std::chrono::milliseconds>(now - s.since);
    if (still < after_)
      return std::chrono::milliseconds{0};
    s.since = now;
    return still;
  }

  /// The partition is no longer ours (revoke, loss).
  void forget(int32_t partition) { seen_.erase(partition); }

  std::chrono::milliseconds after() const noexcept { return after_; }

 private:
  struct seen_t {
    int64_t position = -1;
    /// Since when `position` has not moved.
    clock::time_point since{};
  };
  std::chrono::milliseconds after_;
  std::map<int32_t, seen_t> seen_;
};

} // namespace distiller::kafka::detail
