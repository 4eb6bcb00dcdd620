#pragma once

/// The statements of the document store (document_store.cpp), prepared on
/// each of its pool's connections: jobs, files, chunks and their
/// embeddings (bridges/postgres/schema), and the outbox's. Private to
/// actors/documents.

#include <pqxx/pqxx>

namespace distiller::documents {

/// Prepares every statement document_store runs, by the names it runs them
/// with ("insert_job", "advance", "embed_chunk" …).
void prepare_document_statements(pqxx::connection& conn);

} // namespace distiller::documents
