#include "actors/documents/text/normalize.hpp"

#include <cctype>
#include <cmath>

#include "actors/documents/text/extract.hpp"
#include "actors/documents/text/utf8.hpp"

namespace distiller::documents {

namespace {

bool is_horizontal_space(char32_t cp) noexcept {
  return cp == ' ' || cp == '\t' || cp == 0x00A0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x202F || cp == 0x205F ||
         cp == 0x3000;
}

bool is_dropped(char32_t cp) noexcept {
  // C0/C1 controls that are not line structure, DEL, and the zero-width
  // no-break space (a BOM, at the start or stray inside).
  return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) || cp == 0xFEFF;
}

int percent(size_t part, size_t whole) {
  return static_cast<int>(std::lround(100.0 * static_cast<double>(part) /
                                      static_cast<double>(whole)));
}

} // namespace

std::string normalize_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t newlines = 0;        // line breaks since the last visible character
  bool pending_space = false; // horizontal space since then
  for (size_t i = 0; i < text.size();) {
    auto d = utf8::decode(text, i);
    const size_t start = i;
    i += d.length;
    const char32_t cp = d.cp; // U+FFFD when invalid
    if (cp == '\r') {
      if (i < text.size() && text[i] == '\n')
        ++i;
      ++newlines;
      continue;
    }
    if (cp == '\n' || cp == '\v' || cp == 0x2028) {
      ++newlines;
      continue;
    }
    if (cp == '\f' || cp == 0x2029) { // a page or paragraph break
      newlines += 2;
      continue;
    }
    if (is_horizontal_space(cp)) {
      pending_space = true;
      continue;
    }
    if (is_dropped(cp))
      continue;
    // A visible character: flush the whitespace before it, unless it is at
    // the start (trimming), and keep at most one blank line.
    if (!out.empty()) {
      if (newlines > 0)
        out.append(newlines >= 2 ? "\n\n" : "\n");
      else if (pending_space)
        out.push_back(' ');
    }
    newlines = 0;
    pending_space = false;
    if (d.valid)
      out.append(text.substr(start, d.length));
    else
      utf8::append(out, utf8::replacement);
  }
  return out;
}

bool is_latin1_charset(std::string_view charset) {
  std::string name;
  for (char c : charset)
    name.push_back(
        static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return name == "iso-8859-1" || name == "iso8859-1" || name == "latin1" ||
         name == "latin-1" || name == "windows-1252" || name == "cp1252" ||
         name == "us-ascii";
}

std::string decode_text_bytes(std::string_view bytes,
                              std::string_view charset) {
  std::string utf16;
  if (utf8::decode_utf16_with_bom(bytes, utf16))
    return utf16;
  bytes.remove_prefix(utf8::bom_length(bytes));
  if (bytes.empty())
    return {};
  size_t control = 0;
  size_t invalid = 0;
  for (size_t i = 0; i < bytes.size();) {
    const auto b = static_cast<unsigned char>(bytes[i]);
    if (b < 0x80) {
      if ((b < 0x20 && b != '\t' && b != '\n' && b != '\r' && b != '\f' &&
           b != '\v') ||
          b == 0x7F)
        ++control;
      ++i;
      continue;
    }
    auto d = utf8::decode(bytes, i);
    if (!d.valid)
      invalid += d.length;
    i += d.length;
  }
  // A declared single-byte charset explains the invalid bytes; valid UTF-8
  // under such a label was mislabelled and stays UTF-8.
  const bool latin1 = invalid > 0 && is_latin1_charset(charset);
  if (control * 10 > bytes.size())
    throw extract_error(
        "file is not text: " + std::to_string(percent(control, bytes.size())) +
        "% of bytes are control characters");
  if (latin1)
    return utf8::from_windows1252(bytes);
  if (invalid * 10 > bytes.size() * 3)
    throw extract_error(
        "file is not text: " + std::to_string(percent(invalid, bytes.size())) +
        "% of bytes are not valid UTF-8");
  return std::string(bytes);
}

} // namespace distiller::documents
