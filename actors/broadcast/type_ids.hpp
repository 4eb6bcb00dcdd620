#pragma once

/// The broadcaster's CAF type-ID block (offsets of every block:
/// runtime/core/type_ids.hpp). Its message types (subscribe_msg,
/// publish_msg, replay_msg) carry callbacks and stay on one node, so they
/// are allowed as unsafe message types in messages.hpp instead of taking
/// IDs here.

#include <caf/all.hpp>
#include <caf/type_id.hpp>

CAF_BEGIN_TYPE_ID_BLOCK(distiller_broadcast, caf::first_custom_type_id + 200)

// Only the broadcaster's own handles (broadcaster.cpp) send these.
/// (unsubscribe_atom, uint64_t subscriber): a stream went away.
CAF_ADD_ATOM(distiller_broadcast, distiller::broadcast::detail,
             unsubscribe_atom, "bcunsub")
/// (gap_atom, uint64_t subscriber): a subscriber's timer (a gap it waits
/// out) is due.
CAF_ADD_ATOM(distiller_broadcast, distiller::broadcast::detail, gap_atom,
             "bcgap")
/// (channels_atom, std::string prefix) → std::vector<std::string>, the
/// channel names (inspection).
CAF_ADD_ATOM(distiller_broadcast, distiller::broadcast::detail, channels_atom,
             "bcchans")
/// (shutdown_atom): close every stream, then quit (the node is stopping).
CAF_ADD_ATOM(distiller_broadcast, distiller::broadcast::detail, shutdown_atom,
             "bcstop")
/// (head_atom, std::string channel, uint64_t head): the newest sequence
/// number a channel's source knows of.
CAF_ADD_ATOM(distiller_broadcast, distiller::broadcast::detail, head_atom,
             "bchead")

CAF_END_TYPE_ID_BLOCK(distiller_broadcast)
