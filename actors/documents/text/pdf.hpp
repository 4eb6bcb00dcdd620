#pragma once

/// PDF text through poppler-cpp: the text of every page in reading order
/// (poppler's non-raw, non-physical layout), page by page.
///
/// Threads: safe to call concurrently; each call loads its own
/// `poppler::document`. poppler's diagnostics (it reports every repaired
/// cross-reference table on stderr) are silenced process-wide on the first
/// call. Blocks for as long as poppler parses: call from a worker thread.
/// Ownership: the poppler document and pages live in `std::unique_ptr`s
/// inside the call; nothing outlives it.
/// Failure: throws `extract_error` — "not a PDF document: …" when the bytes
/// do not start with a PDF header, "corrupt PDF: …" when poppler cannot
/// open it, "PDF is password-protected" when it needs a user password.
/// A PDF encrypted with only an owner password (printing or copying
/// restrictions) opens without one and is read like any other.

#include <string>
#include <string_view>
#include <vector>

namespace distiller::documents {

/// The raw (not yet normalised) UTF-8 text of each page, in page order.
std::vector<std::string> pdf_page_texts(std::string_view bytes);

} // namespace distiller::documents
