#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string_view>
#include <vector>

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
namespace distiller::kafka {

enum class ordering { partition, key, unordered };

std::string_view to_string(ordering x);
std::optional<ordering> parse_ordering(std::string_view text);

class dispatch_queue {
 public:
  explicit dispatch_queue(ordering mode) : mode_(mode) {}

  /// Adds a polled record. `key` is empty for records without a key.
  void push(uint64_t seq, int32_t partition, std::string_view key,
            bool has_key = true);

  /// Takes the next record that may start now, or nullopt.
  std::optional<uint64_t> pop_ready();

  /// Marks a started record finished; its lane's next record becomes ready.
  /// Returns false if `seq` is not running.
  bool finish(uint64_t seq);

  /// Forgets the records of `partition` that have not started and whose
  /// sequence number is at least `from_seq` (revoke); returns how many were
  /// dropped. Running ones stay until `finish`; waiting ones below
  /// `from_seq` stay and run as usual. Assumes sequence numbers are pushed
  /// in increasing order, as the bridge does.
  size_t drop_partition(int32_t partition, uint64_t from_seq = 0);

  size_t waiting() const noexcept { return waiting_; }
  size_t running() const noexcept { return running_.size(); }
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
  /// A lane's records in order: queue[head, size). Lanes are pooled: an
  /// emptied lane keeps its vector's capacity for the next key.
  struct lane {
    lane_id id;
    std::vector<uint64_t> queue;
    uint32_t head = 0;
    bool busy = false;
    bool live = false;
    size_t waiting() const noexcept { return queue.size() - head; }
  };

  lane_id lane_of(uint64_t seq, int32_t partition, std::string_view key,
                  bool has_key) const;
  /// Frees lane `slot` if it has nothing left.
  void release_if_empty(uint32_t slot);

  ordering mode_;
  std::vector<lane> lanes_;
  std::vector<uint32_t> free_lanes_;
  flat_map<lane_id, uint32_t, lane_hash> index_;
  /// Lane slots that may have a record to start (stale entries are skipped).
  std::deque<uint32_t> ready_;
  /// Running record → its lane slot (no_lane in unordered mode).
  flat_map<uint64_t, uint32_t, seq_hash> running_;
  /// Unordered mode needs no lanes: every record is ready at once.
  struct free_record {
    uint64_t seq;
    int32_t partition;
  };
  std::deque<free_record> unordered_;
  static constexpr uint32_t no_lane = UINT32_MAX;
  size_t waiting_ = 0;
};

} // namespace distiller::kafka
