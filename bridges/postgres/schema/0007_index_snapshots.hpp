#pragma once

// Migration 7: what the query nodes' index snapshots need
// (docs/document-pipeline.md, "Index snapshots"): the identity of this
// database, so a snapshot made from another one (a wiped private cluster, a
// node pointed at another DSN) is never taken for this one's, and the
// embedded chunks in `embedded_at` order, for the rows after a snapshot's
// high-water mark.
// APPLIED MIGRATIONS ARE IMMUTABLE: change the schema in a new file.

namespace distiller::postgres::schema {

inline constexpr const char* v0007_index_snapshots = R"sql(
-- One row, made with the database: a dump restored elsewhere keeps it (and
-- its chunks), a new database gets another.
CREATE TABLE database_identity (
  singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  id         uuid NOT NULL DEFAULT gen_random_uuid(),
  created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO database_identity DEFAULT VALUES;

-- The tail after a snapshot: embedded chunks with embedded_at >= a mark.
CREATE INDEX document_chunks_embedded_at_idx ON document_chunks (embedded_at)
  WHERE status = 'embedded';
)sql";

} // namespace distiller::postgres::schema
