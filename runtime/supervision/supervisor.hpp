#pragma once

/// The one-for-one supervisor: starts a fixed list of children, restarts the
/// one that failed, and gives up when they fail too often (OTP `one_for_one`).
///
/// Accepts (request → reply):
///   (child_atom, std::string name)      → caf::actor, the current incarnation,
///                                         or runtime_errc::no_such_child (no
///                                         such name, or not running now)
///   (children_atom)                     → std::vector<std::string>, child
///                                         names in start order
///   (restart_atom, std::string name)    → kills the current incarnation
///                                         (exit_reason::kill); caf::unit once
///                                         it is down and a new one runs, or
///                                         runtime_errc::no_such_child
///   (restarted_atom, caf::actor sub)    → caf::unit; `sub` then receives
///     (restarted_atom, std::string name, caf::actor new_incarnation)
///   after every restart (failure or forced) until `sub` terminates.
///   (add_child_atom, child_spec spec)   → caf::actor, the first incarnation
///                                         of a new child started now (last
///                                         in start order, so stopped first);
///                                         sec::invalid_argument for an empty
///                                         name, no factory or a name in use.
///                                         A failed start is handled like at
///                                         spawn time (restarts, intensity).
///   (remove_child_atom, std::string name) → caf::unit once the child is
///                                         stopped (user_shutdown, killed
///                                         after `shutdown_timeout`), gone
///                                         from the child list and from the
///                                         registry; not restarted whatever
///                                         its exit reason;
///                                         runtime_errc::no_such_child.
///   Both are local only: child_spec holds a factory (not serializable).
///   exit_msg with a non-normal reason (send_exit, a linked parent) →
///   orderly shutdown, see below; while it stops, requests get
///   runtime_errc::service_unavailable.
/// Sends: down_msg / exit_msg with its exit reason to whoever monitors or
/// links it; (restarted_atom, …) to subscribers.
///
/// Where it runs: a stateful event-based actor on the shared scheduler. It
/// only calls the child factories, which must spawn and return at once; a
/// child that blocks spawns itself `detached`.
///
/// Owns: its children. It monitors them (no links), enrolls each in the
/// inspection registry as (name, role, parent = supervisor name) and itself
/// as (name, "supervisor"), and keeps the entries' state current:
///   child:      running | restarting | stopping (being removed) | stopped |
///               failed
///   supervisor: running | stopping  | stopped | failed
/// If the supervisor dies by other means (kill, a bug) its state's destructor
/// kills every child it still owns, so no child outlives it.
///
/// Failures: a child that terminates with any reason other than
/// `exit_reason::normal` or `exit_reason::user_shutdown` failed (exceptions,
/// `exit_reason::kill`, `unreachable`, any error it quit with). It is counted
/// (`add_failure`; the rendered reason goes to the entry's `record_error`),
/// restarted through its factory, counted again
/// (`add_restart`, distiller_actor_restarts_total) and logged as
/// `actor_restarted`. A child that stops normally or on a user_shutdown sent
/// by someone else is not restarted (state "stopped"; `restart_atom` starts
/// it again). A factory that throws or
/// returns an invalid handle is a failed start: counted as a failure and
/// retried like a crash. When a restart would be the (max_restarts + 1)-th
/// within the sliding `window`, the supervisor gives up: it logs
/// `supervisor_gave_up`, counts distiller_supervisor_escalations_total, stops
/// its remaining children and quits with runtime_errc::restart_intensity, so a
/// parent that monitors or links it sees the failure (escalation). Forced
/// restarts (`restart_atom`) are counted as restarts but not toward intensity.
///
/// Shutdown: on an exit_msg it stops its children one at a time in reverse
/// start order, sending `user_shutdown` and waiting for each child's down_msg
/// up to `shutdown_timeout` before killing it, then quits with the exit_msg's
/// reason. Giving up takes the same path.

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "runtime/core/type_ids.hpp"

#include "runtime/inspect/registry.hpp"
#include "runtime/metrics/metrics.hpp"

namespace distiller::supervision {

/// How often children may fail before the supervisor gives up.
struct restart_policy {
  /// At most this many restarts …
  int max_restarts = 5;
  /// … within this sliding window, then give up.
  std::chrono::milliseconds window{10000};
  /// How long shutdown waits for one child to stop before killing it.
  std::chrono::milliseconds shutdown_timeout{5000};
};

/// Builds a fresh incarnation of a child; called at start and at every
/// restart with the child's registry entry (which survives restarts).
using child_factory =
    std::function<caf::actor(caf::actor_system&, inspect::actor_entry_ptr)>;

/// One supervised child.
struct child_spec {
  /// Unique within the node (registry key), e.g. "embedder-3".
  std::string name;
  /// What it is, e.g. "embedder", "probe", "supervisor".
  std::string role;
  child_factory factory;
};

/// The supervisor's messages, as the compiler checks them (the text above
/// says what each does); the last two are its own timers'.
using supervisor_actor = caf::typed_actor<
    caf::replies_to<atoms::child_atom, std::string>::with<caf::actor>,
    caf::replies_to<atoms::children_atom>::with<std::vector<std::string>>,
    caf::reacts_to<atoms::restart_atom, std::string>,
    caf::reacts_to<atoms::restarted_atom, caf::actor>,
    caf::replies_to<atoms::add_child_atom, child_spec>::with<caf::actor>,
    caf::reacts_to<atoms::remove_child_atom, std::string>,
    caf::reacts_to<detail::remove_timeout_atom, std::string, uint64_t>,
    caf::reacts_to<atoms::tick_atom, uint64_t>>;

/// What a supervisor reports to; both must outlive it.
struct supervisor_deps {
  /// Required.
  inspect::registry* actors = nullptr;
  /// Optional.
  metrics::node_metrics* metrics = nullptr;
  /// The clock of the restart window; unset: std::chrono::steady_clock.
  /// Tests pass a manual one to cross the window without waiting.
  std::function<std::chrono::steady_clock::time_point()> now = {};
};

/// Spawns a supervisor named `name` that starts `children` in order.
/// Children can be added and removed later (add_child_atom,
/// remove_child_atom).
/// Throws std::invalid_argument if `deps.actors` is null or child names are
/// empty or repeated.
/// A parent supervisor's child factory returns
/// `caf::actor_cast<caf::actor>(…)`.
supervisor_actor spawn_supervisor(caf::actor_system& sys, std::string name,
                                  restart_policy policy,
                                  std::vector<child_spec> children,
                                  supervisor_deps deps);

} // namespace distiller::supervision

// (add_child_atom, child_spec) stays inside one process: the factory is a
// std::function.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(distiller::supervision::child_spec)
