#pragma once

// Migration 6: the part of its document a chunk starts in — a PDF page
// ("page 3"), a DOCX or ODT heading, an EPUB chapter — shown with the
// chunk when a query cites it. "" for formats without pages or sections
// and for chunks stored before this migration.
// APPLIED MIGRATIONS ARE IMMUTABLE: change the schema in a new file.

namespace distiller::postgres::schema {

inline constexpr const char* v0006_chunk_sections = R"sql(
ALTER TABLE document_chunks ADD COLUMN section text NOT NULL DEFAULT '';
)sql";

} // namespace distiller::postgres::schema
