#pragma once

/// Text extraction for uploaded documents: plain text (.txt), Markdown
/// (.md), HTML (.html, .htm) and PDF (.pdf, through poppler-cpp). The
/// chunker calls `extract_text` on the stored bytes; the upload route calls
/// `is_supported` to refuse other types with 415 and names
/// `supported_extensions()` in its message.
///
/// The type is chosen by the filename's extension (case-insensitive), or by
/// the content type when the extension says nothing (text/plain,
/// text/markdown, text/html, application/pdf). Every result is normalised
/// (normalize.hpp): valid UTF-8, LF line ends, runs of spaces collapsed, at
/// most one blank line in a row, trimmed.
///
/// Threads: pure functions; safe to call concurrently (poppler keeps one
/// document per call). Parsing a large PDF blocks for a while: call from a
/// detached actor or a worker thread, never on the shared scheduler.
/// Failure: throws `extract_error` with a readable message (unsupported
/// type, not a PDF, corrupt or password-protected PDF, binary data named as
/// text, no text at all); malformed input never crashes.

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace distiller::documents {

class extract_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class document_kind { text, markdown, html, pdf };

/// "text", "markdown", "html", "pdf".
const char* to_string(document_kind kind) noexcept;

struct extracted_text {
  /// Normalised UTF-8; never empty (an empty result is an `extract_error`).
  std::string text;
  document_kind kind = document_kind::text;
  /// Pages of a PDF (page breaks become paragraph breaks); 1 otherwise.
  size_t pages = 1;
};

/// The extensions `extract_text` understands, lower case with the dot:
/// ".htm", ".html", ".md", ".pdf", ".txt".
const std::vector<std::string>& supported_extensions();

/// The kind `extract_text` would use, or nullopt when neither the extension
/// nor the content type (parameters such as "; charset=…" are ignored) is
/// supported. A known extension wins over the content type; an unknown or
/// missing one ("notes.log", "README") defers to the content type
/// (text/plain, text/markdown, text/x-markdown, text/html,
/// application/xhtml+xml, application/pdf).
std::optional<document_kind> detect_kind(std::string_view filename,
                                         std::string_view content_type);

inline bool is_supported(std::string_view filename,
                         std::string_view content_type) {
  return detect_kind(filename, content_type).has_value();
}

/// Extracts and normalises the text of one uploaded file. A `charset`
/// parameter of `content_type` (or an HTML <meta charset>) naming
/// ISO-8859-1 / Windows-1252 is honoured for text, Markdown and HTML when
/// the bytes are not valid UTF-8; otherwise text is read as UTF-8 (UTF-16
/// with a BOM is detected).
extracted_text extract_text(std::string_view filename,
                            std::string_view content_type,
                            std::string_view bytes);

} // namespace distiller::documents
