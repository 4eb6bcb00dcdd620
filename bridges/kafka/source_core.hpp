#pragma once

/// Internal to the source bridge: everything it decides, as a plain class —
/// the pending table, the lanes (dispatch_queue), retries, dead letters,
/// drains, commits, back-pressure and the worker slots — driven by events
/// and returning what to do as `source_effects`, which the bridge actor
/// (source_bridge.cpp, source_state.cpp) performs: send these batches to
/// these workers, commit that, pause this, produce that dead letter, set
/// this timer, answer that revoke.
///
/// No actors, messages or librdkafka inside: workers are slot indices with
/// an incarnation number (the worker actor's id, 0 = none), errors arrive
/// rendered as text, timers are effects the caller fires back
/// (`on_retry_due`, `on_drain_timeout`), and time comes from an injected
/// clock, so unit tests (tests/unit/kafka/source_core_*_test.cpp) drive it
/// deterministically through rebalances, crashes, retries and timeouts. It
/// logs (runtime/logging), counts into `source_metrics` and reports failures
/// to its registry entry as the bridge always has.
///
/// Single-threaded: the bridge actor owns one and calls it from its own
/// thread.

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "bridges/kafka/dispatch_queue.hpp"
#include "bridges/kafka/offset_tracker.hpp"
#include "bridges/kafka/partition_offset.hpp"
#include "bridges/kafka/pending_table.hpp"
#include "bridges/kafka/record_batch.hpp"
#include "bridges/kafka/source_metrics.hpp"
#include "runtime/core/backoff.hpp"
#include "runtime/inspect/registry.hpp"
#include "runtime/inspect/trace_ring.hpp"

namespace distiller::kafka::detail {

/// What the core needs of a source_binding (source_binding.hpp), as plain
/// values.
struct source_core_config {
  /// Bridge name (logs, metrics label), topic, its dead-letter topic, and
  /// the registry entry's name (trace ring records).
  std::string name;
  std::string topic;
  std::string dlq_topic;
  std::string entry_name;
  ordering mode = ordering::key;
  backoff_policy retry;
  size_t max_in_flight = 1000;
  size_t max_in_flight_per_partition = 500;
  /// source_binding::partition_buffer_limit()
  size_t partition_buffer_limit = 12288;
  size_t max_batch = 256;
  size_t max_batches_per_worker = 2;
  std::chrono::milliseconds worker_timeout{30000};
  std::chrono::milliseconds drain_timeout{10000};
  /// Seeds the retry jitter; 0: random.
  uint64_t seed = 0;
};

/// Where the core reads time: steady nanoseconds (latencies, drain
/// durations; the poll thread's `polled_ns` is on the same clock) and wall
/// milliseconds since the epoch (dead-letter headers). Empty functions read
/// the real clocks.
struct source_clock {
  std::function<int64_t()> steady_ns;
  std::function<int64_t()> wall_ms;
};

/// A record a worker failed.
struct record_failure {
  /// Rendered (actor_system::render).
  std::string error;
  /// A record_errc: dead-lettered without retries.
  bool permanent = false;
};

/// How a batch request failed without an answer.
enum class batch_fault : uint8_t {
  /// The worker is alive but does not speak the protocol
  /// (unexpected_message): its records failed, the worker did not.
  rejected,
  /// No answer within worker_timeout: the worker is killed.
  timeout,
  /// The worker died (its exit reason, request_receiver_down).
  lost,
};

/// What the bridge actor does after an event, in this order (perform in
/// source_state.cpp): adopt and kill worker incarnations, pause, resume,
/// commits, the operator's pause, batches, dead letters, timers, revoke
/// replies, pool removals and additions, stop fetching, close.
struct source_effects {
  struct send {
    /// Worker slot and the incarnation the batch goes to.
    size_t worker = 0;
    uint64_t incarnation = 0;
    /// Answer with on_batch_done / on_batch_failed(batch, …).
    uint64_t batch = 0;
    record_batch records;
  };
  struct timer {
    enum kind_t : uint8_t { retry, drain_timeout } kind = retry;
    /// A record's id (retry) or a drain's id.
    uint64_t id = 0;
    std::chrono::milliseconds delay{0};
  };
  struct reply {
    /// The token given to on_revoked.
    uint64_t token = 0;
    std::vector<partition_offset> offsets;
  };
  struct worker_ref {
    size_t index = 0;
    std::string name;
    uint64_t incarnation = 0;
  };

  std::vector<int32_t> pause;
  std::vector<int32_t> resume;
  /// Asynchronous commits.
  std::vector<partition_offset> commits;
  /// The operator's pause of the consumer: true pause, false resume.
  std::optional<bool> operator_pause;
  std::vector<send> sends;
  /// Records whose dead letter to produce (dead_letter_of).
  std::vector<uint64_t> dead_letters;
  std::vector<timer> timers;
  std::vector<reply> replies;
  /// Worker incarnations to kill (timed out).
  std::vector<worker_ref> kills;
  /// Slots to start in the pool (add_child_atom), answered with
  /// on_worker_added / on_worker_add_failed.
  std::vector<worker_ref> adds;
  /// Slots to take out of the pool (remove_child_atom; demonitor the
  /// incarnation first), answered with on_worker_removed.
  std::vector<worker_ref> removes;
  /// Slots that now hold the incarnation the call named (monitor it).
  std::vector<size_t> adopted;
  /// Shutdown: stop fetching, and bound the whole stop.
  bool stop_fetching = false;
  /// Shutdown drained: commit these, close the consumer.
  std::optional<std::vector<partition_offset>> close;

  bool empty() const noexcept;
};

// -- the core's data
// -------------------------------------------------------------

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
  /// Sequence numbers in poll order; they go on across assignments.
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
  /// The running incarnation's actor id; 0 while there is none (crashed,
  /// not started, being removed).
  uint64_t incarnation = 0;
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
  uint64_t incarnation = 0;
};

struct drain_job {
  uint64_t id = 0;
  std::vector<int32_t> partitions;
  bool lost = false;
  /// Part of a shutdown: closes the consumer when done.
  bool shutdown = false;
  /// Echoed in the reply (revokes).
  uint64_t token = 0;
  int64_t started_ns = 0;
  size_t waiting_for = 0;
  size_t abandoned = 0;
};

enum class lifecycle : uint8_t { running, draining, closing, stopped };

const char* to_string(lifecycle x);

/// "<name>-worker-<i>"
std::string worker_name(const std::string& bridge, size_t i);

// -- the core
// --------------------------------------------------------------------

class source_core {
 public:
  /// `metrics` and `entry` must be valid for the core's life; `trace` may
  /// be null.
  source_core(source_core_config cfg, source_metrics& metrics,
              inspect::actor_entry_ptr entry,
              inspect::trace_ring* trace = nullptr, source_clock clock = {});

  source_core(const source_core&) = delete;
  source_core& operator=(const source_core&) = delete;

  // -- records in, records out (source_core.cpp) ------------------------------

  /// One poll's records; pauses partitions over their buffer limit.
  source_effects on_records(const chunk_ptr& records, int64_t polled_ns);

  /// Records polled and unfinished, those of paused partitions left out
  /// (their own limit bounds them): what the flow gate is told.
  size_t held() const;

  // -- answers (source_core_results.cpp)
  // ---------------------------------------

  /// Worker answered batch `id`: its first `succeeded` records are done;
  /// `failure`, if set, is the next record's (the worker stopped there).
  /// Records after those are given back, without counting an attempt.
  source_effects on_batch_done(uint64_t id, size_t succeeded,
                               std::optional<record_failure> failure);

  /// The request for batch `id` failed with `error` (rendered).
  source_effects on_batch_failed(uint64_t id, batch_fault fault,
                                 const std::string& error);

  /// Incarnation `who` crashed, was killed or stopped (`reason` rendered).
  /// Its oldest outstanding batch is the one it was running: each of its
  /// records counts one attempt and is retried alone. Younger batches never
  /// started and are dispatched again without counting an attempt.
  source_effects on_worker_down(uint64_t who, const std::string& reason);

  /// The pool restarted worker `name` as incarnation `who`; `why` is what
  /// the batches of an older incarnation fail with.
  source_effects on_worker_restarted(const std::string& name, uint64_t who,
                                     const std::string& why);

  /// A retry timer fired (or a dead letter is due to be produced again).
  source_effects on_retry_due(uint64_t seq);

  /// The dead letter of `seq` was acknowledged, or failed with `error`.
  source_effects on_dead_lettered(uint64_t seq,
                                  std::optional<std::string> error);

  /// The outcome of a commit; `error` rendered, nullopt on success.
  void on_committed(const std::vector<partition_offset>& offsets,
                    const std::optional<std::string>& error);

  /// Commits what moved; refreshes the gauges and histograms.
  source_effects on_commit_tick();

  // -- rebalances and shutdown (source_core_drain.cpp) ------------------------

  void on_assigned(const std::vector<int32_t>& partitions);

  /// Starts draining `partitions`; the reply with their final offsets
  /// (`token`) comes once their running records are done or the drain
  /// timeout fired.
  source_effects on_revoked(std::vector<int32_t> partitions, bool lost,
                            uint64_t token);

  source_effects on_drain_timeout(uint64_t id);

  /// exit_msg, a fatal consumer error, a failed pool (`reason` rendered,
  /// "none" if empty): stop fetching, drain everything, then close (the
  /// `close` effect). No effects unless running.
  source_effects begin_shutdown(const std::string& reason);

  /// The consumer is closed (or gave up closing): true if this stops the
  /// bridge now.
  bool finish_shutdown();

  // -- operator controls and workers (source_core_workers.cpp) ----------------

  /// Slots "<name>-worker-<i>" for the first pool, none running yet.
  void start_pool(size_t n);
  /// The pool exists (scaling and retiring need it).
  void set_pool_alive(bool alive) noexcept { pool_alive_ = alive; }
  /// The pool answered which incarnation runs `name` (at start).
  source_effects on_worker_found(const std::string& name, uint64_t who);

  source_effects pause();
  source_effects resume();

  /// Grows or shrinks the pool to `n` (validated by the caller).
  source_effects scale(int32_t n);
  source_effects on_worker_added(size_t index, const std::string& name,
                                 uint64_t who);
  void on_worker_add_failed(size_t index, const std::string& name,
                            const std::string& error);
  source_effects on_worker_removed(size_t index, const std::string& name,
                                   const std::optional<std::string>& error);

  /// The numbers behind (stats_atom), without librdkafka's (watermarks,
  /// position, lag: the caller fills them in).
  source_stats stats();

  // -- inspection (tests, the shell)
  // --------------------------------------------

  lifecycle life() const noexcept { return life_; }
  bool operator_paused() const noexcept { return operator_paused_; }
  size_t in_flight() const noexcept { return in_flight_; }
  size_t pending() const noexcept { return pending_.size(); }
  size_t chunks() const noexcept { return pending_.chunks(); }
  const pending_record* find(uint64_t seq) { return pending_.find(seq); }
  const partition_state* partition(int32_t p) const;
  const std::vector<worker_slot>& workers() const noexcept { return workers_; }
  const worker_slot* batch_worker(uint64_t batch) const;
  /// Records in batch `batch`, 0 if it is not outstanding.
  size_t batch_size(uint64_t batch) const;
  size_t batches() const noexcept { return batches_.size(); }
  size_t drains() const noexcept { return drains_.size(); }
  const source_core_config& config() const noexcept { return cfg_; }

  /// What the dead letter of `seq` says, and of which record; nullopt if
  /// `seq` is not dead-lettering.
  struct dead_letter_request {
    const in_record* rec = nullptr;
    std::string error;
    int attempts = 0;
    int64_t first_failure_ms = 0;
    int64_t last_failure_ms = 0;
  };
  std::optional<dead_letter_request> dead_letter_of(uint64_t seq);

 private:
  // -- helpers (source_core.cpp)
  // ------------------------------------------------
  int64_t now_ns() const;
  int64_t wall_ms() const;
  partition_state* find_partition(int32_t p);
  void finish(uint64_t seq, pending_record& p, partition_state& ps, int64_t t);
  void note_ack(int64_t ns) noexcept;
  void flush_acks() noexcept;
  void flush_histograms();
  void dispatch();
  void dispatch_retries(std::vector<uint64_t>& normal,
                        std::vector<size_t>& runs, size_t& reserved);
  void take_runs(std::vector<uint64_t>& normal, std::vector<size_t>& runs,
                 size_t& reserved);
  void pack_batches(std::vector<uint64_t>& normal,
                    const std::vector<size_t>& runs);
  size_t budget(size_t reserved) const noexcept;
  /// Records of `ps` wait: an operator paused the binding, or a revoke
  /// drains other partitions (see start_drain).
  bool held(const partition_state& ps) const noexcept {
    return (operator_paused_ || revokes_draining_ > 0) && !ps.revoking;
  }
  void run_alone(uint64_t seq, pending_record& p, partition_state& ps);
  void send_batch(size_t worker, std::vector<uint64_t> seqs, bool exclusive);
  /// A worker that takes another batch: started, not running a record
  /// alone, not retiring, below max_batches_per_worker.
  bool available(const worker_slot& w) const noexcept {
    return w.incarnation != 0 && !w.exclusive && !w.retiring &&
           w.batches < cfg_.max_batches_per_worker;
  }
  int pick_worker() const;
  int pick_idle_worker() const;

  // -- failures (source_core_results.cpp)
  // ---------------------------------------
  void note_failure(pending_record& p, const std::string& err, bool solo);
  void fail(uint64_t seq, pending_record& p, partition_state& ps,
            const std::string& err, bool permanent, bool solo);
  void note_dead_letter(const pending_record& p);
  std::optional<batch_info> release_batch(uint64_t id);
  void return_to_lane(uint64_t seq, pending_record& p);
  void give_back(const batch_info& b, size_t k);
  void fail_batch(const batch_info& b, const std::string& cause, bool solo);
  void worker_down(uint64_t who, const std::string& reason);

  // -- drains (source_core_drain.cpp)
  // -------------------------------------------
  void start_drain(std::vector<int32_t> partitions, bool lost, bool shutdown,
                   uint64_t token);
  void check_drains();
  void finish_drain(drain_job job, bool timed_out);
  void abandon(uint64_t seq);
  template <class Pred>
  size_t abandon_where(const std::vector<int32_t>& parts, Pred pred);

  // -- workers (source_core_workers.cpp)
  // ----------------------------------------
  void add_worker(size_t index);
  void retire_if_idle(size_t index);
  void trim_workers();

  /// Hands the effects collected so far to the caller.
  source_effects take() { return std::exchange(fx_, source_effects{}); }

  source_core_config cfg_;
  source_metrics& metrics_;
  inspect::actor_entry_ptr entry_;
  inspect::trace_ring* trace_;
  source_clock clock_;
  source_effects fx_;

  dispatch_queue queue_;
  std::unordered_map<int32_t, partition_state> partitions_;
  /// The next sequence number of partitions no longer assigned (ids are
  /// never reused: see on_assigned).
  std::unordered_map<int32_t, uint64_t> next_seqs_;
  /// Partitions paused now (kept at pause and resume, recounted by the
  /// commit tick after revokes).
  size_t paused_partitions_ = 0;
  pending_table pending_;
  /// Retries whose backoff elapsed, dispatched before new records.
  std::deque<uint64_t> retry_ready_;
  /// Suspects (records that shared a batch with a crash) given back to
  /// their lanes: they must run alone when their turn comes.
  size_t suspects_ = 0;

  std::vector<worker_slot> workers_;
  bool pool_alive_ = false;
  /// The pool size in effect (the binding's, then the last scale).
  int32_t pool_size_ = 0;
  /// An operator paused the binding: nothing is dispatched except what a
  /// drain waits for.
  bool operator_paused_ = false;
  std::unordered_map<uint64_t, batch_info> batches_;
  uint64_t next_batch_ = 1;
  /// Records at workers.
  size_t in_flight_ = 0;

  std::vector<drain_job> drains_;
  uint64_t next_drain_ = 1;
  /// Revokes (not shutdowns) among drains_.
  size_t revokes_draining_ = 0;

  lifecycle life_ = lifecycle::running;
  std::mt19937_64 rng_;

  // -- numbers behind source_stats
  source_stats stats_;
  latency_recorder ack_latency_;
  latency_recorder processing_;
  histogram_batch ack_histogram_{latency_bucket_bounds()};
  histogram_batch processing_histogram_{latency_bucket_bounds()};
  /// Equal ack latencies in a row (records of one poll finishing in one
  /// answer), recorded at once by flush_acks.
  int64_t ack_run_ns_ = 0;
  uint64_t ack_run_count_ = 0;
};

} // namespace distiller::kafka::detail
