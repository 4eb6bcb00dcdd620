#pragma once

/// The state behind a node (node.hpp), shared by its files: node.cpp
/// (start and stop in order, the node's accessors, `run`) and
/// node_start.cpp (each step of the start: Kafka, PostgreSQL, the actor
/// system, the pipelines, the supervisor, the cluster, HTTP). Private to
/// actors/node.

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "actors/broadcast/broadcaster.hpp"
#include "actors/cluster/cluster_node.hpp"
#include "actors/cluster/cluster_routes.hpp"
#include "actors/documents/document_routes.hpp"
#include "actors/documents/pipeline.hpp"
#include "actors/node/node.hpp"
#include "actors/node/pg_keeper.hpp"
#include "actors/node/services.hpp"
#include "actors/thoughts/pipeline.hpp"
#include "actors/thoughts/thought_routes.hpp"
#include "actors/web/web_routes.hpp"
#include "bridges/embedded/kafka_cluster.hpp"
#include "bridges/embedded/pg_cluster.hpp"
#include "bridges/http/openapi.hpp"
#include "bridges/http/router.hpp"
#include "bridges/http/server.hpp"
#include "bridges/kafka/catalog.hpp"
#include "bridges/kafka/compression.hpp"
#include "bridges/kafka/handles.hpp"
#include "bridges/kafka/in_record.hpp"
#include "bridges/kafka/metadata.hpp"
#include "bridges/kafka/sink.hpp"
#include "bridges/kafka/sink_ref.hpp"
#include "bridges/kafka/type_ids.hpp"
#include "bridges/outbox/relay.hpp"
#include "bridges/postgres/connection.hpp"
#include "bridges/postgres/migrations.hpp"
#include "bridges/postgres/outbox.hpp"
#include "bridges/postgres/pool.hpp"
#include "runtime/core/data_dir_lock.hpp"
#include "runtime/core/errc.hpp"
#include "runtime/core/type_ids.hpp"
#include "runtime/health/health_board.hpp"
#include "runtime/health/probe.hpp"
#include "runtime/inspect/registry.hpp"
#include "runtime/inspect/trace_ring.hpp"
#include "runtime/logging/log.hpp"
#include "runtime/metrics/metrics.hpp"
#include "runtime/supervision/supervisor.hpp"

namespace distiller::node {

namespace detail {

inline long long ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now() - t0)
      .count();
}

} // namespace detail

struct node::impl {
  node_config cfg;
  node_hooks hooks;
  health::health_board board;
  inspect::registry actors;
  /// What happened to each trace id lately (shell's `trace`); borrowed by
  /// the HTTP server, the bridges and their workers, so it outlives them.
  inspect::trace_ring traces;
  metrics::node_metrics metrics;
  std::unique_ptr<caf::actor_system_config> sys_cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::unique_ptr<embedded::kafka_cluster> kafka_mock;
  std::unique_ptr<embedded::pg_cluster> pg;
  /// Restarts `pg` when it exits (only for a server this node started).
  std::unique_ptr<pg_keeper> pg_keep;
  std::shared_ptr<kafka::catalog> topics;
  std::string bootstrap;
  std::string dsn;
  /// The root supervisor; read by the cluster agent's threads, hence the
  /// lock.
  mutable std::mutex root_mtx;
  caf::actor root;
  /// One node per data directory; taken before anything else, released
  /// last.
  std::optional<data_dir_lock> dir_lock;
  /// The node's own sink (outbox relay, thought events) and relay.
  std::shared_ptr<kafka::sink_ref> sink = std::make_shared<kafka::sink_ref>();
  std::shared_ptr<outbox::relay_waker> relay =
      std::make_shared<outbox::relay_waker>();
  std::unique_ptr<postgres::connection_pool> outbox_pool;
  std::unique_ptr<postgres::outbox_store> outbox;
  std::shared_ptr<broadcast::broadcaster> broadcaster;
  std::unique_ptr<documents::pipeline> docs;
  std::unique_ptr<thoughts::pipeline> thoughts;
  std::shared_ptr<cluster::cluster_node> cluster;
  std::shared_ptr<void> cluster_routes;
  std::shared_ptr<http::router> routes;
  std::unique_ptr<http::server> web;
  uint16_t port = 0;
  std::atomic<bool> stop_requested{false};
  bool started = false;
  bool stopped = false;

  impl(node_config c, node_hooks h)
      : cfg(std::move(c)), hooks(std::move(h)), actors(cfg.runtime.node.name),
        metrics(cfg.runtime.node.name) {}

  /// The codec of each topic for every producer of this node: the
  /// catalog's, else kafka.compression.
  kafka::compression_plan codecs() const {
    return kafka::plan_from_catalog(*topics,
                                    kafka::default_compression(cfg.kafka));
  }

  /// Whether this node publishes the outbox: every role that writes to it.
  bool runs_relay() const {
    return has_role(cfg, "relay") || has_role(cfg, "api") ||
           has_role(cfg, "ingest") || has_role(cfg, "thoughts");
  }

  /// The outbox's pool and the SSE broadcaster, shared by both pipelines.
  void start_shared();

  void start_thoughts();

  void start_actor_system();

  void start_kafka();

  void start_postgres();

  /// The document pipeline's shared state (store, embedder, index rebuilt
  /// from PostgreSQL) for the roles this node runs.
  void start_documents();

  void start_supervisor();

  caf::actor root_actor() const {
    std::lock_guard<std::mutex> guard{root_mtx};
    return root;
  }

  /// This node's membership and cluster port (docs/cluster.md); its
  /// routes go in before HTTP starts, the port opens once HTTP listens.
  void prepare_cluster();

  void start_cluster();

  void start_http();

  void write_node_file();

  void start();

  void stop();
};

} // namespace distiller::node
