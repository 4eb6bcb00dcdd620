#pragma once

/// The outbox relay's CAF type-ID block (offsets of every block:
/// runtime/core/type_ids.hpp). No message types yet, one internal atom.

#include <caf/all.hpp>
#include <caf/type_id.hpp>

CAF_BEGIN_TYPE_ID_BLOCK(distiller_outbox, caf::first_custom_type_id + 150)

/// relay → itself: the periodic poll of the outbox table (wake-ups from
/// producers use the runtime's tick_atom).
CAF_ADD_ATOM(distiller_outbox, distiller::outbox::detail, relay_timer_atom,
             "relaytimer")

CAF_END_TYPE_ID_BLOCK(distiller_outbox)
