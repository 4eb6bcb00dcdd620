#pragma once

/// The document pipeline's CAF type-ID block (offsets of every block:
/// runtime/core/type_ids.hpp). Its records travel through Kafka, not
/// between actors, so the block has atoms only.

#include <caf/all.hpp>
#include <caf/type_id.hpp>

CAF_BEGIN_TYPE_ID_BLOCK(distiller_documents, caf::first_custom_type_id + 300)

/// index keeper → itself: time to write a snapshot of the indexes
/// (index_keeper.cpp, documents.snapshot_every).
CAF_ADD_ATOM(distiller_documents, distiller::documents::detail,
             snapshot_tick_atom, "snaptick")

CAF_END_TYPE_ID_BLOCK(distiller_documents)
