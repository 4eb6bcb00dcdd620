#include "runtime/supervision/supervisor_state.hpp"

#include <algorithm>
#include <exception>
#include <utility>

#include "runtime/core/errc.hpp"
#include "runtime/core/type_ids.hpp"
#include "runtime/logging/log.hpp"

namespace distiller::supervision::detail {

namespace {

// -- helpers ------------------------------------------------------------------

/// Normal exits and shutdown requests are a child's own business; anything
/// else (exceptions, kill, unreachable, an error it quit with) is a failure.
bool is_failure(const caf::error& reason) {
  return reason && reason != caf::exit_reason::user_shutdown;
}

/// Returns whether one more restart fits into the sliding window, and if so
/// books it.
bool admit_restart(sup_actor self) {
  auto& st = self->state;
  auto now = st.deps.now ? st.deps.now() : clock_type::now();
  while (!st.recent_restarts.empty() &&
         now - st.recent_restarts.front() >= st.policy.window)
    st.recent_restarts.pop_front();
  if (st.recent_restarts.size() >= static_cast<size_t>(st.policy.max_restarts))
    return false;
  st.recent_restarts.push_back(now);
  return true;
}

/// Counts, logs and announces a successful restart of `c`.
void note_restart(sup_actor self, child_slot& c, const std::string& reason) {
  auto& st = self->state;
  c.entry->add_restart();
  if (st.deps.metrics != nullptr)
    st.deps.metrics->actor_restarts()
        .Add({{"actor", c.spec.name}, {"role", c.spec.role}})
        .Increment();
  log::info("actor_restarted", {{"actor", c.spec.name},
                                {"role", c.spec.role},
                                {"supervisor", st.sup_name},
                                {"reason", reason},
                                {"restarts", c.entry->restarts()}});
  for (auto& sub : st.subscribers)
    // A typed actor may send() only to typed ones; subscribers are any
    // actor (the notification carries no sender to answer).
    caf::anon_send(sub, atoms::restarted_atom_v, c.spec.name, c.current);
}

void settle_waiters(child_slot& c, caf::error err) {
  auto waiters = std::move(c.restart_waiters);
  c.restart_waiters.clear();
  for (auto& rp : waiters)
    if (err)
      rp.deliver(err);
    else
      rp.deliver(caf::unit);
}

void mark_stopped(child_slot& c) {
  c.current = nullptr;
  c.restart_requested = false;
  if (c.entry->state() != "failed")
    c.entry->set_state("stopped");
}

// -- shutdown -----------------------------------------------------------------

//  running ──exit_msg / too many restarts──► stopping ──last child down──► quit
//
// Stopping sends user_shutdown to one child at a time, from the last started
// to the first, and moves on when its down_msg arrives or, after
// `shutdown_timeout`, once it has been killed.

void finish(sup_actor self) {
  auto& st = self->state;
  st.entry->set_state(st.gave_up ? "failed" : "stopped");
  log::info("supervisor_stopped", {{"supervisor", st.sup_name},
                                   {"reason", render(self, st.exit_reason)}});
  self->quit(st.exit_reason);
}

/// Stops the next running child (going backwards) or quits if none is left.
void stop_next(sup_actor self) {
  auto& st = self->state;
  while (st.remaining > 0) {
    auto& c = st.children[st.remaining - 1];
    if (c.current) {
      self->send_exit(c.current, caf::exit_reason::user_shutdown);
      self->delayed_send(self, st.policy.shutdown_timeout, atoms::tick_atom_v,
                         ++st.stop_token);
      return;
    }
    mark_stopped(c);
    --st.remaining;
  }
  finish(self);
}

void give_up(sup_actor self, child_slot& c, const caf::error& reason) {
  auto& st = self->state;
  st.gave_up = true;
  c.entry->set_state("failed");
  log::error("supervisor_gave_up",
             {{"supervisor", st.sup_name},
              {"actor", c.spec.name},
              {"role", c.spec.role},
              {"reason", render(self, reason)},
              {"max_restarts", st.policy.max_restarts},
              {"window_ms", static_cast<int64_t>(st.policy.window.count())}});
  if (st.deps.metrics != nullptr)
    st.deps.metrics->supervisor_escalations()
        .Add({{"supervisor", st.sup_name}})
        .Increment();
  begin_shutdown(self, caf::make_error(runtime_errc::restart_intensity,
                                       st.sup_name, c.spec.name));
}

} // namespace

// -- state --------------------------------------------------------------------

supervisor_state::~supervisor_state() {
  for (auto& c : children)
    if (c.current)
      caf::anon_send_exit(c.current, caf::exit_reason::kill);
}

// -- lookups and reporting ----------------------------------------------------

child_slot* find_child(sup_actor self, const std::string& name) {
  for (auto& c : self->state.children)
    if (c.spec.name == name)
      return &c;
  return nullptr;
}

child_slot* find_child(sup_actor self, const caf::actor_addr& addr) {
  for (auto& c : self->state.children)
    if (c.current && c.current.address() == addr)
      return &c;
  return nullptr;
}

void count_message(sup_actor self) {
  self->state.entry->on_message(self->mailbox().size());
}

std::string render(sup_actor self, const caf::error& reason) {
  if (!reason)
    return "normal";
  auto text = self->system().render(reason);
  if (!reason.context().empty()) {
    auto context = caf::to_string(reason.context());
    if (text.find(context) == std::string::npos)
      text += context;
  }
  return text;
}

caf::error stopping_error(sup_actor self) {
  return caf::make_error(runtime_errc::service_unavailable,
                         "supervisor " + self->state.sup_name + " is stopping");
}

// -- start and restart --------------------------------------------------------

caf::error start_child(sup_actor self, child_slot& c) {
  caf::actor incarnation;
  try {
    incarnation = c.spec.factory(self->system(), c.entry);
  } catch (const std::exception& ex) {
    return caf::make_error(caf::sec::runtime_error,
                           "factory of " + c.spec.name + " threw",
                           std::string{ex.what()});
  } catch (...) {
    return caf::make_error(caf::sec::runtime_error,
                           "factory of " + c.spec.name + " threw");
  }
  if (!incarnation)
    return caf::make_error(caf::sec::runtime_error,
                           "factory of " + c.spec.name + " returned no actor");
  self->monitor(incarnation);
  c.current = std::move(incarnation);
  c.entry->set_state("running");
  return caf::none;
}

void on_child_failed(sup_actor self, child_slot& c, caf::error reason) {
  for (;;) {
    c.current = nullptr;
    c.entry->add_failure();
    c.entry->record_error(render(self, reason));
    if (!admit_restart(self)) {
      give_up(self, c, reason);
      return;
    }
    c.entry->set_state("restarting");
    auto err = start_child(self, c);
    if (!err) {
      note_restart(self, c, render(self, reason));
      return;
    }
    log::warn("child_start_failed", {{"supervisor", self->state.sup_name},
                                     {"actor", c.spec.name},
                                     {"reason", render(self, err)}});
    reason = std::move(err);
  }
}

void forced_restart(sup_actor self, child_slot& c) {
  c.current = nullptr;
  c.restart_requested = false;
  c.entry->set_state("restarting");
  if (auto err = start_child(self, c))
    on_child_failed(self, c, std::move(err));
  else
    note_restart(self, c, "restart_requested");
  if (!self->state.stopping)
    settle_waiters(c, c.current ? caf::error{} : stopping_error(self));
}

// -- children added and removed at run time --------------------------------

namespace {

/// Forgets removed child `c` (its incarnation is gone) and answers the
/// requests waiting for it. `c` is invalid afterwards.
void finish_removal(sup_actor self, child_slot& c, const char* how) {
  auto& st = self->state;
  auto name = c.spec.name;
  auto waiters = std::move(c.remove_waiters);
  st.deps.actors->remove(name);
  auto i = std::find_if(st.children.begin(), st.children.end(),
                        [&](const child_slot& x) { return &x == &c; });
  st.children.erase(i);
  log::info("child_removed",
            {{"supervisor", st.sup_name}, {"actor", name}, {"how", how}});
  for (auto& rp : waiters)
    rp.deliver(caf::unit);
}

} // namespace

caf::result<caf::actor> add_child(sup_actor self, child_spec spec) {
  auto& st = self->state;
  if (spec.name.empty() || !spec.factory)
    return caf::make_error(caf::sec::invalid_argument,
                           "supervisor " + st.sup_name +
                               ": a child needs a name and a factory");
  if (find_child(self, spec.name) != nullptr)
    return caf::make_error(caf::sec::invalid_argument,
                           "supervisor " + st.sup_name +
                               ": duplicate child name " + spec.name);
  auto name = spec.name;
  child_slot slot;
  slot.entry = st.deps.actors->enroll(spec.name, spec.role, st.sup_name);
  slot.spec = std::move(spec);
  st.children.push_back(std::move(slot));
  auto& c = st.children.back();
  log::info("child_added", {{"supervisor", st.sup_name},
                            {"actor", name},
                            {"role", c.spec.role},
                            {"children", st.children.size()}});
  if (auto err = start_child(self, c)) {
    log::warn("child_start_failed", {{"supervisor", st.sup_name},
                                     {"actor", name},
                                     {"reason", render(self, err)}});
    // Restarts within the intensity, like a child that failed at spawn; may
    // give up (and stop the supervisor).
    on_child_failed(self, c, std::move(err));
  }
  if (st.stopping)
    return stopping_error(self);
  auto* added = find_child(self, name);
  if (added == nullptr || !added->current)
    return caf::make_error(runtime_errc::no_such_child, name, "not running");
  return added->current;
}

void remove_child(sup_actor self, const std::string& name,
                  caf::response_promise rp) {
  auto& st = self->state;
  auto* c = find_child(self, name);
  if (c == nullptr) {
    rp.deliver(caf::make_error(runtime_errc::no_such_child, name));
    return;
  }
  c->remove_waiters.push_back(std::move(rp));
  if (c->removing)
    return;
  c->removing = true;
  // A forced restart waiting for the old incarnation will not happen.
  settle_waiters(*c,
                 caf::make_error(runtime_errc::no_such_child, name, "removed"));
  c->restart_requested = false;
  if (!c->current) {
    finish_removal(self, *c, "not running");
    return;
  }
  c->entry->set_state("stopping");
  self->send_exit(c->current, caf::exit_reason::user_shutdown);
  self->delayed_send(self, st.policy.shutdown_timeout,
                     remove_timeout_atom::value, name, ++c->remove_token);
}

void on_remove_timeout(sup_actor self, const std::string& name,
                       uint64_t token) {
  auto& st = self->state;
  auto* c = find_child(self, name);
  if (c == nullptr || !c->removing || c->remove_token != token)
    return;
  if (c->current) {
    // As in a shutdown: a kill cannot be refused, and a child stuck in a
    // blocking call must not hold the removal up.
    log::warn("child_stop_timeout",
              {{"supervisor", st.sup_name}, {"actor", name}});
    self->demonitor(c->current);
    self->send_exit(c->current, caf::exit_reason::kill);
    c->current = nullptr;
  }
  finish_removal(self, *c, "killed");
}

void on_down(sup_actor self, caf::down_msg& dm) {
  auto& st = self->state;
  count_message(self);
  auto* c = find_child(self, dm.source);
  if (c == nullptr) {
    auto is_source = [&](const caf::actor& x) {
      return x.address() == dm.source;
    };
    auto& subs = st.subscribers;
    subs.erase(std::remove_if(subs.begin(), subs.end(), is_source), subs.end());
    return;
  }
  if (st.stopping) {
    bool awaited = st.remaining > 0 && &st.children[st.remaining - 1] == c;
    mark_stopped(*c);
    if (awaited) {
      --st.remaining;
      stop_next(self);
    }
  } else if (c->removing) {
    c->current = nullptr;
    finish_removal(self, *c, "stopped");
  } else if (c->restart_requested) {
    forced_restart(self, *c);
  } else if (is_failure(dm.reason)) {
    on_child_failed(self, *c, std::move(dm.reason));
  } else {
    log::info("child_stopped", {{"supervisor", st.sup_name},
                                {"actor", c->spec.name},
                                {"reason", render(self, dm.reason)}});
    mark_stopped(*c);
  }
}

// -- shutdown -----------------------------------------------------------------

void begin_shutdown(sup_actor self, caf::error reason) {
  auto& st = self->state;
  if (st.stopping)
    return;
  st.stopping = true;
  st.exit_reason = std::move(reason);
  st.entry->set_state("stopping");
  for (auto& c : st.children) {
    settle_waiters(c, stopping_error(self));
    // A removal in progress becomes part of the shutdown, which stops the
    // child anyway.
    auto removals = std::move(c.remove_waiters);
    c.remove_waiters.clear();
    c.removing = false;
    for (auto& rp : removals)
      rp.deliver(stopping_error(self));
  }
  st.remaining = st.children.size();
  self->become(stopping(self));
  stop_next(self);
}

void on_stop_timeout(sup_actor self, uint64_t token) {
  auto& st = self->state;
  if (!st.stopping || token != st.stop_token || st.remaining == 0)
    return;
  auto& c = st.children[st.remaining - 1];
  if (c.current) {
    // It ignored user_shutdown; a kill cannot be refused, and we do not wait
    // for it so that a child stuck in a blocking call cannot hold us up.
    log::warn("child_stop_timeout",
              {{"supervisor", st.sup_name}, {"actor", c.spec.name}});
    self->demonitor(c.current);
    self->send_exit(c.current, caf::exit_reason::kill);
  }
  mark_stopped(c);
  --st.remaining;
  stop_next(self);
}

} // namespace distiller::supervision::detail
