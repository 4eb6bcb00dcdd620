#pragma once

/// Internal to runtime/supervision: the supervisor's state and the
/// transitions between its states (start, restart, give up, stop). The
/// behaviors in supervisor.cpp call these; nothing outside this folder should.

#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "runtime/core/type_ids.hpp"
#include "runtime/supervision/supervisor.hpp"

namespace distiller::supervision::detail {

using clock_type = std::chrono::steady_clock;

// -- state --------------------------------------------------------------------

/// One supervised child and its current incarnation.
struct child_slot {
  child_spec spec;
  inspect::actor_entry_ptr entry;
  /// The running incarnation; invalid while the child is not running.
  caf::actor current;
  /// A forced restart killed `current` and waits for its down_msg.
  bool restart_requested = false;
  /// Requests of `restart_atom` answered once the new incarnation runs.
  std::vector<caf::response_promise> restart_waiters;
  /// `remove_child_atom` stopped it and waits for its down_msg; it is not
  /// restarted any more.
  bool removing = false;
  /// Identifies the current removal timeout.
  uint64_t remove_token = 0;
  /// Requests of `remove_child_atom` answered once it is gone.
  std::vector<caf::response_promise> remove_waiters;
};

struct supervisor_state {
  static inline const char* name = "supervisor";

  std::string sup_name;
  restart_policy policy;
  supervisor_deps deps;
  inspect::actor_entry_ptr entry;
  std::vector<child_slot> children;
  /// When the restarts inside the current window happened (oldest first).
  std::deque<clock_type::time_point> recent_restarts;
  std::vector<caf::actor> subscribers;

  // -- shutdown ---------------------------------------------------------------

  bool stopping = false;
  /// The restart intensity was exceeded.
  bool gave_up = false;
  caf::error exit_reason;
  /// Children [0, remaining) are still to be stopped; the one at
  /// `remaining - 1` is being waited for.
  size_t remaining = 0;
  /// Identifies the current stop timeout; older timeouts are stale.
  uint64_t stop_token = 0;

  supervisor_state() = default;
  supervisor_state(const supervisor_state&) = delete;
  supervisor_state& operator=(const supervisor_state&) = delete;

  /// Kills the children still running: no child outlives its supervisor,
  /// even one that was killed or died of a bug before it could stop them.
  ~supervisor_state();
};

using sup_actor = supervisor_actor::stateful_pointer<supervisor_state>;

// -- behaviors (supervisor.cpp) -----------------------------------------------

/// Serves requests while the children run.
supervisor_actor::behavior_type running(sup_actor self);

/// Answers requests with an error while the children are being stopped.
supervisor_actor::behavior_type stopping(sup_actor self);

// -- transitions (supervisor_state.cpp) ---------------------------------------

/// The child called `name`, or null.
child_slot* find_child(sup_actor self, const std::string& name);

/// The child whose current incarnation is `addr`, or null.
child_slot* find_child(sup_actor self, const caf::actor_addr& addr);

/// Counts one handled message in the supervisor's own registry entry.
void count_message(sup_actor self);

/// The system's rendering of `reason` plus its context.
std::string render(sup_actor self, const caf::error& reason);

/// The error for requests that arrive while the supervisor stops.
caf::error stopping_error(sup_actor self);

/// Calls the factory and monitors the new incarnation. A factory that throws
/// or returns an invalid handle did not start the child.
caf::error start_child(sup_actor self, child_slot& c);

/// Handles a failed incarnation or a failed start of `c`: restarts it while
/// the intensity allows, otherwise gives up.
void on_child_failed(sup_actor self, child_slot& c, caf::error reason);

/// Starts a new incarnation of `c` on request (`restart_atom`) once the old
/// one is down, and answers the waiting requests.
void forced_restart(sup_actor self, child_slot& c);

/// `add_child_atom`: enrolls and starts a new child after the others.
caf::result<caf::actor> add_child(sup_actor self, child_spec spec);

/// `remove_child_atom`: stops child `name` for good; `rp` gets caf::unit once
/// it is gone.
void remove_child(sup_actor self, const std::string& name,
                  caf::response_promise rp);

/// A removed child's stop took longer than `shutdown_timeout`.
void on_remove_timeout(sup_actor self, const std::string& name, uint64_t token);

void on_down(sup_actor self, caf::down_msg& dm);

/// Switches to `stopping` and stops the children in reverse start order;
/// the supervisor then quits with `reason`.
void begin_shutdown(sup_actor self, caf::error reason);

/// The `shutdown_timeout` for the child with `token` ran out.
void on_stop_timeout(sup_actor self, uint64_t token);

} // namespace distiller::supervision::detail
