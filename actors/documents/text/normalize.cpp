#include "actors/documents/text/normalize.hpp"

#include <algorithm>
#include <cctype>
#include <climits>
#include <cmath>
#include <memory>
#include <optional>

#include <unicode/bytestream.h>
#include <unicode/normalizer2.h>
#include <unicode/ucnv.h>
#include <unicode/ucsdet.h>
#include <unicode/unistr.h>

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

bool is_control(char32_t cp) noexcept {
  return (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r' && cp != '\f' &&
          cp != '\v') ||
         cp == 0x7F;
}

int percent(size_t part, size_t whole) {
  return static_cast<int>(std::lround(100.0 * static_cast<double>(part) /
                                      static_cast<double>(whole)));
}

/// Throws when more than 10 % of `units` are control characters.
void check_controls(size_t controls, size_t units) {
  if (units > 0 && controls * 10 > units)
    throw extract_error(
        "file is not text: " + std::to_string(percent(controls, units)) +
        "% of bytes are control characters");
}

size_t count_control_bytes(std::string_view bytes) {
  return static_cast<size_t>(
      std::count_if(bytes.begin(), bytes.end(), [](char c) {
        return is_control(static_cast<unsigned char>(c));
      }));
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool is_utf8_label(std::string_view charset) {
  auto c = lower(charset);
  return c == "utf-8" || c == "utf8" || c == "us-ascii" || c == "ascii";
}

/// WHATWG's rule, which every browser follows: a page labelled Latin-1 or
/// ASCII is decoded as windows-1252 (its superset with “ ” – … in
/// 0x80–0x9F, where Latin-1 has only control characters).
std::string effective_charset(std::string_view charset) {
  auto c = lower(charset);
  if (c == "iso-8859-1" || c == "iso8859-1" || c == "latin1" ||
      c == "latin-1" || c == "l1" || c == "cp1252" || c == "us-ascii" ||
      c == "ascii" || c == "iso_8859-1")
    return "windows-1252";
  return std::string(charset);
}

bool is_wide(std::string_view charset) {
  auto c = lower(charset);
  return c.rfind("utf-16", 0) == 0 || c.rfind("utf-32", 0) == 0 ||
         c.rfind("utf16", 0) == 0 || c.rfind("utf32", 0) == 0 ||
         c.rfind("ucs-2", 0) == 0;
}

using converter_ptr = std::unique_ptr<UConverter, decltype(&ucnv_close)>;

/// `bytes` in `charset` as UTF-8; nullopt when ICU does not know the name.
/// Unmappable bytes become U+FFFD (or U+001A, which normalisation drops).
std::optional<std::string> convert(std::string_view bytes,
                                   const std::string& charset) {
  UErrorCode err = U_ZERO_ERROR;
  converter_ptr cnv(ucnv_open(charset.c_str(), &err), ucnv_close);
  if (U_FAILURE(err) || !cnv)
    return std::nullopt;
  if (bytes.size() > static_cast<size_t>(INT32_MAX / 2))
    throw extract_error("text file too large to decode: " +
                        std::to_string(bytes.size()) + " bytes");
  icu::UnicodeString u(bytes.data(), static_cast<int32_t>(bytes.size()),
                       cnv.get(), err);
  if (U_FAILURE(err))
    return std::nullopt;
  std::string out;
  u.toUTF8String(out);
  return out;
}

struct detection {
  std::string charset;
  int confidence = 0;
};

/// ICU's best guess for `bytes` (it reads at most the first 256 KiB).
detection detect(std::string_view bytes, std::string_view declared) {
  UErrorCode err = U_ZERO_ERROR;
  std::unique_ptr<UCharsetDetector, decltype(&ucsdet_close)> det(
      ucsdet_open(&err), ucsdet_close);
  if (U_FAILURE(err))
    return {};
  const auto n =
      static_cast<int32_t>(std::min<size_t>(bytes.size(), 256 << 10));
  ucsdet_setText(det.get(), bytes.data(), n, &err);
  std::string decl(declared);
  if (!decl.empty())
    ucsdet_setDeclaredEncoding(det.get(), decl.data(),
                               static_cast<int32_t>(decl.size()), &err);
  const UCharsetMatch* match = ucsdet_detect(det.get(), &err);
  if (U_FAILURE(err) || !match)
    return {};
  const char* name = ucsdet_getName(match, &err);
  const int confidence = ucsdet_getConfidence(match, &err);
  if (U_FAILURE(err) || !name)
    return {};
  return {name, confidence};
}

/// The control characters among the code points of valid UTF-8 `s`.
void check_decoded(std::string_view s) {
  size_t controls = 0;
  size_t count = 0;
  for (size_t i = 0; i < s.size();) {
    auto d = utf8::decode(s, i);
    i += d.length;
    ++count;
    if (is_control(d.cp))
      ++controls;
  }
  check_controls(controls, count);
}

struct utf8_census {
  size_t invalid = 0;   // bytes in invalid sequences
  size_t multibyte = 0; // valid sequences of two bytes or more
};

utf8_census census(std::string_view bytes) {
  utf8_census c;
  for (size_t i = 0; i < bytes.size();) {
    if (static_cast<unsigned char>(bytes[i]) < 0x80) {
      ++i;
      continue;
    }
    auto d = utf8::decode(bytes, i);
    if (d.valid)
      ++c.multibyte;
    else
      c.invalid += d.length;
    i += d.length;
  }
  return c;
}

/// NFC of valid UTF-8 `s`, in place; `s` unchanged if ICU fails.
void to_nfc(std::string& s) {
  UErrorCode err = U_ZERO_ERROR;
  const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(err);
  if (U_FAILURE(err) || !nfc || s.size() > static_cast<size_t>(INT32_MAX))
    return;
  const icu::StringPiece piece(s.data(), static_cast<int32_t>(s.size()));
  if (nfc->isNormalizedUTF8(piece, err) || U_FAILURE(err))
    return;
  err = U_ZERO_ERROR;
  std::string out;
  out.reserve(s.size());
  icu::StringByteSink<std::string> sink(&out);
  nfc->normalizeUTF8(0, piece, sink, nullptr, err);
  if (U_SUCCESS(err))
    s = std::move(out);
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
  to_nfc(out);
  return out;
}

std::string decode_text_bytes(std::string_view bytes,
                              std::string_view charset) {
  if (bytes.empty())
    return {};
  // A byte order mark is the strongest statement a file can make.
  {
    UErrorCode err = U_ZERO_ERROR;
    int32_t bom = 0;
    const char* name = ucnv_detectUnicodeSignature(
        bytes.data(), static_cast<int32_t>(std::min<size_t>(bytes.size(), 4)),
        &bom, &err);
    if (U_SUCCESS(err) && name && bom > 0) {
      const std::string enc = name;
      if (enc == "UTF-8") {
        bytes.remove_prefix(static_cast<size_t>(bom));
        check_controls(count_control_bytes(bytes), bytes.size());
        return std::string(bytes);
      }
      if (auto out = convert(bytes.substr(static_cast<size_t>(bom)), enc)) {
        check_decoded(*out);
        return std::move(*out);
      }
    }
  }
  const bool valid = utf8::is_valid(bytes);
  const std::string declared = effective_charset(charset);
  if (!declared.empty() && !is_utf8_label(declared) &&
      (!valid || is_wide(declared))) {
    if (auto out = convert(bytes, declared)) {
      check_decoded(*out);
      return std::move(*out);
    }
  }
  const size_t controls = count_control_bytes(bytes);
  if (controls * 10 > bytes.size()) {
    // Many NULs may be UTF-16 or UTF-32 without a mark; anything else with
    // that many control bytes is binary.
    auto guess = detect(bytes, {});
    if (guess.confidence >= 50 && is_wide(guess.charset))
      if (auto out = convert(bytes, guess.charset)) {
        try {
          check_decoded(*out);
          return std::move(*out);
        } catch (const extract_error&) {
          // Not text in that encoding either: judged by its bytes below.
        }
      }
    check_controls(controls, bytes.size());
  }
  if (valid)
    return std::string(bytes);
  // Valid multi-byte sequences do not happen by chance in a legacy 8-bit
  // text: with them, and no more than 30 % of the bytes bad, this is UTF-8
  // with some damage, repaired by normalize_text.
  auto c = census(bytes);
  if (c.multibyte > 0 && c.invalid * 10 <= bytes.size() * 3)
    return std::string(bytes);
  auto guess = detect(bytes, declared);
  std::string name = guess.confidence >= 10 && !guess.charset.empty() &&
                             !is_utf8_label(guess.charset)
                         ? guess.charset
                         : "windows-1252";
  // ICU names plain Latin-1 "ISO-8859-1"; the Windows superset decodes the
  // same letters and also 0x80–0x9F (curly quotes, dashes) as browsers do.
  if (name == "ISO-8859-1")
    name = "windows-1252";
  if (auto out = convert(bytes, name)) {
    check_decoded(*out);
    return std::move(*out);
  }
  return std::string(bytes);
}

} // namespace distiller::documents
