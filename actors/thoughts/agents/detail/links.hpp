#pragma once

/// URLs, email addresses and @handles in a thought (internal). ICU's word
/// segmentation splits them into pieces, so they are found on the bytes
/// first; the agents then skip their words (no "example.com" keyword or
/// entity, no number inside a URL).
///
/// Threads: pure function. Failure: never throws.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace distiller::thoughts::detail {

struct link {
  size_t begin = 0; // byte offsets
  size_t end = 0;
  std::string text;
  /// "url", "email" or "handle".
  const char* type = "url";
};

/// The links of `text` in order: "http://", "https://" and "www." URLs up
/// to white space (trailing punctuation dropped), addresses like
/// "a.b@example.com" (outside URLs), and "@name" handles (1–30 letters,
/// digits or "_", after white space or at the start).
std::vector<link> find_links(std::string_view text);

/// True if [begin, end) overlaps one of `links`.
bool overlaps(const std::vector<link>& links, size_t begin, size_t end);

} // namespace distiller::thoughts::detail
