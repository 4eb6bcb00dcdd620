#pragma once

/// The bridges' CAF type-ID block: atoms and message types that bridge
/// actors exchange with pipelines. It starts at `caf::first_custom_type_id +
/// 100` (see runtime/core/type_ids.hpp for the offsets of every block).
///
/// One block for all bridges, kept in this one header, one section per
/// component: a type's ID is its position in the block, so every translation
/// unit must see the same list. Append to your component's section; never
/// declare a second block for the Kafka bridges. Atoms take no ID (CAF 0.17
/// atoms are constants), and their names are at most 10 characters.
///
/// Nodes that exchange these types with other nodes register the block once:
///   cfg.add_message_types<caf::id_block::distiller_bridges>();

#include <vector>

#include <caf/all.hpp>
#include <caf/type_id.hpp>

#include "bridges/kafka/record.hpp"

CAF_BEGIN_TYPE_ID_BLOCK(distiller_bridges, caf::first_custom_type_id + 100)

// -- Kafka records (bridges/kafka/record.hpp) ---------------------------------
CAF_ADD_TYPE_ID(distiller_bridges, (distiller::kafka::kafka_header))
CAF_ADD_TYPE_ID(distiller_bridges, (distiller::kafka::out_record))
CAF_ADD_TYPE_ID(distiller_bridges, (std::vector<distiller::kafka::out_record>))
CAF_ADD_TYPE_ID(distiller_bridges, (distiller::kafka::delivery))
CAF_ADD_TYPE_ID(distiller_bridges, (std::vector<distiller::kafka::delivery>))

// -- Kafka sink bridge (bridges/kafka/sink.hpp) -------------------------------
/// (produce_atom, out_record) / (produce_atom, std::vector<out_record>).
CAF_ADD_ATOM(distiller_bridges, distiller::atoms, produce_atom, "produce")
/// Internal: the sink's poll thread wakes its actor to collect delivery
/// reports.
CAF_ADD_ATOM(distiller_bridges, distiller::atoms, delivered_atom, "delivered")
// The sink's flush request uses CAF's own caf::flush_atom.

// -- Kafka source bridge (source_bridge.hpp) ----------------------------------
/// (stats_atom) → source_stats
CAF_ADD_ATOM(distiller_bridges, distiller::atoms, stats_atom, "srcstats")
/// (pause_atom) → caf::unit
CAF_ADD_ATOM(distiller_bridges, distiller::atoms, pause_atom, "srcpause")
/// (resume_atom) → caf::unit
CAF_ADD_ATOM(distiller_bridges, distiller::atoms, resume_atom, "srcresume")
/// (scale_atom, int32_t n) → int32_t (the new pool size)
CAF_ADD_ATOM(distiller_bridges, distiller::atoms, scale_atom, "srcscale")

// -- inside the source bridge (source_state.hpp) ------------------------------
// Only the bridge, its poll thread and its timers send these.
/// poll thread → bridge
CAF_ADD_ATOM(distiller_bridges, distiller::kafka::detail, poll_atom, "srcpoll")
CAF_ADD_ATOM(distiller_bridges, distiller::kafka::detail, assign_atom,
             "srcassign")
CAF_ADD_ATOM(distiller_bridges, distiller::kafka::detail, revoke_atom,
             "srcrevoke")
CAF_ADD_ATOM(distiller_bridges, distiller::kafka::detail, committed_atom,
             "srccommit")
CAF_ADD_ATOM(distiller_bridges, distiller::kafka::detail, loop_error_atom,
             "srclooperr")
CAF_ADD_ATOM(distiller_bridges, distiller::kafka::detail, loop_stopped_atom,
             "srcstopped")
/// bridge → itself
CAF_ADD_ATOM(distiller_bridges, distiller::kafka::detail, retry_atom,
             "srcretry")
CAF_ADD_ATOM(distiller_bridges, distiller::kafka::detail, dlq_done_atom,
             "srcdlqdone")
CAF_ADD_ATOM(distiller_bridges, distiller::kafka::detail, drain_timeout_atom,
             "srcdrainto")
CAF_ADD_ATOM(distiller_bridges, distiller::kafka::detail, close_timeout_atom,
             "srccloseto")
CAF_ADD_ATOM(distiller_bridges, distiller::kafka::detail, commit_tick_atom,
             "srctick")

CAF_END_TYPE_ID_BLOCK(distiller_bridges)
