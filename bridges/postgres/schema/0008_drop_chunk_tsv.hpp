#pragma once

// Migration 8: the chunks' generated full-text vector and its GIN index go.
// The query path ranks with the BM25 index in every query node (issue 13);
// nothing reads `tsv` any more, and every chunk insert paid for computing
// and indexing it.
// APPLIED MIGRATIONS ARE IMMUTABLE: change the schema in a new file.

namespace distiller::postgres::schema {

inline constexpr const char* v0008_drop_chunk_tsv = R"sql(
DROP INDEX document_chunks_tsv_idx;
ALTER TABLE document_chunks DROP COLUMN tsv;
)sql";

} // namespace distiller::postgres::schema
