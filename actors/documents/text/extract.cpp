#include "actors/documents/text/extract.hpp"

#include <algorithm>
#include <cctype>

#include "actors/documents/text/html.hpp"
#include "actors/documents/text/markdown.hpp"
#include "actors/documents/text/normalize.hpp"
#include "actors/documents/text/pdf.hpp"

namespace distiller::documents {

namespace {

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

std::optional<document_kind> kind_of_extension(std::string_view ext) {
  if (ext == ".txt")
    return document_kind::text;
  if (ext == ".md")
    return document_kind::markdown;
  if (ext == ".html" || ext == ".htm")
    return document_kind::html;
  if (ext == ".pdf")
    return document_kind::pdf;
  return std::nullopt;
}

std::optional<document_kind> kind_of_media_type(std::string_view type) {
  if (type == "text/plain")
    return document_kind::text;
  if (type == "text/markdown" || type == "text/x-markdown")
    return document_kind::markdown;
  if (type == "text/html" || type == "application/xhtml+xml")
    return document_kind::html;
  if (type == "application/pdf")
    return document_kind::pdf;
  return std::nullopt;
}

} // namespace

const char* to_string(document_kind kind) noexcept {
  switch (kind) {
  case document_kind::text:
    return "text";
  case document_kind::markdown:
    return "markdown";
  case document_kind::html:
    return "html";
  case document_kind::pdf:
    return "pdf";
  }
  return "unknown";
}

const std::vector<std::string>& supported_extensions() {
  static const std::vector<std::string> list = {".htm", ".html", ".md", ".pdf",
                                                ".txt"};
  return list;
}

std::optional<document_kind> detect_kind(std::string_view filename,
                                         std::string_view content_type) {
  if (auto kind = kind_of_extension(extension_of(filename)))
    return kind;
  return kind_of_media_type(media_type_of(content_type));
}

extracted_text extract_text(std::string_view filename,
                            std::string_view content_type,
                            std::string_view bytes) {
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
  extracted_text result;
  result.kind = *kind;
  std::string raw;
  switch (*kind) {
  case document_kind::pdf: {
    auto pages = pdf_page_texts(bytes);
    result.pages = pages.size();
    for (auto& page : pages) {
      raw += page;
      raw += '\f'; // a page break: normalize_text makes it a paragraph
    }
    break;
  }
  case document_kind::html: {
    std::string charset = charset_of(content_type);
    if (charset.empty())
      charset = html_declared_charset(bytes);
    raw = html_to_text(decode_text_bytes(bytes, charset));
    break;
  }
  case document_kind::markdown:
    raw = markdown_to_text(decode_text_bytes(bytes, charset_of(content_type)));
    break;
  case document_kind::text:
    raw = decode_text_bytes(bytes, charset_of(content_type));
    break;
  }
  result.text = normalize_text(raw);
  if (result.text.empty())
    throw extract_error(
        std::string("no text found in the document") +
        (*kind == document_kind::pdf
             ? " (a scanned PDF without a text layer is not supported)"
             : ""));
  return result;
}

} // namespace distiller::documents
