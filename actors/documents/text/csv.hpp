#pragma once

/// CSV to text, one record per paragraph with the header's names, so each
/// row is a unit the chunker keeps whole and a query can find by any of its
/// values: "name: Oslo; country: Norway; population: 709000". RFC 4180
/// quoting (quoted fields, "" inside them, line breaks inside quotes); the
/// delimiter is the one of , ; tab | that splits the header line most
/// often; empty values are left out; fields beyond the header are named
/// "column N". A file of one line is a header without data: no text.
///
/// Threads: a pure function, safe from any thread; linear in the input.
/// Failure: throws `extract_error` when one record exceeds
/// `extract_limits::max_csv_record_bytes` ("CSV record at line N is longer
/// than … bytes") — the sign of an unclosed quote or a file that is not
/// CSV — so a huge line costs bounded memory and time.

#include <string_view>

#include "actors/documents/text/document.hpp"
#include "actors/documents/text/extract.hpp"

namespace distiller::documents {

/// `csv` must be UTF-8 (extract_text decodes it first).
raw_document csv_to_text(std::string_view csv, const extract_limits& limits);

} // namespace distiller::documents
