#pragma once

/// The Kafka source bridge: consumes one topic in a consumer group and hands
/// each record to a supervised pool of worker actors, keeping the binding's
/// ordering (partition | key | unordered), committing at-least-once, bounding
/// in-flight work, retrying failures and dead-lettering what cannot succeed.
///
///   Kafka ──► poll thread (consumer_loop) ──batches──► bridge actor
///                   ▲  commit/pause/resume/close        │ dispatch_queue,
///                   └───────────────────────────────────┤ offset trackers
///                                                       ▼
///                      pool supervisor "<name>" ──► workers "<name>-worker-i"
///
/// Accepts:
///   (stats_atom)        → source_stats (counters, latencies, the pool, per
///                         partition committed / high watermark / position /
///                         lag / paused; no broker round trip)
///   (pause_atom)        → an empty reply: an operator's pause of the binding.
///   No
///                         record is sent to a worker any more (retries
///                         whose backoff ends wait too); records already at
///                         workers finish, dead letters, acks and commits go
///                         on. Every assigned partition is paused in
///                         librdkafka, and so is every partition assigned
///                         later. Idempotent; the registry entry's state is
///                         "paused". A revoke or shutdown still drains: the
///                         records it waits for run.
///   (resume_atom)       → an empty reply: undoes pause_atom; a partition that
///                         back-pressure holds stays paused until it drains
///                         (and back-pressure never resumes a partition of
///                         a paused binding). Idempotent.
///   (scale_atom, int32_t n) → int32_t n, the new pool size, at once;
///                         sec::invalid_argument unless 1 <= n <= 1024,
///                         runtime_errc::service_unavailable while the
///                         bridge stops. Growing adds workers
///                         "<name>-worker-<i>" (i = old size … n-1) to the
///                         pool supervisor; shrinking retires the
///                         highest-numbered ones: a retiring worker gets no
///                         new batch and is removed from the pool (and the
///                         registry) once its batches are answered, so no
///                         batch is cut short and no record runs twice.
///   exit_msg            → orderly shutdown: stop fetching, drain running
///                         records (bounded by drain_timeout), commit, close
///                         the consumer (leave the group), stop the pool,
///                         quit with the exit reason
///   exit_reason::kill   → a crash: no drain, no commit, no LeaveGroup (the
///                         group rebalances after session.timeout.ms); what
///                         was not committed is consumed again by the next
///                         owner. Tests use it to simulate a process crash.
/// Sends: record_batch requests to workers (records by reference, answered with
/// std::vector<caf::error>); dead letters through its own idempotent
/// producer (the sink bridge, `deps.dlq_sink`, is not wired yet);
/// add_child_atom / remove_child_atom to its pool supervisor when scaled.
/// Reports each failed attempt and dead letter to its registry entry
/// (`record_error`, "<topic>/<partition>@<offset>: <error>") and, with
/// `deps.trace`, each dead letter to the trace ring.
///
/// Where it runs: a scheduler actor that never blocks; the consumer runs on
/// the consumer_loop's thread, the dead-letter producer on its own thread.
/// What it decides (pending records, lanes, retries, drains, commits,
/// back-pressure, worker slots) is a plain class, source_core.hpp, which the
/// actor feeds with events and whose effects it performs.
///
/// Owns: the consumer loop, the pool supervisor (and through it the
/// workers), the dead-letter producer; per partition an offset tracker and
/// counters; every record between poll and ack. Enrolls itself in the
/// inspection registry as "<name>-source", role "bridge", state
/// starting | running | paused | draining | closing | stopped.
///
/// Guarantees:
///   - a commit never passes an unfinished record (offset_tracker);
///   - records with the same key (key mode) or partition (partition mode)
///     run one at a time in offset order, retries included;
///   - a record is finished when a worker succeeded or its dead letter was
///     acknowledged by Kafka;
///   - on revoke, waiting records are dropped (the next owner reads them
///     again), running ones are waited for up to drain_timeout, and the
///     final offsets are committed synchronously before the partitions go.
///
/// Failures: a fatal consumer error or a pool supervisor that gave up stops
/// the bridge (same path as an exit_msg) with that error, so its own
/// supervisor can restart it.

#include <cstdint>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/atom.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "bridges/kafka/in_record.hpp"
#include "bridges/kafka/partition_offset.hpp"
#include "bridges/kafka/source_binding.hpp"
#include "bridges/kafka/source_metrics.hpp"
#include "bridges/kafka/source_stats.hpp"
#include "bridges/kafka/type_ids.hpp"

namespace distiller::kafka {

struct record_chunk; // record_chunk.hpp
namespace detail {
struct revoke_request; // source_state.hpp
} // namespace detail

/// The bridge's messages, as the compiler checks them (the text above says
/// what the first four do): an operator's, its pool supervisor's restart
/// notifications, then its poll thread's and its own timers' (internal,
/// bridges/kafka/type_ids.hpp).
using source_bridge_actor = caf::typed_actor<
    caf::replies_to<atoms::stats_atom>::with<source_stats>,
    caf::reacts_to<atoms::pause_atom>, caf::reacts_to<atoms::resume_atom>,
    caf::replies_to<atoms::scale_atom, int32_t>::with<int32_t>,
    caf::reacts_to<atoms::restarted_atom, std::string, caf::actor>,
    caf::reacts_to<detail::poll_atom, std::shared_ptr<record_chunk>, int64_t>,
    caf::reacts_to<detail::assign_atom, std::vector<int32_t>>,
    caf::reacts_to<detail::revoke_atom, detail::revoke_request>,
    caf::reacts_to<detail::committed_atom, std::vector<partition_offset>,
                   caf::error>,
    caf::reacts_to<detail::loop_error_atom, caf::error, bool>,
    caf::reacts_to<detail::loop_stopped_atom>,
    caf::reacts_to<detail::retry_atom, uint64_t>,
    caf::reacts_to<detail::dlq_done_atom, uint64_t, caf::error>,
    caf::reacts_to<detail::drain_timeout_atom, uint64_t>,
    caf::reacts_to<detail::close_timeout_atom>,
    caf::reacts_to<detail::commit_tick_atom>>;

/// The pool sizes scale_atom accepts (the same as source_binding's).
constexpr int32_t min_pool_size = 1;
constexpr int32_t max_pool_size = 1024;

/// Validates `binding` and spawns the bridge. Throws std::invalid_argument
/// listing every problem of the binding (or a missing `deps.actors`), and
/// std::runtime_error naming a consumer property librdkafka rejects.
/// A supervisor's child factory returns `caf::actor_cast<caf::actor>(…)`.
source_bridge_actor spawn_source_bridge(caf::actor_system& sys,
                                        std::string brokers,
                                        source_binding binding,
                                        bridge_deps deps);

} // namespace distiller::kafka
