#pragma once

/// The cluster's CAF type-ID block (offsets of every block:
/// runtime/core/type_ids.hpp). Answers between nodes travel as JSON text, so
/// the block has atoms only.

#include <caf/all.hpp>
#include <caf/type_id.hpp>

CAF_BEGIN_TYPE_ID_BLOCK(distiller_cluster, caf::first_custom_type_id + 250)

/// node → another node's agent, through the tunnel:
/// (query_atom, std::string what, std::string args) → std::string, the
/// answer as JSON. Every node of a cluster must run the same release.
CAF_ADD_ATOM(distiller_cluster, distiller::cluster::detail, query_atom,
             "clquery")
/// membership actor → itself: write this node's heartbeat row.
CAF_ADD_ATOM(distiller_cluster, distiller::cluster::detail, beat_atom, "clbeat")
/// membership actor → itself: read the members' rows and decide who is up.
CAF_ADD_ATOM(distiller_cluster, distiller::cluster::detail, observe_atom,
             "clobserve")

CAF_END_TYPE_ID_BLOCK(distiller_cluster)
