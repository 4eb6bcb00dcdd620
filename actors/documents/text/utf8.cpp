#include "actors/documents/text/utf8.hpp"

#include <array>

namespace distiller::documents::utf8 {

namespace {

bool is_continuation(unsigned char b) noexcept {
  return (b & 0xC0) == 0x80;
}

} // namespace

decoded decode(std::string_view s, size_t pos) noexcept {
  auto byte = [&](size_t i) {
    return static_cast<unsigned char>(s[i]);
  };
  const unsigned char b0 = byte(pos);
  if (b0 < 0x80)
    return {b0, 1, true};
  // The allowed range of the second byte depends on the lead byte; this is
  // what excludes overlong forms, surrogates and values above U+10FFFF
  // (Unicode table 3-7, "well-formed UTF-8 byte sequences").
  size_t need = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  char32_t cp = 0;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 1;
    cp = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 2;
    cp = b0 & 0x0F;
    if (b0 == 0xE0)
      lo = 0xA0;
    else if (b0 == 0xED)
      hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 3;
    cp = b0 & 0x07;
    if (b0 == 0xF0)
      lo = 0x90;
    else if (b0 == 0xF4)
      hi = 0x8F;
  } else {
    return {};
  }
  size_t i = 1;
  for (; i <= need; ++i) {
    if (pos + i >= s.size())
      return {replacement, i, false};
    const unsigned char b = byte(pos + i);
    if (i == 1 ? (b < lo || b > hi) : !is_continuation(b))
      return {replacement, i, false};
    cp = (cp << 6) | (b & 0x3F);
  }
  return {cp, need + 1, true};
}

void append(std::string& out, char32_t cp) {
  if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
    cp = replacement;
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool is_valid(std::string_view s) noexcept {
  for (size_t i = 0; i < s.size();) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    auto d = decode(s, i);
    if (!d.valid)
      return false;
    i += d.length;
  }
  return true;
}

std::string sanitize(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      out.push_back(s[i++]);
      continue;
    }
    auto d = decode(s, i);
    if (d.valid)
      out.append(s.substr(i, d.length));
    else
      append(out, replacement);
    i += d.length;
  }
  return out;
}

size_t count_code_points(std::string_view s) noexcept {
  size_t n = 0;
  for (char c : s)
    if (!is_continuation(static_cast<unsigned char>(c)))
      ++n;
  return n;
}

bool is_boundary(std::string_view s, size_t pos) noexcept {
  return pos >= s.size() ||
         !is_continuation(static_cast<unsigned char>(s[pos]));
}

size_t floor_boundary(std::string_view s, size_t pos) noexcept {
  if (pos >= s.size())
    return s.size();
  // A code point is at most 4 bytes, so on valid input this walks back at
  // most 3 bytes; on invalid input it stops after 3 anyway.
  for (size_t back = 0; back < 4 && pos > 0; ++back, --pos)
    if (is_boundary(s, pos))
      return pos;
  return pos;
}

size_t prefix_bytes(std::string_view s, size_t n) noexcept {
  size_t i = 0;
  for (; i < s.size(); ++i) {
    if (!is_continuation(static_cast<unsigned char>(s[i]))) {
      if (n == 0)
        return i;
      --n;
    }
  }
  return s.size();
}

size_t bom_length(std::string_view s) noexcept {
  return s.starts_with("\xEF\xBB\xBF") ? 3 : 0;
}

} // namespace distiller::documents::utf8
