#pragma once

/// The document pipeline of one node: upload → chunks → embeddings → hybrid
/// search (docs/document-pipeline.md). Every role is an actor or a pool of
/// them:
///
///   HTTP routes ─► uploader pool ─► PostgreSQL (job + file + outbox, one tx)
///   outbox relay ─► doc-ingest-requests ─► chunker pool (source bridge)
///       ─► chunk rows + chunk-processing ─► embedder pool (source bridge)
///       ─► vectors + fan-in + chunk-embedded ─► indexer (per-node group,
///          FAISS replica) ◄─ query pool ◄─ HTTP routes
///   every state change ─► job-updates ─► follower (per-node group)
///       ─► broadcaster ─► SSE streams;  reconciler re-drives stuck jobs
///
/// Which parts run follows the node's roles (`pipeline_roles`): `api`
/// (uploader, reader and query pools, job follower), `ingest` (chunkers,
/// outbox relay, reconciler), `embed` (embedders), `index` (indexer, needed
/// by queries).
///
/// Threads: `prepare`, `children`, `stop` are called by the node's start and
/// stop sequence (one thread); `service()` may be used from any thread.
/// Ownership: the pipeline owns the store, the embedder, the index, the hub
/// and the task pools; the actors in `children()` run under the node's root
/// supervisor and share that state (it outlives them: stop the supervisor
/// before destroying the pipeline).
/// Failure: `prepare` throws when the store cannot connect or the index
/// cannot be rebuilt; at run time a stage's failure is retried by its
/// bridge and dead-lettered after documents.max_attempts.

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>

#include "actors/broadcast/broadcaster.hpp"
#include "actors/documents/documents_config.hpp"
#include "actors/documents/service.hpp"
#include "bridges/kafka/compression.hpp"
#include "runtime/inspect/registry.hpp"
#include "runtime/inspect/trace_ring.hpp"
#include "runtime/metrics/metrics.hpp"
#include "runtime/supervision/supervisor.hpp"

namespace distiller::documents {

struct pipeline_roles {
  bool api = true;
  bool ingest = true;
  bool embed = true;
  bool index = true;
};

struct pipeline_deps {
  std::string brokers;
  std::string dsn;
  std::string node_name;
  inspect::registry* actors = nullptr;
  metrics::node_metrics* metrics = nullptr;
  pipeline_roles roles;
  /// Wakes the node's outbox relay after rows were written (uploads, the
  /// reconciler); the relay also looks on its own timer.
  std::function<void()> wake_relay;
  /// The node's SSE broadcaster (the api role's job streams).
  std::shared_ptr<broadcast::broadcaster> broadcaster;
  /// The embedded Kafka started empty: every unfinished job is re-driven
  /// at start (ingest role) instead of after documents.stuck_after.
  bool embedded_kafka = false;
  /// The codec of each topic (the node's catalog plan) for the sink and the
  /// bridges' dead-letter producers.
  kafka::compression_plan codecs;
  /// delivery.timeout.ms of the node's producers (kafka.delivery_timeout);
  /// a worker waits kafka::produce_wait for its records' acknowledgements.
  std::chrono::milliseconds delivery_timeout{30000};
  /// Added to every consumer's properties (the node's
  /// kafka::group_properties: session and heartbeat timeouts).
  std::map<std::string, std::string> consumer_properties;
  /// The node's trace ring (null: off): workers record each record they
  /// run, bridges each dead letter (`distiller shell`'s trace).
  inspect::trace_ring* trace = nullptr;
  /// Where the index role keeps its snapshots (<data_dir>/index; "" or
  /// index.snapshots = false: both indexes in memory, rebuilt at start).
  std::filesystem::path index_dir;
};

struct pipeline_state;

class pipeline {
 public:
  pipeline(caf::actor_system& sys, documents_config cfg, pipeline_deps deps);
  ~pipeline();
  pipeline(const pipeline&) = delete;
  pipeline& operator=(const pipeline&) = delete;

  /// Connects the store, builds the embedder and (index role) opens both
  /// indexes: from their snapshots plus the chunks after them, or rebuilt
  /// from PostgreSQL (docs/document-pipeline.md, "Index snapshots").
  void prepare();

  /// The actors to start under the node's root supervisor, in start order:
  /// the sink first, then the reconciler and the source bridges (the node
  /// runs the outbox relay).
  std::vector<supervision::child_spec> children();

  /// The API's view (null without the api role).
  std::shared_ptr<document_service> service();

  /// Extensions the chunker extracts text from (".txt", …).
  std::vector<std::string> supported_extensions() const;

  /// Kills every worker actor of a stage ("chunker", "embedder", "indexer",
  /// "job-follower") at once, as a crash would (exit_reason::kill): their
  /// supervisor restarts them and the bridge retries their records. An
  /// operator's (and the crash tests') tool; returns the workers killed.
  size_t kill_stage_workers(const std::string& stage);

  /// Vectors in this node's index (0 without the index role).
  size_t index_size() const;

  /// Chunks in this node's BM25 index (0 without the index role).
  size_t sparse_size() const;

  /// Writes the index snapshots now unless nothing changed since the last
  /// one (index role with snapshots; false otherwise or on failure).
  bool snapshot_indexes();

  /// Stops the task pools and writes the index snapshots (the supervisor
  /// stops the actors). Once; later calls do nothing.
  void stop();

  /// Drops every actor handle the pipeline keeps (sink, relay, workers,
  /// task pools). Call after the actor system's actors are done: a detached
  /// actor's thread ends only when the last handle to it is gone, and the
  /// actor system's destructor waits for those threads.
  void release_actors();

 private:
  std::shared_ptr<pipeline_state> state_;
  bool stopped_ = false;
};

} // namespace distiller::documents
