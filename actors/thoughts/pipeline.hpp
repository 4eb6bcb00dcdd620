#pragma once

/// The thought pipeline of one node (seed 003; docs/thought-pipeline.md):
///
///   POST /thoughts ─► thought API pool ─► PostgreSQL (user + thought +
///       thought_created + outbox, one tx) ─► relay ─► thought-processing
///   thought-processing ─► thought workers (source bridge, key = user: a
///       user's thoughts one after the other, users in parallel)
///       ─► classify → analyse → value → plan → summarise (agent pools)
///       ─► each step saved with its event (PostgreSQL) ─► broadcaster of
///          this node at once, and thought-updates
///   thought-updates ─► follower (per-node group) ─► broadcaster
///       ─► GET /thoughts/stream/{user_id} (resume from PostgreSQL)
///   janitor: re-drives stuck thoughts, prunes old events
///
/// Roles (`pipeline_roles`): `api` (the routes, the follower; the
/// broadcaster is the node's), `thoughts` (workers, agents, janitor).
///
/// Threads: `prepare`, `children`, `stop` run in the node's start and stop
/// sequence; `service()` may be used from any thread.
/// Ownership: the pipeline owns the store, the agents and the API pool; the
/// actors in `children()` run under the node's root supervisor and share
/// that state (stop the supervisor before destroying the pipeline).
/// Failure: `prepare` throws when the store cannot connect or an agent
/// cannot be built (bad configuration); at run time an agent's failure is
/// retried by the bridge, and dead-lettered after thoughts.max_attempts.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>

#include "actors/broadcast/broadcaster.hpp"
#include "actors/thoughts/agents/agent.hpp"
#include "actors/thoughts/service.hpp"
#include "actors/thoughts/thoughts_config.hpp"
#include "bridges/kafka/compression.hpp"
#include "bridges/kafka/sink_ref.hpp"
#include "runtime/inspect/registry.hpp"
#include "runtime/inspect/trace_ring.hpp"
#include "runtime/metrics/metrics.hpp"
#include "runtime/supervision/supervisor.hpp"

namespace distiller::thoughts {

struct pipeline_roles {
  bool api = true;
  bool thoughts = true;
};

struct pipeline_deps {
  std::string brokers;
  std::string dsn;
  std::string node_name;
  inspect::registry* actors = nullptr;
  metrics::node_metrics* metrics = nullptr;
  pipeline_roles roles;
  /// The node's broadcaster (required with the api role; with it, this
  /// node's own events reach its streams without a Kafka round trip).
  std::shared_ptr<broadcast::broadcaster> broadcaster;
  /// The node's sink (thought-updates records).
  std::shared_ptr<kafka::sink_ref> sink;
  /// Wakes the node's outbox relay after a submission.
  std::function<void()> wake_relay;
  /// The embedded Kafka started empty: every unfinished thought is
  /// re-driven at start.
  bool embedded_kafka = false;
  /// Builds the agents (tests wrap them); null: from the configuration.
  std::function<agent_ptr(agent_kind)> make_agent;
  /// The codec of each topic (the node's catalog plan) for the bridges'
  /// dead-letter producers.
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
};

struct pipeline_state;

class pipeline {
 public:
  pipeline(caf::actor_system& sys, thoughts_config cfg, pipeline_deps deps);
  ~pipeline();
  pipeline(const pipeline&) = delete;
  pipeline& operator=(const pipeline&) = delete;

  /// Connects the store, builds the agents, and (embedded Kafka, thoughts
  /// role) re-drives unfinished thoughts.
  void prepare();

  /// The actors to start under the node's root supervisor: agent pools,
  /// the workers' bridge and the janitor (thoughts), the follower (api).
  std::vector<supervision::child_spec> children();

  /// The API's view (null without the api role).
  std::shared_ptr<thought_service> service();

  /// Stops the API pool (the supervisor stops the actors).
  void stop();

  /// Drops every actor handle the pipeline keeps; call after the actor
  /// system's actors are done and before it is destroyed.
  void release_actors();

 private:
  std::shared_ptr<pipeline_state> state_;
};

} // namespace distiller::thoughts
