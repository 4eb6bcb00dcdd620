#pragma once

/// Word (.docx, Office Open XML) and OpenDocument text (.odt) documents:
/// ZIP containers (zip_archive.hpp) whose body is one XML part, read with
/// libxml2's streaming reader, so a large body costs constant memory.
///
/// What is extracted, in reading order: paragraphs, headings and the cells
/// of tables (row by row, cells separated by tabs, nested tables inline);
/// tabs and line breaks inside a paragraph are kept. A heading — DOCX: a
/// paragraph whose style is (or is based on) "heading N" or "Title", or has
/// an outline level; ODT: <text:h> — starts a section named after its text.
/// Deleted tracked changes, field instructions, comments and drawings'
/// XML are skipped. The title comes from docProps/core.xml (DOCX) or
/// meta.xml (ODT) when present.
///
/// Threads: pure functions, safe from any thread.
/// Failure: throws `extract_error` for a broken or hostile ZIP (see
/// zip_archive.hpp), a missing body part ("DOCX: the archive has no
/// 'word/document.xml'"), malformed or too deeply nested XML.

#include <string_view>

#include "actors/documents/text/document.hpp"
#include "actors/documents/text/extract.hpp"

namespace distiller::documents {

raw_document docx_to_text(std::string_view bytes, const extract_limits& limits);

raw_document odt_to_text(std::string_view bytes, const extract_limits& limits);

} // namespace distiller::documents
