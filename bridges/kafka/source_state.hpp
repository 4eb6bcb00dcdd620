#pragma once

/// Internal to the source bridge: the actor's state — the plain core that
/// decides (source_core.hpp) and what it cannot hold: the consumer loop,
/// the pool supervisor and worker handles, the dead-letter producer, the
/// revokes the poll thread waits for, timers and error rendering. The
/// functions below turn messages into core events and perform the effects
/// the core returns. Nothing outside bridges/kafka's source_* files should
/// include it.

#include <cstdint>
#include <future>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/all.hpp>

#include "bridges/kafka/consumer_loop.hpp"
#include "bridges/kafka/flow_gate.hpp"
#include "bridges/kafka/record_chunk.hpp"
#include "bridges/kafka/source_binding.hpp"
#include "bridges/kafka/source_bridge.hpp"
#include "bridges/kafka/source_core.hpp"
#include "bridges/kafka/source_dead_letter.hpp"
#include "bridges/kafka/source_metrics.hpp"

namespace distiller::kafka::detail {

// The bridge's internal atoms are in bridges/kafka/type_ids.hpp.

using offsets_promise = std::promise<std::vector<partition_offset>>;

/// A revoke the poll thread waits for.
struct revoke_request {
  std::vector<int32_t> partitions;
  bool lost = false;
  std::shared_ptr<offsets_promise> reply;
};

} // namespace distiller::kafka::detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(distiller::kafka::detail::revoke_request)

namespace distiller::kafka::detail {

struct source_state {
  static inline const char* name = "source_bridge";

  std::string brokers;
  source_binding binding;
  bridge_deps deps;
  std::string dlq_topic;
  std::string entry_name;
  inspect::actor_entry_ptr entry;
  std::unique_ptr<source_metrics> metrics;
  /// Everything the bridge decides.
  std::unique_ptr<source_core> core;

  /// The worker pool's supervisor.
  supervision::supervisor_actor pool;
  /// By worker slot; a handle is used only while its id is the slot's
  /// incarnation in the core.
  std::vector<record_worker_actor> handles;
  /// Revokes the poll thread waits for, by the token given to the core.
  std::unordered_map<uint64_t, std::shared_ptr<offsets_promise>> revokes;
  uint64_t next_revoke = 1;

  std::unique_ptr<consumer_loop> loop;
  /// Bridge-wide back-pressure shared with the poll thread (may be null).
  std::shared_ptr<flow_gate> gate;
  /// The gate's closings already counted in the metrics.
  uint64_t fetch_holds_reported = 0;
  /// Spent poll chunks, refilled by the poll thread.
  std::shared_ptr<record_chunk_pool> record_pool;
  std::unique_ptr<dead_letter_producer> dlq_producer;

  caf::error exit_reason;

  source_state() = default;
  source_state(const source_state&) = delete;
  source_state& operator=(const source_state&) = delete;
  /// A bridge that did not stop in order (killed, crashed) aborts its
  /// consumer without a commit and kills its pool.
  ~source_state();
};

using src_actor = source_bridge_actor::stateful_pointer<source_state>;

/// The core's configuration from a binding.
source_core_config core_config(const source_binding& b);

/// The pool supervisor's child factory for the binding's workers (the
/// supervisor keeps untyped handles; the bridge casts them back when it
/// adopts one).
supervision::child_factory worker_child(const source_binding& b);

// -- performing effects (source_state.cpp)
// ------------------------------------------

/// Does what the core decided, then tells the poll thread how many records
/// the bridge holds now. `adopt` is the worker handle the event named (the
/// slots in `fx.adopted` take it).
void perform(src_actor self, source_effects fx, const caf::actor* adopt);
void perform(src_actor self, source_effects fx);

/// A worker answered batch `id`.
void on_batch_done(src_actor self, uint64_t id,
                   std::vector<caf::error>& results);

/// The request for batch `id` failed. `unexpected_message` fails only that
/// batch's records; anything else (timeout, the worker's exit reason,
/// request_receiver_down) kills the worker if it still runs and handles it
/// as a worker that went down.
void on_batch_failed(src_actor self, uint64_t id, const caf::error& err);

/// Worker incarnation `who` crashed, was killed or stopped.
void on_worker_down(src_actor self, const caf::actor_addr& who,
                    const caf::error& reason);

/// The pool supervisor restarted worker `name`.
void on_worker_restarted(src_actor self, const std::string& name,
                         caf::actor handle);

void on_committed(src_actor self, std::vector<partition_offset>& offsets,
                  const caf::error& err);

/// Commits what moved, refreshes gauges, reschedules itself.
void on_commit_tick(src_actor self);

/// exit_msg, fatal consumer error or a failed pool: drain, commit, close.
void begin_shutdown(src_actor self, caf::error reason);

/// The consumer is closed: stop the pool and quit.
void finish_shutdown(src_actor self);

// -- operator controls (source_control.cpp)
// ------------------------------------------

/// scale_atom: grows or shrinks the pool to `n` workers; answers n at once.
caf::result<int32_t> scale_pool(src_actor self, int32_t n);

/// Asks the pool to add / remove a worker slot (effects.adds / removes).
void add_worker(src_actor self, const source_effects::worker_ref& w);
void remove_worker(src_actor self, const source_effects::worker_ref& w);

source_stats make_stats(src_actor self);

} // namespace distiller::kafka::detail
