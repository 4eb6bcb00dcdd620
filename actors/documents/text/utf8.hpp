#pragma once

/// UTF-8 helpers for the document pipeline's text handling: validation,
/// repair (invalid sequences become U+FFFD), code point iteration and
/// counting, boundary-safe cutting. Free functions on plain strings; other
/// encodings are ICU's job (normalize.hpp).
///
/// Threads: pure functions, safe to call from any thread.
/// Failure: never throws on bad input (except std::bad_alloc); malformed
/// bytes are reported (`decode`) or replaced (`sanitize_utf8`), never
/// trusted. Functions that say they expect valid UTF-8 stay memory-safe on
/// invalid input but may miscount.

#include <cstddef>
#include <string>
#include <string_view>

namespace distiller::documents::utf8 {

/// U+FFFD REPLACEMENT CHARACTER, the stand-in for every invalid sequence.
inline constexpr char32_t replacement = 0xFFFD;

/// One decoded code point: its value and how many bytes it took. An invalid
/// sequence decodes as `valid == false`, `cp == replacement`, and `length`
/// covers the maximal invalid prefix (at least 1), so a loop advancing by
/// `length` always terminates and replaces each bad subsequence once.
struct decoded {
  char32_t cp = replacement;
  size_t length = 1;
  bool valid = false;
};

/// Decodes the code point starting at byte `pos` (< s.size()). Rejects
/// overlong forms, surrogates and values above U+10FFFF.
decoded decode(std::string_view s, size_t pos) noexcept;

/// Appends the UTF-8 encoding of `cp` (surrogates and values above U+10FFFF
/// become U+FFFD).
void append(std::string& out, char32_t cp);

/// True if `s` is well-formed UTF-8.
bool is_valid(std::string_view s) noexcept;

/// `s` with every invalid sequence replaced by U+FFFD.
std::string sanitize(std::string_view s);

/// Number of code points in valid UTF-8 (bytes that are not continuation
/// bytes).
size_t count_code_points(std::string_view s) noexcept;

/// True if byte `pos` of `s` starts a code point (or is s.size()).
bool is_boundary(std::string_view s, size_t pos) noexcept;

/// The largest code point boundary <= `pos` (clamped to s.size()).
size_t floor_boundary(std::string_view s, size_t pos) noexcept;

/// Byte length of the first `n` code points of `s` (all of `s` if shorter).
size_t prefix_bytes(std::string_view s, size_t n) noexcept;

/// Length of a leading UTF-8 byte order mark (3) or 0.
size_t bom_length(std::string_view s) noexcept;

} // namespace distiller::documents::utf8
