#pragma once

/// Internal to the source bridge: the records a bridge holds between poll and
/// ack, by id, and the poll chunks they live in. Plain data, single-threaded
/// (source_core owns one).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bridges/kafka/in_record.hpp"
#include "bridges/kafka/record_chunk.hpp"

namespace distiller::kafka::detail {

/// Where a record is between poll and ack.
enum class phase : uint8_t {
  /// In the dispatch queue, its lane busy or not yet popped.
  waiting,
  /// Holds its lane, waiting to be sent: a retry whose backoff elapsed (or
  /// one held back by an in-flight cap), or a suspect waiting for an idle
  /// worker.
  staged,
  /// At a worker.
  running,
  /// Failed; its retry timer runs (the lane stays busy).
  backoff,
  /// Its dead letter is being produced.
  dead_lettering,
};

/// What a record that failed keeps: its own copy once it was copied to
/// count a retry, and its failures. Allocated at its first failure: most
/// records never fail, and the table's hot part then stays one cache line
/// per record.
struct record_failures {
  /// The record's own copy (a worker that timed out may still read the
  /// chunk's copy, or an older own copy, which its batch keeps alive).
  std::shared_ptr<in_record> own;
  int64_t first_failure_ms = 0;
  int64_t last_failure_ms = 0;
  std::string last_error;
};

struct pending_record {
  /// The record: in its poll chunk, or in `failures->own` once it was
  /// copied to count a retry.
  in_record* rec = nullptr;
  /// Set at the record's first failure.
  std::unique_ptr<record_failures> failures;
  /// Its chunk's slot in the pending table.
  uint32_t chunk = 0;
  /// The record's, kept here too: the hot paths then stay in this table
  /// instead of reaching into the chunk.
  int32_t partition = 0;
  int64_t offset = 0;
  int64_t polled_ns = 0;
  int64_t dispatched_ns = 0;
  phase ph = phase::waiting;
  /// Retry alone (its batch crashed or timed out).
  bool solo = false;

  /// The failures, allocated on first use.
  record_failures& failed() {
    if (!failures)
      failures = std::make_unique<record_failures>();
    return *failures;
  }
  /// The record's own copy, if it has one.
  const std::shared_ptr<in_record>* own() const noexcept {
    return failures && failures->own ? &failures->own : nullptr;
  }
  /// The last failure's error ("" if none).
  const std::string& last_error() const noexcept {
    static const std::string none;
    return failures ? failures->last_error : none;
  }
};

/// Pending records by id, and the poll chunks their records live in. An id
/// is (per-partition sequence number << 26 | slot): ids of one partition
/// increase in poll order (what dispatch_queue and the drain compare), and
/// finding a record is an index, not a hash lookup. The caller never gives
/// a sequence number twice (source_core numbers on across assignments), so
/// a stale id — of a batch, timer or dead letter outliving its record —
/// finds nothing once its slot is reused. Holds at most 2^26
/// records (64 Ki per partition, validated, times at most 1024 partitions).
/// A chunk is kept while any of its records is pending.
class pending_table {
 public:
  static constexpr int slot_bits = 26;
  static constexpr uint64_t slot_mask = (uint64_t{1} << slot_bits) - 1;

  /// Keeps `c` for the records about to be inserted; returns its slot.
  uint32_t add_chunk(chunk_ptr c) {
    uint32_t slot;
    if (!free_chunks_.empty()) {
      slot = free_chunks_.back();
      free_chunks_.pop_back();
    } else {
      slot = static_cast<uint32_t>(chunks_.size());
      chunks_.emplace_back();
    }
    chunks_[slot].ptr = std::move(c);
    chunks_[slot].live = 0;
    return slot;
  }

  /// Lets chunk `slot` go if none of its records was inserted.
  void drop_chunk_if_unused(uint32_t slot) {
    if (chunks_[slot].live == 0)
      release_chunk(slot);
  }

  const chunk_ptr& chunk(uint32_t slot) const noexcept {
    return chunks_[slot].ptr;
  }

  /// Stores freshly polled `rec` (in chunk `chunk`) under sequence number
  /// `seq` (> 0, increasing per partition); returns its id.
  uint64_t insert(uint64_t seq, uint32_t chunk, in_record* rec,
                  int64_t polled_ns) {
    auto slot = claim();
    auto& p = slots_[slot].rec; // bookkeeping fields reset by erase
    p.rec = rec;
    p.chunk = chunk;
    p.partition = rec->partition;
    p.offset = rec->offset;
    p.polled_ns = polled_ns;
    p.dispatched_ns = 0;
    ++chunks_[chunk].live;
    return attach(seq, slot);
  }

  pending_record* find(uint64_t id) noexcept {
    auto slot = id & slot_mask;
    if (slot >= slots_.size() || slots_[slot].id != id)
      return nullptr;
    return &slots_[slot].rec;
  }

  void erase(uint64_t id) {
    auto slot = id & slot_mask;
    if (slot >= slots_.size() || slots_[slot].id != id)
      return;
    slots_[slot].id = 0;
    auto& p = slots_[slot].rec;
    p.rec = nullptr;
    p.failures.reset();
    p.ph = phase::waiting;
    p.solo = false;
    if (--chunks_[p.chunk].live == 0)
      release_chunk(p.chunk);
    free_.push_back(static_cast<uint32_t>(slot));
    --size_;
  }

  /// Calls f(id, record) for every pending record (revokes, shutdown).
  template <class F>
  void for_each(F&& f) {
    for (auto& s : slots_)
      if (s.id != 0)
        f(s.id, s.rec);
  }

  size_t size() const noexcept { return size_; }
  /// Poll chunks kept now.
  size_t chunks() const noexcept {
    return chunks_.size() - free_chunks_.size();
  }

 private:
  uint32_t claim() {
    if (!free_.empty()) {
      auto slot = free_.back();
      free_.pop_back();
      return slot;
    }
    slots_.emplace_back();
    return static_cast<uint32_t>(slots_.size() - 1);
  }

  uint64_t attach(uint64_t seq, uint32_t slot) {
    auto id = (seq << slot_bits) | slot;
    slots_[slot].id = id;
    ++size_;
    return id;
  }

  void release_chunk(uint32_t slot) {
    chunks_[slot].ptr.reset();
    free_chunks_.push_back(slot);
  }

  /// One cache line: the hot paths touch one line per record.
  struct alignas(64) slot_t {
    uint64_t id = 0; // 0 = free (sequence numbers start at 1)
    pending_record rec;
  };
  static_assert(sizeof(slot_t) == 64);
  struct chunk_slot {
    chunk_ptr ptr;
    /// Its records still pending.
    uint32_t live = 0;
  };
  std::vector<slot_t> slots_;
  std::vector<uint32_t> free_;
  std::vector<chunk_slot> chunks_;
  std::vector<uint32_t> free_chunks_;
  size_t size_ = 0;
};

} // namespace distiller::kafka::detail
