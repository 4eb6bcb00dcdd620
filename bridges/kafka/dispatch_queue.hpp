#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <limits>
#include <optional>
#include <string_view>
#include <vector>

#include <boost/container/small_vector.hpp>

#include "bridges/kafka/flat_map.hpp"

/// Decides which polled records may start now under a binding's ordering
/// mode, so that a pool of workers runs as much in parallel as the mode
/// allows:
///   partition  one record at a time per partition, in offset order;
///   key        records with the same key one at a time in offset order,
///              different keys in parallel (beyond the partition count);
///              records without a key carry no ordering constraint;
///   unordered  every record at once.
/// Records are identified by a caller-chosen sequence number; the bridge keeps
/// the payloads. Plain data, single-threaded, no allocation per record beyond
/// the lane's queue entry.
///
/// A lane may hand out a *run*: several of its consecutive records at once
/// (`pop_run`), which the caller sends to one worker that runs them in
/// order. The lane stays busy until every record of the run is finished or
/// given back (`unstart`, from the back), so a lane never has records at two
/// workers. Partitions take turns (round robin), and the caller may limit
/// how many records a partition gets now (its in-flight cap): a partition at
/// its limit is skipped, not scanned, until it has room again.
namespace distiller::kafka {

enum class ordering { partition, key, unordered };

std::string_view to_string(ordering x);
std::optional<ordering> parse_ordering(std::string_view text);

class dispatch_queue {
 public:
  /// A run spans less than `max_span` sequence numbers (its first record's
  /// plus max_span is the bound), so that it does not reach far ahead of the
  /// partition's other records: a revoke runs everything below the highest
  /// started record before it lets go.
  ///
  /// A key's lane is kept when it runs empty, for the key's next record
  /// (keys recur: creating and dropping a lane per record was most of key
  /// mode's cost); at most `max_idle_lanes` empty lanes are kept, then the
  /// empty ones are dropped at once.
  explicit dispatch_queue(
      ordering mode, uint64_t max_span = std::numeric_limits<uint64_t>::max(),
      size_t max_idle_lanes = 16384)
      : mode_(mode), max_span_(max_span), max_idle_lanes_(max_idle_lanes) {}

  /// Adds a polled record. `key` is empty for records without a key.
  void push(uint64_t seq, int32_t partition, std::string_view key,
            bool has_key = true);

  /// Takes the next record that may start now, or nullopt.
  std::optional<uint64_t> pop_ready();

  /// Takes the next ready run of the next partition in turn whose
  /// `room_of(partition)` is not 0 — up to `min(max, room_of(partition))`
  /// consecutive waiting records of one lane, in order — and appends them to
  /// `out`; returns how many (0: nothing may start now). In unordered mode
  /// the records taken are independent records of one partition.
  template <class RoomOf>
  size_t pop_run(size_t max, std::vector<uint64_t>& out, RoomOf&& room_of) {
    int32_t partition = 0;
    return next_turn(max, 1, out, nullptr, partition, room_of);
  }

  /// Like pop_run, but goes on with more ready lanes of the same partition
  /// while `min(max, room_of(partition))` allows: appends their records to
  /// `out` and each run's length to `runs`, sets `partition`, and returns
  /// how many records it took (0: nothing may start now). With short runs
  /// (many keys, few records each) this is one turn per partition instead of
  /// one per lane. In unordered mode it is pop_run (one "run" of
  /// independent records).
  template <class RoomOf>
  size_t pop_runs(size_t max, std::vector<uint64_t>& out,
                  std::vector<size_t>& runs, int32_t& partition,
                  RoomOf&& room_of) {
    return next_turn(max, std::numeric_limits<size_t>::max(), out, &runs,
                     partition, room_of);
  }

  /// pop_run without a per-partition limit.
  size_t pop_run(size_t max, std::vector<uint64_t>& out) {
    return pop_run(max, out,
                   [](int32_t) { return std::numeric_limits<size_t>::max(); });
  }

  /// Marks a started record finished. Normally the first running record of
  /// its lane (workers run a run in order); any running record may be
  /// finished (a revoke forgets records out of order). When the lane has
  /// nothing running any more, its next record becomes ready. Returns false
  /// if `seq` is not running.
  bool finish(uint64_t seq);

  /// Gives back a started record that did not run: it waits again at the
  /// front of its lane, in order. It must be the last running record of its
  /// lane (give a run back from its end); returns false otherwise or if
  /// `seq` is not running.
  bool unstart(uint64_t seq);

  /// True if `seq` runs behind an earlier running record of its lane (same
  /// run), false for a lane's first running record, records of unordered
  /// mode and records not running.
  bool follows(uint64_t seq) const;

  /// Forgets the records of `partition` that have not started and whose
  /// sequence number is at least `from_seq` (revoke); returns how many were
  /// dropped. Running ones stay until `finish`; waiting ones below
  /// `from_seq` stay and run as usual. Assumes sequence numbers are pushed
  /// in increasing order, as the bridge does.
  size_t drop_partition(int32_t partition, uint64_t from_seq = 0);

  size_t waiting() const noexcept { return waiting_; }
  size_t running() const noexcept { return running_.size(); }
  /// Lanes kept now, and of them the empty ones (tests).
  size_t lanes() const noexcept { return index_.size(); }
  size_t idle_lanes() const noexcept { return idle_lanes_; }
  ordering mode() const noexcept { return mode_; }

 private:
  struct lane_id {
    int32_t partition = 0;
    uint64_t key = 0;
    bool operator==(const lane_id&) const = default;
  };
  struct lane_hash {
    uint64_t operator()(const lane_id& x) const noexcept {
      return mix64(
          x.key ^
          (static_cast<uint64_t>(static_cast<uint32_t>(x.partition)) << 32));
    }
  };
  struct seq_hash {
    uint64_t operator()(uint64_t x) const noexcept { return mix64(x); }
  };
  struct partition_hash {
    uint64_t operator()(int32_t x) const noexcept {
      return mix64(static_cast<uint32_t>(x));
    }
  };
  /// A lane's records in order: queue[head, size), of which the first
  /// `running` are started. One cache line, its first record inside (most
  /// lanes of key mode hold one or two); lanes are pooled: an emptied lane
  /// keeps its queue's capacity for the next key.
  struct alignas(64) lane {
    lane_id id;
    boost::container::small_vector<uint64_t, 1> queue;
    uint32_t head = 0;
    uint32_t running = 0;
    uint32_t part = 0;
    bool live = false;
    /// Kept while empty (live, nothing waiting or running).
    bool idle = false;
    bool busy() const noexcept { return running > 0; }
    size_t waiting() const noexcept { return queue.size() - head - running; }
  };
  static_assert(sizeof(lane) == 64);
  /// A partition's turn in the round robin: its lanes that may have a run to
  /// start (stale entries are skipped), or in unordered mode its waiting
  /// records.
  struct partition_queue {
    int32_t id = 0;
    std::deque<uint32_t> lanes;
    std::deque<uint64_t> records;
    /// In rr_.
    bool scheduled = false;
  };
  /// Where a running record belongs: its lane slot (no_lane in unordered
  /// mode) and partition queue.
  struct running_entry {
    uint32_t slot = 0;
    uint32_t part = 0;
  };

  /// The next partition in turn with a ready lane and room: takes up to
  /// `max_lanes` of its lanes (runs) within min(max, room_of(partition)),
  /// appends their records to `out` and their lengths to `runs` (if given).
  template <class RoomOf>
  size_t next_turn(size_t max, size_t max_lanes, std::vector<uint64_t>& out,
                   std::vector<size_t>* runs, int32_t& partition,
                   RoomOf& room_of) {
    for (auto turns = rr_.size(); turns > 0 && !rr_.empty(); --turns) {
      auto idx = rr_.front();
      rr_.pop_front();
      if (!has_ready(idx)) {
        parts_[idx].scheduled = false;
        continue;
      }
      auto room = std::min<size_t>(max, room_of(parts_[idx].id));
      if (room == 0) {
        rr_.push_back(idx); // its turn comes again when it has room
        continue;
      }
      size_t total = 0;
      size_t lanes = 0;
      do {
        auto n = take(idx, room - total, out);
        if (runs != nullptr)
          runs->push_back(n);
        total += n;
        ++lanes;
      } while (lanes < max_lanes && mode_ != ordering::unordered &&
               total < room && has_ready(idx));
      if (has_ready(idx))
        rr_.push_back(idx);
      else
        parts_[idx].scheduled = false;
      partition = parts_[idx].id;
      return total;
    }
    return 0;
  }

  lane_id lane_of(uint64_t seq, int32_t partition, std::string_view key,
                  bool has_key) const;
  uint32_t part_of(int32_t partition);
  /// Drops stale lane entries at the front; true if `idx` has work ready.
  bool has_ready(uint32_t idx);
  /// Takes up to `room` records of partition queue `idx` (has_ready).
  size_t take(uint32_t idx, size_t room, std::vector<uint64_t>& out);
  /// Lane `slot` may start its next run.
  void make_ready(uint32_t slot, bool front);
  void schedule(uint32_t idx);
  /// Frees lane `slot` if it has nothing left.
  void release_if_empty(uint32_t slot);
  /// Lane `slot` ran empty: kept for its key's next record, or freed
  /// (records without a key; too many empty lanes).
  void keep_or_release(uint32_t slot);
  /// Lane `slot` has nothing running any more.
  void on_idle(uint32_t slot);

  /// The run's bound past its first sequence number.
  uint64_t limit_after(uint64_t first) const noexcept {
    return first > std::numeric_limits<uint64_t>::max() - max_span_
               ? std::numeric_limits<uint64_t>::max()
               : first + max_span_;
  }

  ordering mode_;
  uint64_t max_span_;
  size_t max_idle_lanes_;
  size_t idle_lanes_ = 0;
  std::vector<lane> lanes_;
  std::vector<uint32_t> free_lanes_;
  flat_map<lane_id, uint32_t, lane_hash> index_;
  std::vector<partition_queue> parts_;
  flat_map<int32_t, uint32_t, partition_hash> part_index_;
  /// Partition queues in turn (each at most once).
  std::deque<uint32_t> rr_;
  /// Running record → its lane.
  flat_map<uint64_t, running_entry, seq_hash> running_;
  static constexpr uint32_t no_lane = UINT32_MAX;
  /// The partition queue part_of found last (parts_ never shrinks).
  uint32_t last_part_ = no_lane;
  size_t waiting_ = 0;
};

} // namespace distiller::kafka
