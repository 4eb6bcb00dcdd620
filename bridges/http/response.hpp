#pragma once

/// One HTTP response as a handler builds it: status, content type, body and
/// extra headers. The connection adds `Content-Length`, `Server: distiller`,
/// `x-trace-id` and `Connection` itself. Plain data, built and owned by the
/// handler on any thread, then moved into `responder::send`. A status outside
/// 100..999 is replaced by a 500 when written.
/// Every error body of the façade has the shape
/// `{"error": "<machine word>", "detail": "<sentence for a human>"}`.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/value.hpp>

namespace distiller::http {

struct response {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  /// Extra headers, written in this order (e.g. Allow, Retry-After).
  std::vector<std::pair<std::string, std::string>> headers;

  /// `v` serialized as the body, content type application/json.
  static response json(unsigned status, const boost::json::value& v);

  /// `{"error": error, "detail": detail}` with `status`. Bytes of either
  /// that are not well-formed UTF-8 (a quoted path or header) become U+FFFD,
  /// so the body is always valid JSON.
  static response error(unsigned status, std::string error, std::string detail);

  /// A text body (`text/plain; charset=utf-8` unless told otherwise).
  static response text(unsigned status, std::string body,
                       std::string content_type = "text/plain; charset=utf-8");

  /// Adds a header; returns *this for chaining.
  response& with_header(std::string name, std::string value);

  /// The value of an extra header (case-insensitive) or "".
  std::string header(std::string_view name) const;
};

} // namespace distiller::http
