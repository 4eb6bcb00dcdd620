#pragma once

/// URL helpers of the HTTP façade: splitting a request target into path and
/// query, percent-decoding, and decoding `?a=b&c=d` into a map.
/// Pure functions on strings; no allocation beyond their results; never throw
/// on bad input (malformed escapes are kept literally).

#include <map>
#include <string>
#include <string_view>

namespace distiller::http {

/// The parts of a request target ("/a/b?x=1#frag").
struct target_parts {
  /// The path as received (still percent-encoded), without query/fragment.
  std::string_view path;
  /// The raw query string without the leading '?', possibly empty.
  std::string_view query;
};

/// Splits a request target. An absolute-form target ("http://host/p?q") is
/// reduced to its path and query; an empty path becomes "/".
target_parts split_target(std::string_view target);

/// Decodes %XX escapes; with `plus_as_space` also '+' → ' ' (form encoding).
/// An invalid escape ("%zz", a trailing "%") is kept as it is.
std::string percent_decode(std::string_view text, bool plus_as_space = false);

/// Decodes "a=b&c=d" (form encoding: '+' is a space). A key without '=' maps
/// to ""; empty pairs are skipped; for a repeated key the first value wins.
std::map<std::string, std::string> parse_query(std::string_view query);

} // namespace distiller::http
