#include "runtime/supervision/supervisor.hpp"

#include <set>
#include <stdexcept>
#include <utility>

#include "runtime/core/errc.hpp"
#include "runtime/core/type_ids.hpp"
#include "runtime/logging/log.hpp"
#include "runtime/supervision/supervisor_state.hpp"

namespace distiller::supervision {

namespace detail {

// -- behaviors ----------------------------------------------------------------

//   init ──► running ──exit_msg or restart intensity exceeded──► stopping
//             │   ▲                                                  │
//             └───┘ a child failed: restart it     last child down ──┤
//                   add_child: start one more                        ▼
//                   remove_child: stop one, forget it    quit(exit reason)

namespace {

std::vector<std::string> child_names(sup_actor self) {
  std::vector<std::string> names;
  for (auto& c : self->state.children)
    names.push_back(c.spec.name);
  return names;
}

} // namespace

supervisor_actor::behavior_type running(sup_actor self) {
  return {
      [self](atoms::child_atom,
             const std::string& name) -> caf::result<caf::actor> {
        count_message(self);
        auto* c = find_child(self, name);
        if (c == nullptr)
          return caf::make_error(runtime_errc::no_such_child, name);
        if (!c->current || c->restart_requested || c->removing)
          return caf::make_error(runtime_errc::no_such_child, name,
                                 "not running");
        return c->current;
      },
      [self](atoms::children_atom) {
        count_message(self);
        return child_names(self);
      },
      [self](atoms::restart_atom,
             const std::string& name) -> caf::typed_response_promise<void> {
        count_message(self);
        auto rp = self->make_response_promise<void>();
        auto* c = find_child(self, name);
        if (c == nullptr) {
          rp.deliver(caf::make_error(runtime_errc::no_such_child, name));
          return rp;
        }
        if (c->removing) {
          rp.deliver(caf::make_error(runtime_errc::no_such_child, name,
                                     "being removed"));
          return rp;
        }
        c->restart_waiters.push_back(rp);
        if (!c->current) {
          // Stopped normally or never came up: start it right away.
          forced_restart(self, *c);
        } else if (!c->restart_requested) {
          // The new incarnation starts once the old one is gone, so two never
          // run side by side.
          c->restart_requested = true;
          c->entry->set_state("restarting");
          self->send_exit(c->current, caf::exit_reason::kill);
        }
        return rp;
      },
      [self](atoms::restarted_atom,
             caf::actor subscriber) -> caf::result<void> {
        count_message(self);
        if (subscriber) {
          self->monitor(subscriber);
          self->state.subscribers.push_back(std::move(subscriber));
        }
        return caf::unit;
      },
      [self](atoms::add_child_atom,
             child_spec& spec) -> caf::result<caf::actor> {
        count_message(self);
        return add_child(self, std::move(spec));
      },
      [self](atoms::remove_child_atom,
             const std::string& name) -> caf::typed_response_promise<void> {
        count_message(self);
        auto rp = self->make_response_promise<void>();
        remove_child(self, name, rp);
        return rp;
      },
      [self](remove_timeout_atom, const std::string& name, uint64_t token) {
        on_remove_timeout(self, name, token);
      },
      [](atoms::tick_atom, uint64_t) {
        // A stop timeout only counts while stopping.
      },
  };
}

supervisor_actor::behavior_type stopping(sup_actor self) {
  return {
      [self](atoms::child_atom, const std::string&) -> caf::result<caf::actor> {
        return stopping_error(self);
      },
      [self](atoms::children_atom) { return child_names(self); },
      [self](atoms::restart_atom, const std::string&) -> caf::result<void> {
        return stopping_error(self);
      },
      [self](atoms::restarted_atom, const caf::actor&) -> caf::result<void> {
        return stopping_error(self);
      },
      [self](atoms::add_child_atom, const child_spec&)
          -> caf::result<caf::actor> { return stopping_error(self); },
      [self](atoms::remove_child_atom, const std::string&)
          -> caf::result<void> { return stopping_error(self); },
      [](remove_timeout_atom, const std::string&, uint64_t) {
        // The shutdown stops every child, with its own timeout.
      },
      [self](atoms::tick_atom, uint64_t token) {
        on_stop_timeout(self, token);
      },
  };
}

} // namespace detail

namespace {

using namespace detail;

/// Enrolls the supervisor and its children, then starts them in order.
supervisor_actor::behavior_type
supervisor_main(sup_actor self, std::string name, restart_policy policy,
                std::vector<child_spec> specs, supervisor_deps deps) {
  auto& st = self->state;
  st.sup_name = std::move(name);
  st.policy = policy;
  st.deps = deps;
  st.entry = deps.actors->enroll(st.sup_name, "supervisor");
  st.entry->set_state("running");
  for (auto& spec : specs) {
    child_slot c;
    c.entry = deps.actors->enroll(spec.name, spec.role, st.sup_name);
    c.spec = std::move(spec);
    st.children.push_back(std::move(c));
  }
  self->set_down_handler([self](caf::down_msg& dm) { on_down(self, dm); });
  self->set_exit_handler([self](caf::exit_msg& em) {
    count_message(self);
    // Children report through down_msg; normal exits do not propagate.
    if (!em.reason || find_child(self, em.source) != nullptr)
      return;
    begin_shutdown(self, std::move(em.reason));
  });
  log::info("supervisor_started",
            {{"supervisor", st.sup_name}, {"children", st.children.size()}});
  for (auto& c : st.children) {
    if (st.stopping)
      break;
    if (auto err = start_child(self, c)) {
      log::warn("child_start_failed", {{"supervisor", st.sup_name},
                                       {"actor", c.spec.name},
                                       {"reason", render(self, err)}});
      on_child_failed(self, c, std::move(err));
    }
  }
  // A failed start may already have begun the shutdown (restart intensity),
  // which installed the stopping behavior; CAF installs what this returns.
  return st.stopping ? stopping(self) : running(self);
}

} // namespace

supervisor_actor spawn_supervisor(caf::actor_system& sys, std::string name,
                                  restart_policy policy,
                                  std::vector<child_spec> children,
                                  supervisor_deps deps) {
  if (deps.actors == nullptr)
    throw std::invalid_argument("supervisor " + name +
                                ": deps.actors is required");
  std::set<std::string> seen;
  for (auto& c : children) {
    if (c.name.empty() || !c.factory)
      throw std::invalid_argument("supervisor " + name +
                                  ": a child needs a name and a factory");
    if (!seen.insert(c.name).second)
      throw std::invalid_argument("supervisor " + name +
                                  ": duplicate child name " + c.name);
  }
  return sys.spawn(supervisor_main, std::move(name), policy,
                   std::move(children), deps);
}

} // namespace distiller::supervision
