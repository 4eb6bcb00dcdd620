#pragma once

/// Internal to the source bridge: its state and the transitions the
/// behaviors in source_bridge.cpp call (records in, dispatch, completion,
/// failure, retry, dead letters, drains). Nothing outside bridges/kafka's
/// source_* files should include it.

#include <chrono>
#include <cstdint>
#include <deque>
#include <future>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/all.hpp>

#include "bridges/kafka/consumer_loop.hpp"
#include "bridges/kafka/dispatch_queue.hpp"
#include "bridges/kafka/flow_gate.hpp"
#include "bridges/kafka/offset_tracker.hpp"
#include "bridges/kafka/record_batch.hpp"
#include "bridges/kafka/record_chunk.hpp"
#include "bridges/kafka/source_binding.hpp"
#include "bridges/kafka/source_bridge.hpp"
#include "bridges/kafka/source_dead_letter.hpp"
#include "bridges/kafka/source_metrics.hpp"

namespace distiller::kafka::detail {

// -- internal messages
// ----------------------------------------------------------

/// poll thread → bridge
using poll_atom = caf::atom_constant<caf::atom("srcpoll")>;
using assign_atom = caf::atom_constant<caf::atom("srcassign")>;
using revoke_atom = caf::atom_constant<caf::atom("srcrevoke")>;
using committed_atom = caf::atom_constant<caf::atom("srccommit")>;
using loop_error_atom = caf::atom_constant<caf::atom("srclooperr")>;
using loop_stopped_atom = caf::atom_constant<caf::atom("srcstopped")>;
/// bridge → itself
using retry_atom = caf::atom_constant<caf::atom("srcretry")>;
using dlq_done_atom = caf::atom_constant<caf::atom("srcdlqdone")>;
using drain_timeout_atom = caf::atom_constant<caf::atom("srcdrainto")>;
using close_timeout_atom = caf::atom_constant<caf::atom("srccloseto")>;
using commit_tick_atom = caf::atom_constant<caf::atom("srctick")>;

using offsets_promise = std::promise<std::vector<partition_offset>>;

/// A revoke the poll thread waits for.
struct revoke_request {
  std::vector<int32_t> partitions;
  bool lost = false;
  std::shared_ptr<offsets_promise> reply;
};

} // namespace distiller::kafka::detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(distiller::kafka::detail::revoke_request)

namespace distiller::kafka::detail {

using steady = std::chrono::steady_clock;

int64_t now_ns();
int64_t wall_ms();

// -- state
// ----------------------------------------------------------------------

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

struct pending_record {
  /// The record: in its poll chunk, or in `own` once it was copied to count
  /// a retry (a worker that timed out may still read the chunk's copy).
  in_record* rec = nullptr;
  std::shared_ptr<in_record> own;
  /// Its chunk's slot in the pending table.
  uint32_t chunk = 0;
  /// The record's, kept here too: the hot paths then stay in this table
  /// instead of reaching into the chunk.
  int32_t partition = 0;
  int64_t offset = 0;
  phase ph = phase::waiting;
  /// Retry alone (its batch crashed or timed out).
  bool solo = false;
  int64_t polled_ns = 0;
  int64_t dispatched_ns = 0;
  int64_t first_failure_ms = 0;
  int64_t last_failure_ms = 0;
  std::string last_error;
};

/// Pending records by id, and the poll chunks their records live in. An id
/// is (per-partition sequence number << 26 | slot): ids of one partition
/// increase in poll order (what dispatch_queue and the drain compare), and
/// finding a record is an index, not a hash lookup. Holds at most 2^26
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
    p.own.reset();
    p.ph = phase::waiting;
    p.solo = false;
    p.first_failure_ms = 0;
    p.last_failure_ms = 0;
    p.last_error.clear();
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

  struct slot_t {
    uint64_t id = 0; // 0 = free (sequence numbers start at 1)
    pending_record rec;
  };
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

struct partition_state {
  /// Started at the first record's offset.
  std::optional<offset_tracker> tracker;
  /// Tracked and not finished.
  size_t buffered = 0;
  /// At workers.
  size_t running = 0;
  size_t dead_lettering = 0;
  /// Pending records (any phase) of this partition.
  size_t pending = 0;
  /// Sequence numbers of this assignment, in poll order.
  uint64_t next_seq = 1;
  /// The highest sequence number finished so far.
  uint64_t max_finished_seq = 0;
  bool paused = false;
  bool revoking = false;
  /// While revoking: records below this sequence number still run (they
  /// fill the holes below finished records, so the final commit covers
  /// them); the rest was dropped.
  uint64_t keep_below = 0;
  /// An async commit of this offset is under way.
  std::optional<int64_t> committing;
};

/// One worker of the pool; slot i is "<name>-worker-<i>". Slots are only
/// ever removed from the end (batch_info refers to them by index).
///
///   adding ──reply──► active ──scale down──► retiring ──batches answered──►
///     ▲                 ▲                       │        removing ──reply──►
///     │                 └──────scale up─────────┘                   gone
///     └──────────────────────────scale up (re-added)──────────────────┘
struct worker_slot {
  std::string name;
  caf::actor handle;
  size_t batches = 0;
  size_t records = 0;
  /// Runs a suspect record alone: no other batch goes here meanwhile, so a
  /// crash can only be that record's fault.
  bool exclusive = false;
  /// Scaled away: gets no new batch, leaves once its batches are answered.
  bool retiring = false;
  /// add_child_atom sent to the pool, not answered yet.
  bool adding = false;
  /// remove_child_atom sent to the pool, not answered yet.
  bool removing = false;
  /// Not in the pool (removed, or its add failed).
  bool gone = false;
};

struct batch_info {
  size_t worker = 0;
  std::vector<uint64_t> seqs;
  /// The worker incarnation it was sent to.
  caf::actor_addr incarnation;
};

struct drain_job {
  uint64_t id = 0;
  std::vector<int32_t> partitions;
  bool lost = false;
  /// Part of a shutdown: closes the consumer when done.
  bool shutdown = false;
  std::shared_ptr<offsets_promise> reply;
  steady::time_point started;
  size_t waiting_for = 0;
  size_t abandoned = 0;
};

enum class lifecycle : uint8_t { running, draining, closing, stopped };

const char* to_string(lifecycle x);

struct source_state {
  static inline const char* name = "source_bridge";

  std::string brokers;
  source_binding binding;
  bridge_deps deps;
  std::string dlq_topic;
  std::string entry_name;
  inspect::actor_entry_ptr entry;
  std::unique_ptr<source_metrics> metrics;

  dispatch_queue queue{ordering::key};
  std::unordered_map<int32_t, partition_state> partitions;
  /// Partitions paused now (kept at pause and resume, recounted by the
  /// commit tick after revokes).
  size_t paused_partitions = 0;
  pending_table pending;
  /// Retries whose backoff elapsed, dispatched before new records.
  std::deque<uint64_t> retry_ready;
  /// Suspects (records that shared a batch with a crash) given back to
  /// their lanes: they must run alone when their turn comes.
  size_t suspects = 0;

  caf::actor pool;
  std::vector<worker_slot> workers;
  /// The pool size in effect (binding.pool_size, then the last scale_atom).
  int32_t pool_size = 0;
  /// An operator paused the binding (pause_atom): nothing is dispatched
  /// except what a drain waits for.
  bool operator_paused = false;
  std::unordered_map<uint64_t, batch_info> batches;
  uint64_t next_batch = 1;
  /// Records at workers.
  size_t in_flight = 0;

  std::vector<drain_job> drains;
  uint64_t next_drain = 1;

  std::unique_ptr<consumer_loop> loop;
  /// Bridge-wide back-pressure shared with the poll thread (may be null).
  std::shared_ptr<flow_gate> gate;
  /// The gate's closings already counted in the metrics.
  uint64_t fetch_holds_reported = 0;
  /// Spent poll chunks, refilled by the poll thread.
  std::shared_ptr<record_chunk_pool> record_pool;
  std::unique_ptr<dead_letter_producer> dlq_producer;

  lifecycle life = lifecycle::running;
  caf::error exit_reason;
  std::mt19937_64 rng{std::random_device{}()};

  // -- numbers behind source_stats
  // ----------------------------------------------
  source_stats stats;
  latency_recorder ack_latency;
  latency_recorder processing;
  histogram_batch ack_histogram{latency_bucket_bounds()};
  histogram_batch processing_histogram{latency_bucket_bounds()};
  /// Equal ack latencies in a row (records of one poll finishing in one
  /// answer), recorded at once by flush_acks.
  int64_t ack_run_ns = 0;
  uint64_t ack_run_count = 0;

  void note_ack(int64_t ns) noexcept {
    if (ack_run_count > 0 && ns == ack_run_ns) {
      ++ack_run_count;
      return;
    }
    flush_acks();
    ack_run_ns = ns;
    ack_run_count = 1;
  }
  void flush_acks() noexcept;

  source_state() = default;
  source_state(const source_state&) = delete;
  source_state& operator=(const source_state&) = delete;
  /// A bridge that did not stop in order (killed, crashed) aborts its
  /// consumer without a commit and kills its pool.
  ~source_state();
};

using src_actor = caf::stateful_actor<source_state>*;

// -- transitions (source_state.cpp)
// -----------------------------------------------

/// Takes one poll's records in; pauses partitions over their buffer limit.
void on_records(src_actor self, chunk_ptr& records, int64_t polled_ns);

/// Hands ready records to workers within the in-flight limits.
void dispatch(src_actor self);

/// Tells the poll thread how many records the bridge holds now, those of
/// paused partitions left out (their own limit bounds them; counting them
/// would let one stuck partition stop every other).
void publish_held(src_actor self);

/// A worker answered batch `id`.
void on_batch_done(src_actor self, uint64_t id,
                   std::vector<caf::error>& results);

/// The request for batch `id` failed. `unexpected_message` fails only that
/// batch's records; anything else (timeout, the worker's exit reason,
/// request_receiver_down) kills the worker if it still runs and handles it
/// as `on_worker_failed`.
void on_batch_failed(src_actor self, uint64_t id, const caf::error& err);

/// Worker incarnation `who` crashed, was killed or stopped. Its oldest
/// outstanding batch is the one it was running: each of its records counts
/// one attempt and is retried alone. Younger batches never started and are
/// dispatched again without counting an attempt.
void on_worker_failed(src_actor self, const caf::actor_addr& who,
                      const caf::error& reason);

/// The pool supervisor restarted worker `name`.
void on_worker_restarted(src_actor self, const std::string& name,
                         caf::actor handle);

/// The retry timer of `seq` fired (or a dead letter is produced again).
void on_retry_due(src_actor self, uint64_t seq);

void on_dead_lettered(src_actor self, uint64_t seq, const caf::error& err);

void on_committed(src_actor self, std::vector<partition_offset>& offsets,
                  const caf::error& err);

/// Commits what moved, refreshes gauges, reschedules itself.
void on_commit_tick(src_actor self);

// -- rebalance and shutdown (source_drain.cpp)
// --------------------------------------

void on_assigned(src_actor self, const std::vector<int32_t>& partitions);

/// Starts draining `partitions`; answers `reply` (or closes the consumer,
/// for a shutdown) once their running records are done or the drain
/// timeout fires.
void start_drain(src_actor self, std::vector<int32_t> partitions, bool lost,
                 bool shutdown, std::shared_ptr<offsets_promise> reply);

/// Finishes every drain whose partitions have nothing running any more.
void check_drains(src_actor self);

void on_drain_timeout(src_actor self, uint64_t id);

/// exit_msg, fatal consumer error or a failed pool: drain, commit, close.
void begin_shutdown(src_actor self, caf::error reason);

/// The consumer is closed: stop the pool and quit.
void finish_shutdown(src_actor self);

/// Forgets `seq` without finishing it (revoke, lost partition): the commit
/// stays below it so the next owner processes it again.
void abandon(src_actor self, uint64_t seq);

// -- operator controls (source_control.cpp)
// ------------------------------------------

/// "<name>-worker-<i>"
std::string worker_name(const source_binding& b, size_t i);

/// pause_atom / resume_atom (idempotent).
void pause_binding(src_actor self);
void resume_binding(src_actor self);

/// scale_atom: grows or shrinks the pool to `n` workers; answers n at once.
caf::result<int32_t> scale_pool(src_actor self, int32_t n);

/// Worker slot `index` answered its last batch: if it is retiring, it is
/// taken out of the pool now.
void retire_if_idle(src_actor self, size_t index);

source_stats make_stats(src_actor self);

} // namespace distiller::kafka::detail
