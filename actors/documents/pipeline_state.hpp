#pragma once

/// The state the document pipeline's actors share (internal to
/// actors/documents): configuration, store, embedder, index, the current
/// sink handle, the task pools, and helpers every stage uses (publishing
/// job updates to the node's broadcaster and job-updates, producing and
/// waiting for durability).
///
/// Threads: every member is safe to use from the stages' worker threads; the
/// sink handle is swapped under a mutex when its supervisor restarts it.
/// Ownership: held by `pipeline` and by every actor factory (shared_ptr), so
/// it outlives the actors that use it.

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/error.hpp>

#include "actors/documents/document_store.hpp"
#include "actors/documents/documents_config.hpp"
#include "actors/documents/embedder.hpp"
#include "actors/documents/index_snapshots.hpp"
#include "actors/documents/pipeline.hpp"
#include "actors/documents/search/sparse_index.hpp"
#include "actors/documents/search/vector_index.hpp"
#include "actors/documents/type_ids.hpp"
#include "bridges/kafka/in_record.hpp"
#include "bridges/kafka/record.hpp"
#include "bridges/kafka/record_worker.hpp"
#include "bridges/kafka/sink.hpp"
#include "runtime/core/type_ids.hpp"
#include "runtime/tasks/task_pool.hpp"

namespace prometheus {
class Gauge;
} // namespace prometheus

namespace distiller::documents {

/// The index role's snapshots (index_keeper.cpp).
struct index_snapshots {
  /// <data_dir>/index ("" : no snapshots, both indexes in memory).
  std::filesystem::path dir;
  /// What this node's indexes are built from (set by open_indexes).
  snapshot_identity dense;
  snapshot_identity sparse;
  /// One snapshot at a time; guards the members below.
  std::mutex mtx;
  /// Every chunk embedded before it is in both indexes in memory.
  pg_micros mark = 0;
  std::optional<snapshot_policy> policy;
};

struct pipeline_state {
  caf::actor_system& sys;
  documents_config cfg;
  pipeline_deps deps;

  std::shared_ptr<document_store> store;
  embedder_ptr model;
  std::unique_ptr<search::vector_index> index;
  /// BM25 over the same chunks (index role), fed with `index`.
  std::unique_ptr<search::sparse_index> sparse;
  index_snapshots snapshots;
  /// distiller_index_entries{index="dense"|"sparse"} (null without
  /// metrics).
  prometheus::Gauge* dense_entries = nullptr;
  prometheus::Gauge* sparse_entries = nullptr;
  std::unique_ptr<tasks::task_pool> uploads;
  std::unique_ptr<tasks::task_pool> reads;
  std::unique_ptr<tasks::task_pool> queries;

  /// The current worker actors of each stage ("chunker", "embedder", …)
  /// by registry name, replaced when a supervisor restarts one.
  std::mutex workers_mtx;
  std::map<std::string, std::map<std::string, kafka::record_worker_actor>>
      workers;

  pipeline_state(caf::actor_system& s, documents_config c, pipeline_deps d)
      : sys(s), cfg(std::move(c)), deps(std::move(d)) {}

  // -- the sink ---------------------------------------------------------------

  void set_sink(kafka::sink_actor sink);
  kafka::sink_actor sink();

  /// Produces `records` and waits until every one is durable (acks=all) or
  /// one failed; returns the error then. Blocks: call from worker threads
  /// only.
  caf::error produce(std::vector<kafka::out_record> records);

  /// The job-updates record for `job`.
  kafka::out_record job_update(const job_row& job) const;

  /// Hands `job`'s new state to this node's streams (the broadcaster) and to
  /// the sink for job-updates without waiting for the delivery (the
  /// database has the truth; the sink logs a failed delivery; the job
  /// watcher re-reads watched jobs).
  void announce(const job_row& job);

  /// Hands `job` to this node's streams (no-op without a broadcaster).
  void broadcast(const job_row& job);

  /// Wakes the node's outbox relay (deps.wake_relay).
  void wake_relay();

 private:
  std::mutex sink_mtx_;
  kafka::sink_actor sink_;
};

// -- stage handlers (stages.cpp) ----------------------------------------------

/// doc-ingest-requests: extract, chunk, store chunks, fan out.
caf::error handle_ingest(pipeline_state& st, const kafka::in_record& rec);

/// chunk-processing: embed, store (fan-in once), publish chunk-embedded.
caf::error handle_chunk(pipeline_state& st, const kafka::in_record& rec);

/// chunk-embedded: add the vector to this node's index (once).
caf::error handle_embedded(pipeline_state& st, const kafka::in_record& rec);

/// job-updates: hand the job to this node's subscribers.
caf::error handle_job_update(pipeline_state& st, const kafka::in_record& rec);

// -- the indexes (index_keeper.cpp) -------------------------------------------

/// Fills both indexes with every embedded chunk in PostgreSQL (ids already
/// present are skipped); returns the number of rows read.
size_t rebuild_index(pipeline_state& st);

/// What catch_up read and added.
struct catch_up_result {
  pg_micros mark = 0;
  size_t read = 0;
  size_t dense_added = 0;
  size_t sparse_added = 0;
};

/// Adds every chunk embedded at or after `since` that an index lacks;
/// afterwards both hold every chunk embedded before the returned mark.
catch_up_result catch_up(pipeline_state& st, pg_micros since);

/// Creates `st.index` and `st.sparse` (index role): from the snapshots under
/// st.snapshots.dir plus the chunks after their mark when they match this
/// node, else (none, corrupt, another database, model, dimension or kind:
/// logged) rebuilt from PostgreSQL; in memory and rebuilt without a
/// directory. Logs index_ready.
void open_indexes(pipeline_state& st);

/// Writes both snapshots (after a catch-up that moves the mark) unless
/// nothing was added since the last one; `reason` goes to the log. Returns
/// whether it wrote. Never throws: failures are logged.
bool snapshot_indexes(pipeline_state& st, const char* reason);

/// Copies both indexes' sizes into their gauges.
void update_index_gauges(pipeline_state& st);

/// The snapshotter: a detached actor that writes snapshots when
/// st.snapshots.policy says they are due. Its own timer is its only input.
using snapshotter_actor =
    caf::typed_actor<caf::reacts_to<detail::snapshot_tick_atom>>;
snapshotter_actor spawn_index_snapshotter(caf::actor_system& sys,
                                          std::shared_ptr<pipeline_state> st,
                                          inspect::actor_entry_ptr entry);

// -- background actors (relay.cpp) --------------------------------------------

/// The reconciler: every reconcile_interval, re-drives jobs stuck in a
/// non-final state for stuck_after. Its own timer is its only input.
using reconciler_actor =
    caf::typed_actor<caf::reacts_to<atoms::reconcile_atom>>;
reconciler_actor spawn_reconciler(caf::actor_system& sys,
                                  std::shared_ptr<pipeline_state> st,
                                  inspect::actor_entry_ptr entry);

/// One reconciler round (exposed for tests): returns the jobs re-driven.
int reconcile_once(pipeline_state& st);

/// Re-drives every job that is not final (the embedded Kafka started
/// empty); returns how many.
int redrive_unfinished(pipeline_state& st);

/// The job watcher: every second, reads the jobs that this node's streams
/// watch (the broadcaster's "job:" channels) and hands their states to the
/// broadcaster (streams drop states they have already seen). Its own
/// timer is its only input.
using job_watcher_actor =
    caf::typed_actor<caf::reacts_to<atoms::watch_tick_atom>>;
job_watcher_actor spawn_job_watcher(caf::actor_system& sys,
                                    std::shared_ptr<pipeline_state> st,
                                    inspect::actor_entry_ptr entry);

// -- the API (service.cpp)
// -----------------------------------------------------

std::shared_ptr<document_service>
make_service(std::shared_ptr<pipeline_state> st);

} // namespace distiller::documents
