#pragma once

/// The outbox relay of a node: publishes the rows that both pipelines write
/// into the transactional outbox (bridges/postgres/outbox.hpp) — uploads,
/// submitted thoughts, re-driven work — to Kafka through a sink, in id order,
/// and marks them sent once the brokers acknowledged them.
///
/// Accepts: (tick_atom) — "there is something new" (sent by `relay_waker`
/// after a commit that wrote outbox rows); an internal timer every
/// `relay_config::interval` covers rows written by other nodes and retries.
/// Sends: (produce_atom, std::vector<out_record>) to the sink; nothing else.
/// Where it runs: a detached actor (its database calls and the wait for the
/// sink's acknowledgements block).
/// Owns: nothing but its timer; the outbox store and the sink reference are
/// shared with the node.
/// Guarantees: at least once — a row is marked sent only after Kafka has
/// it; a crash between the two publishes it again. Several relays (several
/// nodes) share the table through leases (FOR UPDATE SKIP LOCKED): a leased
/// row is hidden from the others for `lease`.
/// Failures: a failed produce marks the batch failed with a growing delay
/// (0.5 s doubling to 30 s) and logs outbox_publish_failed; a database
/// error is logged (outbox_relay_store_error) and counted as a failure in
/// the registry entry; the relay keeps running either way.

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>

#include <caf/actor_system.hpp>
#include <caf/typed_actor.hpp>

#include "bridges/kafka/sink_ref.hpp"
#include "bridges/outbox/type_ids.hpp"
#include "bridges/postgres/outbox.hpp"
#include "runtime/core/type_ids.hpp"
#include "runtime/inspect/registry.hpp"

namespace distiller::outbox {

struct relay_config {
  /// Rows per round; a full round asks for the next at once.
  int batch = 200;
  /// How often the relay looks when nobody woke it.
  std::chrono::milliseconds interval{200};
  /// How long a leased row stays hidden from other relays: longer than a
  /// produce can take.
  std::chrono::milliseconds lease{120000};
  /// How long one round waits for the sink's acknowledgements.
  std::chrono::milliseconds produce_timeout{35000};
};

struct relay_deps {
  /// Required; must outlive the relay.
  postgres::outbox_store* outbox = nullptr;
  /// Required.
  std::shared_ptr<kafka::sink_ref> sink;
};

/// One round: leases a batch, produces it, marks it sent or failed.
/// Returns the rows published. Blocks. Throws postgres::db_error.
size_t relay_round(caf::actor_system& sys, const relay_config& cfg,
                   const relay_deps& deps);

/// The relay's interface: wake-ups (`tick_atom`) and its own timer.
using relay_actor = caf::typed_actor<caf::reacts_to<atoms::tick_atom>,
                                     caf::reacts_to<detail::relay_timer_atom>>;

relay_actor spawn_outbox_relay(caf::actor_system& sys, relay_config cfg,
                               relay_deps deps, inspect::actor_entry_ptr entry);

/// Wakes the current relay incarnation (set by the relay's child factory).
/// Thread-safe; a no-op while no relay runs.
class relay_waker {
 public:
  void set(relay_actor relay);
  void wake() const;
  void reset() { set(relay_actor{}); }

 private:
  mutable std::mutex mtx_;
  relay_actor relay_;
};

} // namespace distiller::outbox
