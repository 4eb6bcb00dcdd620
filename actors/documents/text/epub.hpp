#pragma once

/// EPUB (2 and 3) books: the ZIP container (zip_archive.hpp), its
/// META-INF/container.xml pointing at the package document (OPF), whose
/// spine gives the reading order of the XHTML chapters; each chapter goes
/// through the HTML path (html.hpp) and becomes a section named after its
/// first heading (else its <title>, else "chapter N"). The title is the
/// package's dc:title. Spine items that are not (X)HTML, or point outside
/// the archive, are skipped.
///
/// Threads: a pure function, safe from any thread.
/// Failure: throws `extract_error` for a broken or hostile ZIP, a missing
/// container.xml or package document, an OPF without a spine, malformed or
/// too deeply nested XML.

#include <string_view>

#include "actors/documents/text/document.hpp"
#include "actors/documents/text/extract.hpp"

namespace distiller::documents {

raw_document epub_to_text(std::string_view bytes, const extract_limits& limits);

} // namespace distiller::documents
