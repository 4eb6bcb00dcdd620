#pragma once

/// JSON to text: every key and scalar value with its path, one per
/// paragraph — "store.books[1].title: Dune" — so nested data is searchable
/// by its names as well as its values. Strings, numbers and booleans are
/// kept (null is not); the keys of empty objects and arrays say nothing
/// and go. A top-level scalar is just its value.
///
/// Threads: a pure function, safe from any thread.
/// Failure: throws `extract_error` for malformed JSON or strings that are
/// not valid UTF-8 ("invalid JSON at byte N: …") and for nesting deeper
/// than `extract_limits::max_json_depth` (Boost.JSON refuses it while
/// parsing, so a hostile depth costs neither stack nor memory).

#include <string_view>

#include "actors/documents/text/document.hpp"
#include "actors/documents/text/extract.hpp"

namespace distiller::documents {

raw_document json_to_text(std::string_view json, const extract_limits& limits);

} // namespace distiller::documents
