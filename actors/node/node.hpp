#pragma once

/// One Distiller node: the process-level owner of the actor system, the
/// embedded (or external) Kafka and PostgreSQL, the HTTP façade and the root
/// supervisor.
///
/// Start order (each step sets its component on the health board):
///   actor system → Kafka (embedded mock cluster + catalog topics, or the
///   configured brokers) → PostgreSQL (private cluster under var/pg, or the
///   configured DSN) → schema migrations → root supervisor with the health
///   probes → HTTP façade → cluster port and membership
///   (actors/cluster/cluster_node.hpp).
/// Before all of it `start()` takes `<node.data_dir>/node.lock`
/// (runtime/core/data_dir_lock.hpp) and throws data_dir_busy, touching
/// nothing, if another node holds it; the lock is released after the stop.
/// Stop order is the reverse; `stop()` is idempotent and also runs from the
/// destructor. A failed start throws `std::runtime_error` after undoing what
/// had started, so a node never leaves a private PostgreSQL running.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "actors/node/node_config.hpp"
#include "actors/thoughts/agents/agent.hpp"

namespace distiller {
class data_dir_busy;
class data_dir_lock;
} // namespace distiller

namespace distiller::health {
class health_board;
} // namespace distiller::health

namespace distiller::inspect {
class registry;
} // namespace distiller::inspect

namespace distiller::cluster {
class cluster_node;
} // namespace distiller::cluster

namespace distiller::documents {
class pipeline;
} // namespace distiller::documents

namespace distiller::thoughts {
class pipeline;
} // namespace distiller::thoughts

namespace distiller::embedded {
class kafka_cluster;
} // namespace distiller::embedded

namespace distiller::node {

/// What tests may replace in a node.
struct node_hooks {
  /// Builds the thought agents (e.g. wrapped to add delays or failures);
  /// null: from the configuration.
  std::function<thoughts::agent_ptr(thoughts::agent_kind)> make_agent;
};

class node {
 public:
  explicit node(node_config cfg, node_hooks hooks = {});
  ~node();

  node(const node&) = delete;
  node& operator=(const node&) = delete;

  void start();

  /// Blocks until SIGINT/SIGTERM arrives or `request_stop()` is called.
  /// Call `block_stop_signals()` before `start()` so that no other thread
  /// receives the signals.
  void wait();

  void request_stop();

  void stop();

  // -- observers
  // ----------------------------------------------------------------

  const node_config& config() const noexcept;
  uint16_t http_port() const noexcept;
  const std::string& kafka_bootstrap() const noexcept;
  const std::string& pg_dsn() const noexcept;
  health::health_board& health() noexcept;
  inspect::registry& actors() noexcept;

  /// The document pipeline (null before start or when no role runs it).
  documents::pipeline* documents() noexcept;

  /// The thought pipeline (null before start or when no role runs it).
  thoughts::pipeline* thoughts() noexcept;

  /// The embedded Kafka cluster (null when kafka.brokers is set), e.g. for
  /// tests that take its brokers down.
  embedded::kafka_cluster* kafka_mock() noexcept;

  /// This node's membership and cluster port (null before start).
  cluster::cluster_node* cluster() noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// Blocks SIGINT and SIGTERM in the calling thread (and the threads it starts
/// afterwards), so `node::wait()` can receive them synchronously.
void block_stop_signals();

/// The exit code of a node whose data directory another node holds: the
/// command line's configuration-error code (app::exit_config_error).
inline constexpr int exit_data_dir_busy = 2;

/// Logs event=data_dir_locked and prints on stderr which node (pid, name,
/// URL) holds the data directory.
void report_busy(const data_dir_busy& e);

/// Logs what taking `lock` found: event=data_dir_lock_taken_over when a
/// previous owner did not release it, a warning if its owner line could not
/// be written.
void report_lock_taken(const data_dir_lock& lock);

/// Runs a node until a stop signal: start, optional banner on stdout, wait,
/// stop. Returns the process exit code (0 after a clean stop, 1 if start-up
/// failed, exit_data_dir_busy if another node holds node.data_dir — then
/// nothing in the directory was touched).
int run(node_config cfg, bool banner);

} // namespace distiller::node
