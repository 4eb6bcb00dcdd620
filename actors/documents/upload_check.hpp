#pragma once

/// What POST /upload accepts (document_routes.cpp): one multipart 'file'
/// part with a plain UTF-8 name, a supported extension, content that is
/// what the name says (libmagic), within the size limit. Private to
/// actors/documents.

#include <optional>
#include <string>
#include <string_view>

#include "actors/documents/document_routes.hpp"
#include "bridges/http/request.hpp"
#include "bridges/http/response.hpp"

namespace distiller::documents::detail {

/// `s` without leading and trailing white space.
std::string_view trim(std::string_view s);

struct upload_check {
  std::optional<http::response> error;
  upload_request request;
};

/// Validates the upload; on success moves the file's bytes out of
/// `req.body` (no copy of a 50 MiB body). On failure `error` is the answer:
/// 400 (invalid_multipart, missing_file, invalid_filename, empty_file), 413
/// (file_too_large) or 415 (unsupported_media_type, with the supported
/// extensions as data).
upload_check check_upload(http::request& req,
                          const document_routes_config& cfg);

/// What GET …/file answers as Content-Type: a stored type only when it is on
/// a short list a browser cannot run (plain text, Markdown shown as plain
/// text, PDF), else application/octet-stream — an uploaded HTML page is
/// never served as HTML from the node's origin.
std::string served_type(std::string_view stored);

} // namespace distiller::documents::detail
