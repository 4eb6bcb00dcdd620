#pragma once

/// The state behind a cluster_node (cluster_node.hpp), shared by its files:
/// cluster_node.cpp (membership, peers, the node's calls) and
/// cluster_questions.cpp (what the agent answers). Private to
/// actors/cluster.

#include <atomic>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/json.hpp>
#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>

#include "actors/cluster/cluster_node.hpp"
#include "actors/cluster/member_store.hpp"
#include "bridges/kafka/source_bridge.hpp"
#include "runtime/cluster/membership.hpp"
#include "runtime/cluster/tunnel.hpp"

namespace distiller::cluster {

namespace detail {

/// A failed answer of `node`: error code and detail.
inline node_answer fail(const std::string& node, std::string error,
                        std::string detail) {
  node_answer a;
  a.node = node;
  a.ok = false;
  a.error = std::move(error);
  a.body = std::move(detail);
  return a;
}

} // namespace detail

struct cluster_node::state {
  caf::actor_system& sys;
  cluster_config cfg;
  shell_config shell;
  cluster_deps deps;
  std::unique_ptr<member_store> store;
  member_row self;

  std::unique_ptr<tunnel_server> gate;
  agent_actor agent;
  uint16_t mm_port = 0;
  std::atomic<bool> stopped{false};
  std::mutex beat_mtx;

  /// The membership view (guarded).
  mutable std::mutex view_mtx;
  membership view;
  bool view_known = false;
  bool name_conflict = false;

  /// Connections to other members' agents (guarded).
  struct peer {
    std::string incarnation;
    std::unique_ptr<tunnel_client> tunnel;
    agent_actor agent;
  };
  std::mutex peers_mtx;
  std::map<std::string, std::shared_ptr<peer>> peers;

  /// The last events, for GET /cluster/events replays (guarded).
  std::mutex events_mtx;
  std::deque<broadcast::event_ptr> events;
  uint64_t next_seq = 1;

  /// Processed counts per pool at the last question (the agent's thread).
  std::map<std::string,
           std::pair<uint64_t, std::chrono::steady_clock::time_point>>
      samples;
  /// The agent's thread and the HTTP pool's both answer questions.
  std::mutex samples_mtx;

  prometheus::Family<prometheus::Gauge>* members_gauge = nullptr;
  prometheus::Family<prometheus::Counter>* events_counter = nullptr;

  state(caf::actor_system& s, cluster_config c, shell_config sh, cluster_deps d)
      : sys(s), cfg(std::move(c)), shell(sh), deps(std::move(d)),
        view(membership_settings{cfg.unreachable_after, cfg.down_after}) {
    if (auto* m = deps.metrics) {
      members_gauge = &prometheus::BuildGauge()
                           .Name("distiller_cluster_members")
                           .Help("Members of the cluster by state, as this "
                                 "node sees them")
                           .Register(m->registry());
      events_counter = &prometheus::BuildCounter()
                            .Name("distiller_cluster_member_events_total")
                            .Help("Membership changes this node saw")
                            .Register(m->registry());
      // Every label set from the start, so dashboards and alerts find the
      // series before the first change.
      for (auto s2 : {member_state::up, member_state::unreachable,
                      member_state::down, member_state::left})
        members_gauge->Add({{"state", to_string(s2)}}).Set(0);
      for (auto e :
           {"member_up", "member_unreachable", "member_down", "member_left"})
        events_counter->Add({{"event", e}});
    }
  }

  // -- questions --------------------------------------------------------------

  /// What the node's agent answers for the shell and the /cluster routes
  /// (cluster_questions.cpp): its source bridges by name, a bridge's
  /// stats, a child of the root supervisor, an actor as JSON.
  std::vector<std::pair<std::string, caf::actor>> bridges();

  std::optional<kafka::source_stats> stats_of(const caf::actor& bridge);

  caf::actor root_child(const std::string& name);

  boost::json::object actor_json(const inspect::actor_snapshot& a, bool errors);

  /// The answer to question `what` with its JSON arguments; changes
  /// (restart, send, pause, resume …) go to change().
  node_answer answer(const std::string& what, const std::string& args_text);

  node_answer change(const std::string& what, const boost::json::object& args);

  // -- membership -------------------------------------------------------------

  void publish_event(const member_event& e);

  void connect_peers();

  /// Writes this node's heartbeat, then reads the table (observe()).
  void beat();

  /// Reads the other members' heartbeats and judges them. Runs more often
  /// than beat() (cfg.heartbeat / 4), so a member is judged down within a
  /// quarter beat of its heartbeat's age passing down_after.
  void observe();

  void observe_locked();

  void lost_table(const std::exception& e);
};

} // namespace distiller::cluster
