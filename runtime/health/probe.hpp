#pragma once

/// A probe actor checks one dependency (Kafka, PostgreSQL …) on an interval
/// and writes the result to the node's health board.
///
/// Messages: `tick_atom` (internal, scheduled by itself); `health_atom` → runs
/// the check now and replies the state's name (used by tests and the shell).
/// Runs detached: checks block on the network, never on the CAF scheduler.
/// Owns nothing but its check function; a check that throws counts as `down`
/// with the exception's text, so the probe itself never crashes on a failing
/// dependency.

#include <chrono>
#include <functional>
#include <string>

#include <caf/fwd.hpp>
#include <caf/typed_actor.hpp>

#include "runtime/core/type_ids.hpp"
#include "runtime/health/health_board.hpp"
#include "runtime/inspect/registry.hpp"

namespace distiller::health {

/// Returns the dependency's state and fills `detail` with a short text.
using check_fn = std::function<state(std::string& detail)>;

struct probe_options {
  std::string component;
  std::chrono::milliseconds interval{5000};
  check_fn check;
};

/// The probe's interface: its own timer, and a check on request.
using probe_actor =
    caf::typed_actor<caf::reacts_to<atoms::tick_atom>,
                     caf::replies_to<atoms::health_atom>::with<std::string>>;

probe_actor spawn_probe(caf::actor_system& sys, probe_options opts,
                        health_board& board, inspect::actor_entry_ptr entry);

} // namespace distiller::health
