// Checking an upload (upload_check.hpp): the multipart form, the file's
// name, extension, type and content, and the type a stored file is served
// with.

#include "actors/documents/upload_check.hpp"

#include <algorithm>
#include <cctype>

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>

#include "actors/documents/text/extract.hpp"
#include "actors/documents/text/utf8.hpp"
#include "bridges/http/multipart.hpp"

namespace distiller::documents::detail {

namespace json = boost::json;

std::string_view trim(std::string_view s) {
  auto space = [](char c) {
    return std::isspace(static_cast<unsigned char>(c)) != 0;
  };
  while (!s.empty() && space(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && space(s.back()))
    s.remove_suffix(1);
  return s;
}

namespace {

std::string to_lower(std::string_view s) {
  std::string out{s};
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return static_cast<char>(std::tolower(c));
  });
  return out;
}

std::string join(const std::vector<std::string>& xs) {
  std::string out;
  for (auto& x : xs) {
    if (!out.empty())
      out += ", ";
    out += x;
  }
  return out;
}

/// The last path component of a client's file name ("C:\a\b.txt" → "b.txt").
std::string base_name(std::string_view name) {
  auto slash = name.find_last_of("/\\");
  if (slash != std::string_view::npos)
    name.remove_prefix(slash + 1);
  return std::string{trim(name)};
}

/// ".pdf" for "Report.PDF"; "" without an extension.
std::string extension_of(const std::string& filename) {
  auto dot = filename.rfind('.');
  if (dot == std::string::npos || dot == 0)
    return {};
  return to_lower(std::string_view{filename}.substr(dot));
}

/// The media type without parameters, lower case.
std::string media_type(std::string_view content_type) {
  return to_lower(trim(content_type.substr(0, content_type.find(';'))));
}

/// The extension a content type stands for, "" when unknown (the text
/// module's list of formats).
std::string extension_for_type(std::string_view content_type) {
  auto kind = detect_kind("", media_type(content_type));
  return kind ? extension_for(*kind) : "";
}

bool token_char(unsigned char c) {
  return std::isalnum(c) || std::string_view{"!#$%&'*+-.^_`|~"}.find(
                                static_cast<char>(c)) != std::string_view::npos;
}

bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return token_char(static_cast<unsigned char>(c));
  });
}

/// "text/plain; charset=iso-8859-1" for ` Text/Plain ; Charset="ISO-8859-1";
/// x=y`: the media type lower-cased and the charset parameter when it is a
/// token; "" when the type is not `token/token` (RFC 9110), so nothing but
/// these characters is ever stored or echoed.
std::string canonical_type(std::string_view content_type) {
  auto type = media_type(content_type);
  auto slash = type.find('/');
  if (slash == std::string::npos ||
      !is_token(std::string_view{type}.substr(0, slash)) ||
      !is_token(std::string_view{type}.substr(slash + 1)))
    return {};
  auto params = http::parse_header_value(content_type);
  if (auto charset = params.param("charset"); charset && is_token(*charset))
    type += "; charset=" + to_lower(*charset);
  return type;
}

std::string type_for_extension(std::string_view ext) {
  auto kind = detect_kind("file" + std::string{ext}, "");
  return kind ? media_type_for(*kind) : "application/octet-stream";
}

} // namespace

/// What GET …/file answers as Content-Type: a stored type only when it is on
/// a short list a browser cannot run (plain text, Markdown shown as plain
/// text, PDF), else application/octet-stream — an uploaded HTML page is
/// never served as HTML from the node's origin.
std::string served_type(std::string_view stored) {
  auto type = canonical_type(stored);
  auto media = media_type(type);
  if (media == "application/pdf")
    return media;
  if (media == "text/plain" || media == "text/markdown" ||
      media == "text/x-markdown")
    return "text/plain" + type.substr(media.size());
  return "application/octet-stream";
}

/// Validates the upload; on success moves the file's bytes out of
/// `req.body` (no copy of a 50 MiB body).
upload_check check_upload(http::request& req,
                          const document_routes_config& cfg) {
  upload_check out;
  auto fail = [&](unsigned status, const char* word, std::string detail) {
    out.error = http::response::error(status, word, std::move(detail));
    return std::move(out);
  };
  http::multipart_form form;
  try {
    form = http::parse_multipart(req.header("content-type"), req.body);
  } catch (const http::multipart_error& e) {
    return fail(400, "invalid_multipart",
                std::string{"the body must be multipart/form-data with a "
                            "'file' field: "} +
                    e.what());
  }
  auto* part = form.find("file");
  if (!part)
    return fail(400, "missing_file", "the form has no 'file' field");
  if (!part->filename)
    return fail(400, "missing_file",
                "the 'file' field carries no file name (send it as a file)");
  auto name = base_name(*part->filename);
  if (name.empty() || name == "." || name == "..")
    return fail(400, "invalid_filename",
                "the file name is empty once directories are removed");
  if (name.size() > 255)
    return fail(400, "invalid_filename",
                "the file name is longer than 255 bytes");
  if (!utf8::is_valid(name) ||
      std::any_of(name.begin(), name.end(),
                  [](unsigned char c) { return c < 0x20 || c == 0x7f; }))
    return fail(400, "invalid_filename",
                "the file name must be UTF-8 without control characters");
  auto ext = extension_of(name);
  if (ext.empty())
    ext = extension_for_type(part->content_type);
  auto& exts = cfg.supported_extensions;
  auto unsupported = [&](std::string detail) {
    out.error =
        http::response::error(415, "unsupported_media_type", std::move(detail));
    // The list as data too, for clients that offer a file picker filter.
    auto body = json::parse(out.error->body).as_object();
    json::array list;
    for (auto& x : exts)
      list.emplace_back(x);
    body["supported_extensions"] = std::move(list);
    out.error = http::response::json(415, body);
    return std::move(out);
  };
  if (ext.empty() || std::find(exts.begin(), exts.end(), ext) == exts.end()) {
    auto shown = extension_of(name);
    return unsupported(
        (shown.empty() ? "files without an extension"
                       : "'" + shown + "' files") +
        " are not supported; supported extensions: " + join(exts));
  }
  if (part->content.empty())
    return fail(400, "empty_file", "the file '" + name + "' is empty");
  // The content must be what the name promises (libmagic): a ".pdf" that is
  // a ZIP archive is refused now, not as a failed job later.
  if (auto kind = detect_kind("file" + ext, ""))
    if (auto why = content_mismatch(*kind, part->content))
      return unsupported("'" + name + "': " + *why);
  if (part->content.size() > cfg.max_file_bytes)
    return fail(413, "file_too_large",
                "the file has " + std::to_string(part->content.size()) +
                    " bytes; the limit is " +
                    std::to_string(cfg.max_file_bytes));
  auto declared = canonical_type(part->content_type);
  out.request.content_type =
      declared.empty() || media_type(declared) == "application/octet-stream"
          ? type_for_extension(ext)
          : declared;
  out.request.filename = std::move(name);
  out.request.trace_id = req.trace.value();
  // The part is a view into the body: cut the body down to it in place.
  auto offset = static_cast<size_t>(part->content.data() - req.body.data());
  auto length = part->content.size();
  out.request.content = std::move(req.body);
  out.request.content.erase(offset + length);
  out.request.content.erase(0, offset);
  return out;
}

} // namespace distiller::documents::detail
