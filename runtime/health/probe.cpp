#include "runtime/health/probe.hpp"

#include <caf/all.hpp>

#include "runtime/core/type_ids.hpp"
#include "runtime/logging/log.hpp"

namespace distiller::health {

namespace {

struct probe_state {
  static inline const char* name = "probe";
  probe_options opts;
  health_board* board = nullptr;
  inspect::actor_entry_ptr entry;
  bool first = true;
  state last = state::starting;

  state run_check() {
    std::string detail;
    state result = state::down;
    try {
      result = opts.check(detail);
    } catch (const std::exception& e) {
      detail = e.what();
    }
    board->set(opts.component, result, detail);
    if (first || result != last) {
      // Log transitions only, so a steady state does not flood the log.
      auto lvl = result == state::up ? log::level::info : log::level::warn;
      if (log::enabled(lvl))
        log::write(lvl, "health_changed",
                   {{"component", opts.component},
                    {"state", to_string(result)},
                    {"detail", detail}});
    }
    if (entry && result != state::up)
      entry->add_failure();
    first = false;
    last = result;
    return result;
  }
};

probe_actor::behavior_type
run_probe(probe_actor::stateful_pointer<probe_state> self, probe_options opts,
          health_board* board, inspect::actor_entry_ptr entry) {
  self->state.opts = std::move(opts);
  self->state.board = board;
  self->state.entry = std::move(entry);
  self->send(self, atoms::tick_atom_v);
  return {
      [self](atoms::tick_atom) {
        auto& st = self->state;
        auto result = st.run_check();
        if (st.entry) {
          st.entry->on_message(self->mailbox().size());
          st.entry->set_state(std::string{to_string(result)});
        }
        self->delayed_send(self, st.opts.interval, atoms::tick_atom_v);
      },
      [self](atoms::health_atom) -> std::string {
        auto result = self->state.run_check();
        return std::string{to_string(result)};
      },
  };
}

} // namespace

probe_actor spawn_probe(caf::actor_system& sys, probe_options opts,
                        health_board& board, inspect::actor_entry_ptr entry) {
  board.declare(opts.component);
  return sys.spawn<caf::detached>(run_probe, std::move(opts), &board,
                                  std::move(entry));
}

} // namespace distiller::health
