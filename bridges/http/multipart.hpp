#pragma once

/// A multipart/form-data parser (RFC 7578 on RFC 2046) for request bodies the
/// HTTP façade has already read whole.
///
/// `parse_multipart(content_type, body)` takes the boundary from the
/// Content-Type header (quoted or not) and splits the body into parts with
/// their headers, the field name and file name from Content-Disposition
/// (`filename*=UTF-8''…` wins over `filename=`) and the part's Content-Type.
/// It is lenient where clients differ: a preamble and an epilogue are
/// skipped, bare LF line ends are accepted, transport padding after a
/// boundary is ignored, and text that starts like a boundary but continues
/// with other characters is content. Part contents are byte-exact (CR, LF and
/// NUL included).
///
/// Threads: pure functions on their arguments. Ownership: a part's `content`
/// is a view into the body passed in and is valid while that body lives; the
/// other fields are owned strings.
/// Failure: a body that is not well-formed multipart throws
/// `multipart_error` with a sentence naming the problem (no boundary, body
/// does not start with the boundary, unterminated headers or part, missing
/// final boundary, too many parts).

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace distiller::http {

class multipart_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// One part of a multipart body.
struct multipart_part {
  /// Header fields in order, names lower-cased, values trimmed.
  std::vector<std::pair<std::string, std::string>> headers;
  /// The `name` parameter of Content-Disposition ("" when absent).
  std::string name;
  /// The file name as sent (decoded from `filename*` when present); nullopt
  /// when the part has no file name parameter.
  std::optional<std::string> filename;
  /// The part's Content-Type ("" when absent).
  std::string content_type;
  /// The part's bytes (a view into the parsed body).
  std::string_view content;

  /// The value of header `name` (case-insensitive) or "".
  std::string header(std::string_view name) const;
};

struct multipart_limits {
  /// More parts than this throw (a guard against bodies of empty parts).
  size_t max_parts = 256;
  /// Largest header block of one part.
  size_t max_header_bytes = 16 * 1024;
};

/// A parsed body: its parts in order.
struct multipart_form {
  std::vector<multipart_part> parts;

  /// The first part whose field name is `name`, or nullptr.
  const multipart_part* find(std::string_view name) const;
};

/// The boundary of a `multipart/form-data` Content-Type. Throws
/// multipart_error when the type is not multipart/form-data or the boundary
/// parameter is missing or malformed (empty, longer than 70 characters).
std::string multipart_boundary(std::string_view content_type);

/// Splits `body` at `boundary` (without the leading "--").
multipart_form parse_multipart_body(std::string_view body,
                                    std::string_view boundary,
                                    const multipart_limits& limits = {});

/// `multipart_boundary` then `parse_multipart_body`.
multipart_form parse_multipart(std::string_view content_type,
                               std::string_view body,
                               const multipart_limits& limits = {});

// -- header parameters (exposed for tests and other parsers) -----------------

/// One header value split into its leading value and `;` parameters:
/// `form-data; name="a"; filename*=UTF-8''x` → ("form-data",
/// {("name","a"), ("filename*","UTF-8''x")}). Parameter names are
/// lower-cased; quoted strings are unquoted (`\"` and `\\` unescaped, other
/// backslashes kept, as browsers send Windows paths unescaped).
struct header_value {
  std::string value;
  std::vector<std::pair<std::string, std::string>> params;

  /// The parameter's value, or nullopt when absent.
  std::optional<std::string> param(std::string_view name) const;
};

header_value parse_header_value(std::string_view text);

/// Decodes an RFC 8187 extended value (`UTF-8''a%20b`, `iso-8859-1'en'%E9`)
/// to UTF-8; nullopt when malformed or the charset is not UTF-8 or
/// ISO-8859-1.
std::optional<std::string> decode_ext_value(std::string_view text);

} // namespace distiller::http
