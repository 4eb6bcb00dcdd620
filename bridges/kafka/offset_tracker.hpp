#pragma once

#include <cstdint>
#include <deque>
#include <optional>

/// Per-partition bookkeeping for at-least-once commits with out-of-order
/// completion. Records are tracked in the order they were polled (ascending
/// offsets, possibly with gaps from compaction or transaction markers) and
/// completed in any order; the committable offset is always the lowest offset
/// not yet finished — so a commit never passes a record that is still in
/// flight, whatever finished after it.
///
/// Plain data, no threads: the source bridge owns one per assigned partition
/// and calls it from its own thread. Amortised O(1) track and commit, O(log n)
/// complete (binary search over the in-flight window).
namespace distiller::kafka {

class offset_tracker {
 public:
  /// `start` is the partition's position when assigned (the first offset that
  /// will be delivered, or the committed offset).
  explicit offset_tracker(int64_t start = 0) : next_(start) {}

  /// Records that `offset` was dispatched. Offsets must increase.
  /// Returns false (and ignores it) for an offset at or below one already
  /// tracked — a redelivery after a seek the caller must handle.
  bool track(int64_t offset);

  /// Marks `offset` finished (processed, or dead-lettered). Returns false if
  /// it is not in flight (unknown or already completed).
  bool complete(int64_t offset);

  /// The offset to commit: the lowest unfinished offset, or one past the last
  /// tracked offset when nothing is in flight (Kafka commits the *next*
  /// offset to read).
  int64_t committable() const noexcept;

  /// The committable offset if it moved since `mark_committed`, else nullopt.
  std::optional<int64_t> pending_commit() const noexcept;

  /// Notes that `offset` has been committed.
  void mark_committed(int64_t offset) noexcept { committed_ = offset; }

  /// Records dispatched but not finished.
  size_t in_flight() const noexcept { return in_flight_; }

  /// Records finished but held back behind an unfinished lower offset.
  size_t held_back() const noexcept { return window_.size() - in_flight_; }

  std::optional<int64_t> last_committed() const noexcept { return committed_; }

 private:
  struct slot {
    int64_t offset;
    bool done;
  };
  std::deque<slot> window_;
  int64_t next_;
  size_t in_flight_ = 0;
  std::optional<int64_t> committed_;
};

} // namespace distiller::kafka
