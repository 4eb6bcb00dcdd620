#pragma once

/// This node's part in the cluster: its membership (a heartbeat row in
/// PostgreSQL every `cluster.heartbeat`, everyone's rows read and judged —
/// runtime/cluster/membership.hpp), its cluster port (an authenticated
/// tunnel, runtime/cluster/tunnel.hpp, in front of CAF's middleman, which
/// listens on loopback only), its node agent (the one published actor: it
/// answers other nodes' questions about this node's actors, pools,
/// partitions and traces, and performs the shell's changing commands when
/// `shell.allow_write` is on), and its connections to the other members'
/// agents. docs/cluster.md has the whole picture.
///
///   cluster_node cl{sys, cfg, shell, deps};
///   cl.start(http_url);                          // port + agent
///   children.push_back(cl.membership_child());   // under the root
///   auto answers = cl.ask_all("actors", "{}");   // every up member
///   cl.stop();                                   // leave, close
///
/// Events member_up, member_unreachable, member_down and member_left are
/// logged, counted (distiller_cluster_member_events_total{event}),
/// reflected in distiller_cluster_members{state}, and published on the
/// broadcaster's "cluster" channel (GET /cluster/events).
///
/// Threads: `ask`, `ask_all` and `members` are thread-safe; `ask*` block
/// for at most `cluster.request_timeout` (call them from worker threads).
/// A question to a member that is not up fails at once with error
/// "node_down" — it never waits for a timeout.
/// Ownership: owns the store, the tunnels, the agent and the peers' handles;
/// `stop()` must run before the actor system goes away.
/// Failure: `start` throws when the cluster port cannot be opened; a
/// database outage stops the heartbeats (the others see this node down
/// after `cluster.down_after`) and freezes this node's view — it declares
/// no one down while it cannot read the table.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>
#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/typed_actor.hpp>

#include "actors/broadcast/broadcaster.hpp"
#include "actors/cluster/type_ids.hpp"
#include "runtime/cluster/cluster_config.hpp"
#include "runtime/inspect/registry.hpp"
#include "runtime/inspect/trace_ring.hpp"
#include "runtime/metrics/metrics.hpp"
#include "runtime/supervision/supervisor.hpp"

namespace distiller::cluster {

/// A node's agent, published to the other members through the tunnel: one
/// question (`what`, JSON `args`), one answer as JSON text (an error as
/// {"error": …, "detail": …}). A peer that asks for another interface gets
/// no actor (CAF compares the interfaces when it connects).
using agent_actor =
    caf::typed_actor<caf::replies_to<detail::query_atom, std::string,
                                     std::string>::with<std::string>>;

struct cluster_deps {
  std::string dsn;
  std::string node_name;
  std::vector<std::string> roles;
  std::string version;
  /// Required; must outlive the cluster node.
  inspect::registry* actors = nullptr;
  metrics::node_metrics* metrics = nullptr;
  inspect::trace_ring* trace = nullptr;
  /// For GET /cluster/events (may be null on nodes without the api role).
  std::shared_ptr<broadcast::broadcaster> broadcaster;
  /// The node's root supervisor (its children: bridges, relay, janitors).
  std::function<caf::actor()> root;
};

/// One member's answer to a question.
struct node_answer {
  std::string node;
  bool ok = false;
  /// The JSON answer, or the error's text.
  std::string body;
  /// "node_down", "timeout", "forbidden", "not_found", "error" when not ok.
  std::string error;
};

class cluster_node {
 public:
  cluster_node(caf::actor_system& sys, cluster_config cfg, shell_config shell,
               cluster_deps deps);
  ~cluster_node();
  cluster_node(const cluster_node&) = delete;
  cluster_node& operator=(const cluster_node&) = delete;

  /// Publishes the agent on loopback and opens the cluster port; the
  /// membership row announces `http_url` (known once HTTP listens).
  void start(std::string http_url);

  /// The membership actor (heartbeats, judgments, peers), to run under the
  /// root supervisor.
  supervision::child_spec membership_child();

  /// Marks this node as left and closes the port; idempotent.
  void stop();

  /// The cluster as this node sees it: {"self", "members": [...]}.
  boost::json::object members_json() const;

  /// This node's answer (no network).
  node_answer ask_local(const std::string& what, const std::string& args);

  /// One member's answer (this node's own without the network).
  node_answer ask(const std::string& node, const std::string& what,
                  const std::string& args);

  /// The answers of every member that is not gone (down members answer
  /// "node_down" at once), this node first.
  std::vector<node_answer> ask_all(const std::string& what,
                                   const std::string& args);

  /// Membership events after `after` (kept: the last 1,000), as the
  /// "cluster" channel's replay source answers.
  broadcast::replay_result replay_events(std::optional<uint64_t> after,
                                         size_t limit) const;

  /// The cluster port (the tunnel's), 0 before start.
  uint16_t port() const noexcept;

  const std::string& name() const noexcept;

  struct state;

 private:
  std::shared_ptr<state> st_;
};

} // namespace distiller::cluster
