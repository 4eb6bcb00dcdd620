#pragma once

/// Text extraction for uploaded documents: plain text (.txt), Markdown
/// (.md, CommonMark with GitHub's tables), HTML (.html, .htm), PDF (.pdf,
/// poppler-cpp), Word (.docx), OpenDocument text (.odt), EPUB (.epub), CSV
/// (.csv) and JSON (.json). The chunker calls `extract_text` on the stored
/// bytes; the upload route calls `is_supported` to refuse other types with
/// 415 and names `supported_extensions()` in its message, and
/// `content_mismatch` to refuse a file whose content is of another type (a
/// `.pdf` that is a ZIP archive).
///
/// The type is chosen by the filename's extension (case-insensitive), or by
/// the content type when the extension says nothing. The content is then
/// checked against it with libmagic (sniff.hpp). Every result is normalised
/// (normalize.hpp): valid UTF-8 in NFC, LF line ends, runs of spaces
/// collapsed, at most one blank line in a row, trimmed.
///
/// Threads: pure functions; safe to call concurrently (every parser keeps
/// its state per call, libmagic one handle per thread). Parsing a large
/// document blocks for a while: call from a detached actor or a worker
/// thread, never on the shared scheduler.
/// Failure: throws `extract_error` with a readable message meant for the
/// job's `error` field (unsupported type, content of another type, corrupt
/// or password-protected PDF, a broken or hostile archive, XML nested too
/// deeply, a CSV record or JSON nesting over its limit, binary data named as
/// text, no text at all); malformed input never crashes or hangs.

#include <cstddef>
#include <cstdint>
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

enum class document_kind {
  text,
  markdown,
  html,
  pdf,
  docx,
  odt,
  epub,
  csv,
  json
};

/// "text", "markdown", "html", "pdf", "docx", "odt", "epub", "csv", "json".
const char* to_string(document_kind kind) noexcept;

/// Bounds that keep hostile input from exhausting memory or time; every
/// one that is hit is an `extract_error` naming it. XML is also bounded by
/// libxml2's own limits (256 levels of nesting, 10 MB per text node, entity
/// amplification), which these do not relax.
struct extract_limits {
  /// Entries in a ZIP container (.docx, .odt, .epub).
  size_t max_archive_entries = 10'000;
  /// Bytes unpacked from one entry, counted while inflating (the sizes in
  /// the ZIP directory are the attacker's to choose).
  uint64_t max_entry_bytes = 64ull << 20;
  /// Bytes unpacked from the whole archive.
  uint64_t max_unpacked_bytes = 256ull << 20;
  /// Unpacked / packed size of one entry, checked once it passes 1 MiB:
  /// text compresses 3–10×, a ZIP bomb 1000×.
  uint64_t max_compression_ratio = 100;
  /// One CSV record (a line, or several when a quoted field spans lines).
  size_t max_csv_record_bytes = 1u << 20;
  /// Nesting of JSON arrays and objects.
  size_t max_json_depth = 64;
};

/// A part of the document a chunk can name: a PDF page ("page 3"), a DOCX
/// or ODT heading, an EPUB chapter.
struct section_mark {
  /// Byte offset in `extracted_text::text` where the section starts.
  size_t offset = 0;
  std::string label;
};

struct extracted_text {
  /// Normalised UTF-8; never empty (an empty result is an `extract_error`).
  std::string text;
  document_kind kind = document_kind::text;
  /// Pages of a PDF (page breaks become paragraph breaks); 1 otherwise.
  size_t pages = 1;
  /// The document's own title (HTML <title>, EPUB and ODT metadata,
  /// DOCX core properties), normalised; "" when it has none.
  std::string title;
  /// In text order; empty for formats without pages or sections.
  std::vector<section_mark> sections;
};

/// The label of the section that contains byte `offset` of `doc.text`, or
/// "" when it comes before the first (or the format has none).
std::string_view section_at(const extracted_text& doc, size_t offset);

/// The extensions `extract_text` understands, lower case with the dot:
/// ".csv", ".docx", ".epub", ".htm", ".html", ".json", ".md", ".odt",
/// ".pdf", ".txt".
const std::vector<std::string>& supported_extensions();

/// The kind `extract_text` would use, or nullopt when neither the extension
/// nor the content type (parameters such as "; charset=…" are ignored) is
/// supported. A known extension wins over the content type; an unknown or
/// missing one ("notes.log", "README") defers to the content type
/// (`media_type_for(kind)` and a few aliases: text/x-markdown,
/// application/xhtml+xml, application/csv).
std::optional<document_kind> detect_kind(std::string_view filename,
                                         std::string_view content_type);

inline bool is_supported(std::string_view filename,
                         std::string_view content_type) {
  return detect_kind(filename, content_type).has_value();
}

/// The canonical media type of a kind ("application/pdf", "text/csv", …).
const char* media_type_for(document_kind kind) noexcept;

/// The main extension of a kind (".html", ".md", ".docx", …).
const char* extension_for(document_kind kind) noexcept;

/// A readable sentence when the content of a file of kind `kind` is of
/// another type ("the file is named as a PDF document but its content is a
/// ZIP archive (application/zip)"), nullopt when it fits or libmagic cannot
/// tell. Text kinds accept any text; container kinds accept their own type
/// or a plain ZIP.
std::optional<std::string> content_mismatch(document_kind kind,
                                            std::string_view bytes);

/// Extracts and normalises the text of one uploaded file. Text, Markdown,
/// HTML and CSV that are not UTF-8 are decoded by the charset the content
/// type (or an HTML <meta charset>) declares, else by the one ICU's
/// detector finds (normalize.hpp, `decode_text_bytes`).
extracted_text extract_text(std::string_view filename,
                            std::string_view content_type,
                            std::string_view bytes,
                            const extract_limits& limits = {});

} // namespace distiller::documents
