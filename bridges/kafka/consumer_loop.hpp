#pragma once

/// The source bridge's poll thread: owns one librdkafka consumer in a
/// consumer group, polls it in batches and hands the records to its owner
/// (the bridge actor) through `consumer_events`, never waiting for workers.
///
/// Commands from the owner (commit, pause/resume, stop fetching, close,
/// abort) go through a mutex-protected list that the thread drains before
/// every poll; each command wakes a blocked poll (rd_kafka_queue_yield).
///
/// Rebalances run on this thread, inside the poll (librdkafka's
/// rebalance_cb):
///   - assign: the owner is told first (`on_assigned`), then the partitions
///     are assigned, so it sees the assignment before any of their records;
///   - revoke: the owner gets `on_revoked` and returns a future of the final
///     offsets; the thread WAITS for it (bounded by `revoke_timeout`),
///     commits them synchronously, and only then unassigns. Lost partitions
///     (session expired) are abandoned without a commit. If the coordinator
///     refuses that commit (librdkafka 2.0.2's mock cluster always answers
///     REBALANCE_IN_PROGRESS during an eager rebalance; Kafka accepts it),
///     the offsets are kept, and a partition that the very next assignment
///     gives back starts there (and is committed) instead of at the older
///     committed offset.
/// Records that a poll returned for partitions revoked during that same poll
/// are discarded: they were not tracked, so no commit passes them.
///
/// Owns: the rd_kafka_t consumer and its consumer queue (RAII handles), the
/// thread. Failure: consumer errors are logged and counted; a fatal one is
/// reported (`on_error(err, true)`) and the thread keeps serving commands
/// until the owner closes it. Destroying a running loop aborts it (a crash:
/// no commit, no LeaveGroup) and joins the thread.
///
/// Thread-safety: every public member may be called from any thread.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include <caf/error.hpp>
#include <caf/meta/type_name.hpp>

#include "bridges/kafka/flow_gate.hpp"
#include "bridges/kafka/handles.hpp"
#include "bridges/kafka/in_record.hpp"
#include "bridges/kafka/partition_offset.hpp"
#include "bridges/kafka/record_chunk.hpp"
#include "bridges/kafka/source_binding.hpp"
#include "bridges/kafka/stall_watch.hpp"

namespace distiller::kafka {

struct source_metrics;

/// How the loop reports to its owner. Called on the loop's thread; every
/// call must return quickly (send a message), except that the future of
/// `on_revoked` is waited for.
class consumer_events {
 public:
  virtual ~consumer_events() = default;
  /// One poll's records (`size` > 0), in poll order; `polled_ns` is
  /// steady_clock time.
  virtual void on_records(chunk_ptr records, int64_t polled_ns) = 0;
  virtual void on_assigned(std::vector<int32_t> partitions) = 0;
  /// Returns the offsets to commit before the partitions are released.
  virtual std::future<std::vector<partition_offset>>
  on_revoked(std::vector<int32_t> partitions, bool lost) = 0;
  /// The outcome of a commit the owner asked for (async or on revoke).
  virtual void on_committed(std::vector<partition_offset> offsets,
                            caf::error err) = 0;
  /// A consumer error; after a fatal one the consumer is unusable.
  virtual void on_error(caf::error err, bool fatal) = 0;
  /// The consumer is closed (after `close`); the thread is ending.
  virtual void on_stopped() = 0;
};

class consumer_loop {
 public:
  struct config {
    std::string brokers;
    std::string topic;
    std::string group;
    std::string client_id;
    std::string auto_offset_reset = "earliest";
    bool cooperative = false;
    std::map<std::string, std::string> properties;
    /// Upper bound for the owner's answer to a revoke.
    std::chrono::milliseconds revoke_timeout{15000};
    /// Most records returned by one poll.
    size_t max_poll_records = 2000;
    std::chrono::milliseconds poll_timeout{50};
    /// Label for logs.
    std::string bridge_name;
    /// Spent chunks to refill instead of allocating new ones (optional).
    std::shared_ptr<record_chunk_pool> pool;
    /// The owner's back-pressure (optional): while it is closed the thread
    /// does not fetch. Closed for longer than `max_hold`, the thread pauses
    /// every partition and polls again, so that rebalances are served while
    /// the owner catches up; the partitions resume when the gate opens.
    std::shared_ptr<flow_gate> gate;
    std::chrono::milliseconds max_hold{1000};
    /// A partition with records waiting, held by nothing, whose position
    /// has not moved for this long is sought to its own position (which
    /// restarts its fetch) and logged as `partition_stalled`
    /// (stall_watch.hpp); 0 = off.
    std::chrono::milliseconds stall_after{30000};
  };

  /// Creates the consumer and subscribes; throws std::runtime_error naming a
  /// rejected property. Does not start the thread.
  consumer_loop(config cfg, std::shared_ptr<consumer_events> events,
                source_metrics* metrics = nullptr,
                commit_observer observer = {});
  ~consumer_loop();

  consumer_loop(const consumer_loop&) = delete;
  consumer_loop& operator=(const consumer_loop&) = delete;

  void start();

  // -- commands -----------------------------------------------------------

  /// Commits asynchronously; the result comes back through `on_committed`.
  void commit(std::vector<partition_offset> offsets);
  /// Back-pressure: pauses or resumes these partitions. A resume leaves a
  /// partition paused while the gate's hold or an operator's pause holds it.
  void pause(std::vector<int32_t> partitions);
  void resume(std::vector<int32_t> partitions);
  /// An operator's pause: pauses every assigned partition, and every
  /// partition assigned later, until `operator_resume`; nothing else
  /// resumes them meanwhile. Idempotent.
  void operator_pause();
  /// Resumes what `operator_pause` paused, except partitions back-pressure
  /// or the gate's hold still pause.
  void operator_resume();
  /// Pauses every assigned partition and drops what polls still return;
  /// rebalances are still served. Used when a shutdown starts draining.
  void stop_fetching();
  /// Commits `final_offsets` synchronously, closes the consumer (leaves the
  /// group), destroys it and ends the thread; then `on_stopped`.
  void close(std::vector<partition_offset> final_offsets);
  /// Simulates a crash: destroys the consumer without committing or leaving
  /// the group, ends the thread, no `on_stopped`. Does not wait.
  void abort();

  /// Waits for the thread to end (after close or abort).
  void join();

  /// The partitions currently assigned (a copy, for tests and inspection).
  std::set<int32_t> assignment() const;

  /// One partition's watermarks and position, -1 where unknown.
  struct partition_view {
    int32_t partition = 0;
    /// The partition's watermarks as the leader has them now (a short
    /// query), or the last fetch response's when the query fails.
    int64_t low_watermark = -1;
    int64_t high_watermark = -1;
    /// The offset of the next record a poll returns.
    int64_t position = -1;
    /// The group's committed offset as the coordinator has it (a short
    /// query): what a member that has not committed yet starts from.
    int64_t committed = -1;
  };

  /// The views of `partitions`: one committed-offsets query to the group
  /// coordinator (at most 500 ms) and two ListOffsets requests to each leader
  /// (latest and earliest, at most 200 ms each), so at most ~0.9 s whatever
  /// the number of partitions. The poll thread and the commands go on
  /// meanwhile; call it on request, not per record. Empty once the consumer
  /// is closed. Any thread.
  std::vector<partition_view>
  partition_views(const std::vector<int32_t>& partitions) const;

 private:
  struct command {
    enum kind_t {
      commit,
      pause,
      resume,
      operator_pause,
      operator_resume,
      stop_fetching,
      close
    } kind;
    std::vector<partition_offset> offsets;
    std::vector<int32_t> partitions;
  };

  void push(command cmd);
  void run();
  /// Executes queued commands; returns false once `close` was executed.
  bool serve_commands();
  void poll_once();
  /// True while the gate holds fetching back (after a wait of up to one
  /// poll timeout); pauses every partition once the hold is long.
  bool held_back();
  void hold_partitions(const std::vector<int32_t>& partitions);
  void release_hold();
  /// Pauses or resumes in librdkafka, without bookkeeping; `nudge` wakes
  /// the broker thread of a resumed partition (see the .cpp).
  void set_paused(const std::vector<int32_t>& partitions, bool pause,
                  bool nudge = true);
  rd_kafka_resp_err_t do_commit(const std::vector<partition_offset>& offsets,
                                bool sync);
  void do_pause(const std::vector<int32_t>& partitions, bool pause);
  void do_operator_pause(bool pause);
  void do_close(const std::vector<partition_offset>& final_offsets);
  /// Forgets queued async commits of `revoked` partitions (see the .cpp).
  void drop_queued_commits(const std::vector<int32_t>& revoked);
  /// Every second: the lag metrics, and the stall watch (stall_watch.hpp).
  void update_lag();
  /// Seeks `partition` to `position` if the stall watch says it stalled.
  void check_stall(int32_t partition, int64_t position, int64_t high,
                   std::chrono::steady_clock::time_point now);
  void forget_partition_metrics(int32_t partition);

  // librdkafka callbacks (on this thread, inside polls)
  static void rebalance_cb(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                           rd_kafka_topic_partition_list_t* parts,
                           void* opaque);
  static void commit_cb(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                        rd_kafka_topic_partition_list_t* offsets, void* opaque);
  static void error_cb(rd_kafka_t* rk, int err, const char* reason,
                       void* opaque);
  void on_rebalance(rd_kafka_resp_err_t err,
                    rd_kafka_topic_partition_list_t* parts);
  void on_commit_result(rd_kafka_resp_err_t err,
                        rd_kafka_topic_partition_list_t* offsets);
  void on_client_error(int err, const char* reason);

  topic_partition_list_ptr make_list(const std::vector<int32_t>& parts) const;
  topic_partition_list_ptr
  make_list(const std::vector<partition_offset>& offsets) const;

  config cfg_;
  std::shared_ptr<consumer_events> events_;
  source_metrics* metrics_;
  commit_observer observer_;

  mutable std::mutex mtx_;
  std::vector<command> commands_;
  std::atomic<bool> abort_{false};
  std::atomic<bool> started_{false};

  // -- loop thread only -------------------------------------------------------
  bool fetching_ = true;
  bool closing_ = false;
  bool fatal_ = false;
  /// Partitions revoked during the current poll call.
  std::set<int32_t> revoked_in_poll_;
  std::map<int32_t, int64_t> committed_;
  /// Partitions paused by the owner (back-pressure or stop_fetching).
  std::set<int32_t> paused_;
  /// The gate has been closed since then.
  std::optional<std::chrono::steady_clock::time_point> held_since_;
  /// A long hold: partitions paused for it (not by the owner).
  bool holding_ = false;
  std::set<int32_t> hold_paused_;
  /// An operator paused every partition (operator_pause).
  bool operator_paused_ = false;
  /// Final offsets of a revoke whose commit the coordinator refused; used if
  /// the very next assignment gives the partition back.
  std::map<int32_t, int64_t> unconfirmed_final_;
  std::chrono::steady_clock::time_point next_lag_update_{};
  detail::stall_watch stalls_{std::chrono::milliseconds{0}};
  std::vector<rd_kafka_message_t*> batch_;
  uint64_t topic_hash_ = 0;

  /// Held shared by `partition_views` (another thread) while it queries the
  /// client, exclusive by the thread when it destroys the client. After mtx_
  /// where both are taken.
  mutable std::shared_mutex client_mtx_;

  /// Read by `assignment()` from other threads.
  mutable std::mutex assignment_mtx_;
  std::set<int32_t> assigned_;

  // Declaration order matters: the queue must go before the client.
  rd_kafka_ptr rk_;
  queue_ptr queue_;
  std::thread thread_;
};

} // namespace distiller::kafka
