#pragma once

/// The runtime's CAF type-ID block: atoms and message types that runtime actors
/// exchange. Other modules open their own blocks at fixed offsets so that IDs
/// never collide:
///   distiller_runtime    caf::first_custom_type_id + 0    (this file)
///   distiller_bridges    caf::first_custom_type_id + 100  (bridges/kafka)
///   distiller_outbox     caf::first_custom_type_id + 150  (bridges/outbox)
///   distiller_broadcast  caf::first_custom_type_id + 200  (actors/broadcast)
///   distiller_cluster    caf::first_custom_type_id + 250  (actors/cluster)
///   distiller_documents  caf::first_custom_type_id + 300  (actors/documents)
/// Every atom is declared in one of these blocks (`scripts/check --layers`
/// fails on an atom declared elsewhere and on two atoms with the same text,
/// which would match each other's messages). Atom texts are at most 10
/// characters (CAF 0.17 atom limit); a module's internal atoms live in its
/// own namespace (e.g. `supervision::detail`), the ones others send in
/// `distiller::atoms`.

#include <caf/all.hpp>
#include <caf/type_id.hpp>

#include "runtime/core/ids.hpp"

CAF_BEGIN_TYPE_ID_BLOCK(distiller_runtime, caf::first_custom_type_id)

// -- message payload types -------------------------------------------------
CAF_ADD_TYPE_ID(distiller_runtime, (distiller::trace_id))

// -- atoms -----------------------------------------------------------------
CAF_ADD_ATOM(distiller_runtime, distiller::atoms, inspect_atom, "inspect")
CAF_ADD_ATOM(distiller_runtime, distiller::atoms, health_atom, "health")
CAF_ADD_ATOM(distiller_runtime, distiller::atoms, tick_atom, "tick")
CAF_ADD_ATOM(distiller_runtime, distiller::atoms, child_atom, "child")
CAF_ADD_ATOM(distiller_runtime, distiller::atoms, children_atom, "children")
CAF_ADD_ATOM(distiller_runtime, distiller::atoms, restart_atom, "restart")
CAF_ADD_ATOM(distiller_runtime, distiller::atoms, restarted_atom, "restarted")
CAF_ADD_ATOM(distiller_runtime, distiller::atoms, crash_atom, "crash")
CAF_ADD_ATOM(distiller_runtime, distiller::atoms, stop_atom, "stop")
/// Supervisors: (add_child_atom, child_spec) and (remove_child_atom, name).
CAF_ADD_ATOM(distiller_runtime, distiller::atoms, add_child_atom, "addchild")
CAF_ADD_ATOM(distiller_runtime, distiller::atoms, remove_child_atom, "rmchild")
/// Periodic work an operator may also start at once (`distiller shell`'s
/// `send <actor> <message>`, actors/cluster): the document reconciler, the
/// thought janitor, the thought and job stream heads' polls.
CAF_ADD_ATOM(distiller_runtime, distiller::atoms, reconcile_atom, "reconcile")
CAF_ADD_ATOM(distiller_runtime, distiller::atoms, janitor_atom, "janitor")
CAF_ADD_ATOM(distiller_runtime, distiller::atoms, heads_atom, "heads")
CAF_ADD_ATOM(distiller_runtime, distiller::atoms, watch_tick_atom, "watchtick")

// -- inside a supervisor (runtime/supervision/supervisor_state.hpp) ---------
/// supervisor → itself: a removed child did not stop within
/// `shutdown_timeout` (child name, remove_token).
CAF_ADD_ATOM(distiller_runtime, distiller::supervision::detail,
             remove_timeout_atom, "suprmto")

CAF_END_TYPE_ID_BLOCK(distiller_runtime)
