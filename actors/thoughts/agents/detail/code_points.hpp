#pragma once

/// UTF-8 decoding shared by text.cpp and text_language.cpp (internal).
///
/// Threads: a pure function. Failure: never throws.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace distiller::thoughts::detail {

/// The code point at byte `i` of `s` (ICU's U8_NEXT), with `i` moved past
/// it; a negative value for an ill-formed sequence (then `i` moves past the
/// bytes it spans). `i` must be below s.size().
int32_t next_code_point(std::string_view s, size_t& i);

} // namespace distiller::thoughts::detail
