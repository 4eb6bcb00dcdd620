#include "actors/documents/text/extract.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include "actors/documents/text/csv.hpp"
#include "actors/documents/text/document.hpp"
#include "actors/documents/text/epub.hpp"
#include "actors/documents/text/html.hpp"
#include "actors/documents/text/json_text.hpp"
#include "actors/documents/text/markdown.hpp"
#include "actors/documents/text/normalize.hpp"
#include "actors/documents/text/office.hpp"
#include "actors/documents/text/pdf.hpp"
#include "actors/documents/text/sniff.hpp"

namespace distiller::documents {

namespace {

// -- the formats
// ---------------------------------------------------------------

struct format {
  document_kind kind;
  const char* name;
  /// What the 415 and mismatch messages call a file of this kind.
  const char* noun;
  std::initializer_list<std::string_view> extensions;
  /// The canonical media type first, then accepted aliases.
  std::initializer_list<std::string_view> media_types;
};

const std::array<format, 9>& formats() {
  static const std::array<format, 9> list = {{
      {document_kind::text, "text", "a text file", {".txt"}, {"text/plain"}},
      {document_kind::markdown,
       "markdown",
       "a Markdown file",
       {".md"},
       {"text/markdown", "text/x-markdown"}},
      {document_kind::html,
       "html",
       "an HTML page",
       {".html", ".htm"},
       {"text/html", "application/xhtml+xml"}},
      {document_kind::pdf,
       "pdf",
       "a PDF document",
       {".pdf"},
       {"application/pdf"}},
      {document_kind::docx,
       "docx",
       "a Word document",
       {".docx"},
       {"application/"
        "vnd.openxmlformats-officedocument.wordprocessingml.document"}},
      {document_kind::odt,
       "odt",
       "an OpenDocument text",
       {".odt"},
       {"application/vnd.oasis.opendocument.text"}},
      {document_kind::epub,
       "epub",
       "an EPUB book",
       {".epub"},
       {"application/epub+zip"}},
      {document_kind::csv,
       "csv",
       "a CSV file",
       {".csv"},
       {"text/csv", "application/csv"}},
      {document_kind::json,
       "json",
       "a JSON file",
       {".json"},
       {"application/json"}},
  }};
  return list;
}

const format& format_of(document_kind kind) {
  for (auto& f : formats())
    if (f.kind == kind)
      return f;
  return formats()[0];
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  });
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  return s;
}

/// ".pdf" for "dir/Report.PDF", "" without an extension.
std::string extension_of(std::string_view filename) {
  const size_t slash = filename.find_last_of("/\\");
  if (slash != std::string_view::npos)
    filename.remove_prefix(slash + 1);
  const size_t dot = filename.rfind('.');
  if (dot == std::string_view::npos || dot == 0)
    return {};
  return lower(filename.substr(dot));
}

/// "text/html" for "Text/HTML; charset=UTF-8".
std::string media_type_of(std::string_view content_type) {
  return lower(trim(content_type.substr(0, content_type.find(';'))));
}

/// The charset parameter of a content type, unquoted, or "".
std::string charset_of(std::string_view content_type) {
  const std::string lowered = lower(content_type);
  size_t at = lowered.find("charset=");
  if (at == std::string::npos)
    return {};
  std::string_view rest = std::string_view(lowered).substr(at + 8);
  rest = rest.substr(0, rest.find(';'));
  rest = trim(rest);
  if (rest.size() >= 2 && rest.front() == '"' && rest.back() == '"')
    rest = rest.substr(1, rest.size() - 2);
  return std::string(rest);
}

// -- content checks
// ------------------------------------------------------------

bool starts_with_any(std::string_view s,
                     std::initializer_list<std::string_view> prefixes) {
  return std::any_of(prefixes.begin(), prefixes.end(),
                     [&](std::string_view p) { return s.starts_with(p); });
}

/// Types libmagic only reports for content that is certainly not text:
/// images, media, archives, executables, office formats.
bool is_binary_type(std::string_view t) {
  if (starts_with_any(t, {"image/", "audio/", "video/", "font/", "model/",
                          "application/vnd.openxmlformats-",
                          "application/vnd.oasis.opendocument.",
                          "application/vnd.ms-"}))
    return true;
  static constexpr std::array<std::string_view, 22> binary = {
      "application/pdf",           "application/zip",
      "application/gzip",          "application/x-gzip",
      "application/x-bzip2",       "application/x-xz",
      "application/zstd",          "application/x-7z-compressed",
      "application/x-rar",         "application/vnd.rar",
      "application/x-tar",         "application/x-executable",
      "application/x-sharedlib",   "application/x-pie-executable",
      "application/x-mach-binary", "application/x-dosexec",
      "application/msword",        "application/epub+zip",
      "application/x-sqlite3",     "application/java-archive",
      "application/wasm",          "application/x-object"};
  return std::find(binary.begin(), binary.end(), t) != binary.end();
}

bool fits(document_kind kind, std::string_view t) {
  // libmagic says octet-stream (or nothing) when it does not know: that
  // refuses nothing, the parser decides.
  if (t.empty() || t == "application/octet-stream")
    return true;
  const format& f = format_of(kind);
  if (std::find(f.media_types.begin(), f.media_types.end(), t) !=
      f.media_types.end())
    return true;
  switch (kind) {
  case document_kind::pdf:
    return false;
  case document_kind::docx:
  case document_kind::odt:
  case document_kind::epub:
    // Writers that do not put the marker entry first look like plain ZIP.
    return t == "application/zip";
  default:
    return !is_binary_type(t);
  }
}

// -- assembly
// ------------------------------------------------------------------

raw_document pdf_document(std::string_view bytes) {
  raw_document doc;
  size_t page = 0;
  for (auto& text : pdf_page_texts(bytes))
    doc.sections.push_back({"page " + std::to_string(++page), std::move(text)});
  return doc;
}

/// One line: a title or a label.
std::string one_line(std::string_view s) {
  std::string out = normalize_text(s);
  std::replace(out.begin(), out.end(), '\n', ' ');
  out.erase(std::unique(out.begin(), out.end(),
                        [](char a, char b) { return a == ' ' && b == ' '; }),
            out.end());
  return out;
}

void assemble(raw_document&& raw, extracted_text& result) {
  result.title = one_line(raw.title);
  for (auto& section : raw.sections) {
    std::string text = normalize_text(section.text);
    if (text.empty())
      continue;
    if (!result.text.empty())
      result.text += "\n\n";
    std::string label = one_line(section.label);
    if (!label.empty())
      result.sections.push_back({result.text.size(), std::move(label)});
    result.text += text;
  }
}

raw_document read(document_kind kind, std::string_view content_type,
                  std::string_view bytes, const extract_limits& limits) {
  switch (kind) {
  case document_kind::pdf:
    return pdf_document(bytes);
  case document_kind::docx:
    return docx_to_text(bytes, limits);
  case document_kind::odt:
    return odt_to_text(bytes, limits);
  case document_kind::epub:
    return epub_to_text(bytes, limits);
  case document_kind::json:
    // RFC 8259: JSON is UTF-8; other bytes are an error of the parser's.
    return json_to_text(bytes, limits);
  case document_kind::html: {
    html_text html = html_to_text(bytes, charset_of(content_type));
    raw_document doc;
    doc.title = html.title;
    // The title is the page's best summary: searchable, unless the body
    // already says it (a title repeated as the first heading).
    if (!html.title.empty() && html.text.find(html.title) == std::string::npos)
      doc.sections.push_back({{}, html.title + "\n\n"});
    doc.current() += html.text;
    return doc;
  }
  case document_kind::markdown:
    return markdown_to_text(decode_text_bytes(bytes, charset_of(content_type)));
  case document_kind::csv:
    return csv_to_text(decode_text_bytes(bytes, charset_of(content_type)),
                       limits);
  case document_kind::text:
    break;
  }
  raw_document doc;
  doc.current() = decode_text_bytes(bytes, charset_of(content_type));
  return doc;
}

} // namespace

const char* to_string(document_kind kind) noexcept {
  return format_of(kind).name;
}

const char* media_type_for(document_kind kind) noexcept {
  return format_of(kind).media_types.begin()->data();
}

const char* extension_for(document_kind kind) noexcept {
  return format_of(kind).extensions.begin()->data();
}

std::string_view section_at(const extracted_text& doc, size_t offset) {
  auto after = std::upper_bound(
      doc.sections.begin(), doc.sections.end(), offset,
      [](size_t off, const section_mark& s) { return off < s.offset; });
  if (after == doc.sections.begin())
    return {};
  return std::prev(after)->label;
}

const std::vector<std::string>& supported_extensions() {
  static const std::vector<std::string> list = [] {
    std::vector<std::string> out;
    for (auto& f : formats())
      for (auto ext : f.extensions)
        out.emplace_back(ext);
    std::sort(out.begin(), out.end());
    return out;
  }();
  return list;
}

std::optional<document_kind> detect_kind(std::string_view filename,
                                         std::string_view content_type) {
  const std::string ext = extension_of(filename);
  const std::string type = media_type_of(content_type);
  for (auto& f : formats())
    if (std::find(f.extensions.begin(), f.extensions.end(), ext) !=
        f.extensions.end())
      return f.kind;
  for (auto& f : formats())
    if (std::find(f.media_types.begin(), f.media_types.end(), type) !=
        f.media_types.end())
      return f.kind;
  return std::nullopt;
}

std::optional<std::string> content_mismatch(document_kind kind,
                                            std::string_view bytes) {
  if (bytes.empty())
    return std::nullopt;
  sniffed_type found = sniff(bytes);
  if (fits(kind, found.media_type))
    return std::nullopt;
  std::string what = found.description.empty()
                         ? found.media_type
                         : found.description + " (" + found.media_type + ")";
  return std::string("the file is named as ") + format_of(kind).noun +
         " but its content is " + what;
}

extracted_text extract_text(std::string_view filename,
                            std::string_view content_type,
                            std::string_view bytes,
                            const extract_limits& limits) {
  auto kind = detect_kind(filename, content_type);
  if (!kind) {
    std::string what = extension_of(filename);
    if (what.empty())
      what = media_type_of(content_type);
    std::string supported;
    for (auto& ext : supported_extensions())
      supported += (supported.empty() ? "" : ", ") + ext;
    throw extract_error(
        "unsupported file type " +
        (what.empty() ? std::string("(none given)") : "'" + what + "'") +
        "; supported: " + supported);
  }
  if (auto mismatch = content_mismatch(*kind, bytes))
    throw extract_error(*mismatch);
  extracted_text result;
  result.kind = *kind;
  raw_document raw = read(*kind, content_type, bytes, limits);
  if (*kind == document_kind::pdf)
    result.pages = raw.sections.size();
  assemble(std::move(raw), result);
  if (result.text.empty())
    throw extract_error(
        std::string("no text found in the document") +
        (*kind == document_kind::pdf
             ? " (a scanned PDF without a text layer is not supported)"
             : ""));
  return result;
}

} // namespace distiller::documents
