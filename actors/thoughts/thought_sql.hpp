#pragma once

/// The statements of the thought store (thought_store.cpp), prepared on
/// each of its pool's connections: thoughts, their steps and the per-user
/// event log (schema 0002, 0004), and the outbox's. Private to
/// actors/thoughts.

#include <pqxx/pqxx>

namespace distiller::thoughts {

/// Prepares every statement thought_store runs, by the names it runs them
/// with ("insert_thought", "save_step_1" … "save_step_5", "prune" …).
void prepare_thought_statements(pqxx::connection& conn);

} // namespace distiller::thoughts
