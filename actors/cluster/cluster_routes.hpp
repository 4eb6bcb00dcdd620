#pragma once

/// The cluster's HTTP view, served by every node (docs/cluster.md): what
/// the inspection shell (`distiller shell`) and operators read and do.
///
///   GET  /cluster                       members as this node sees them
///   GET  /cluster/events                SSE: member_up, member_unreachable,
///                                       member_down, member_left
///   GET  /cluster/actors                every node's actors (?node= &role=
///                                       &sort=mailbox|processed|failures|
///                                       restarts &top=K)
///   GET  /cluster/actors/{actor}        every field and recent errors
///   GET  /cluster/pools                 pools: size, busy, processed/s …
///   GET  /cluster/partitions            per binding and partition: owner,
///                                       committed, high watermark, lag
///   GET  /cluster/lag                   per binding: partitions and lag
///   GET  /cluster/trace/{trace_id}      which actors and records carried it
///   POST /cluster/actors/{actor}/restart | /send {"message"}
///   POST /cluster/bindings/{binding}/pause | /resume
///   POST /cluster/pools/{pool}/scale {"size": N}
///
/// Every answer is {"<view>": [...], "errors": [{"node","error","detail"}]}:
/// a member that is down or does not answer in cluster.request_timeout is
/// listed under errors (at once when it is known down), the others still
/// answer. Changing commands need `shell.allow_write` on the node that runs
/// them (403 forbidden otherwise) and are logged as `shell_command`.
///
/// Threads: handlers hand the work to a small task pool (the questions to
/// other nodes block).

#include <memory>

#include "actors/broadcast/broadcaster.hpp"
#include "actors/cluster/cluster_node.hpp"

namespace distiller::http {
class openapi_spec;
class router;
} // namespace distiller::http

namespace distiller::cluster {

struct cluster_routes_deps {
  std::shared_ptr<cluster_node> node;
  /// For /cluster/events (null: 503 there).
  std::shared_ptr<broadcast::broadcaster> broadcaster;
  caf::actor_system* sys = nullptr;
  inspect::registry* actors = nullptr;
  std::shared_ptr<http::openapi_spec> api_docs;
};

/// Registers the routes; returns the owner of their task pool: keep it until
/// the HTTP server stopped, and drop it before waiting for the actor system
/// (its workers stop then; a route called later answers 503).
std::shared_ptr<void> add_cluster_routes(http::router& r,
                                         cluster_routes_deps deps);

/// The events of the "cluster" channel kept for resuming (Last-Event-ID).
std::shared_ptr<broadcast::replay_source>
cluster_events_source(std::shared_ptr<cluster_node> node);

} // namespace distiller::cluster
