#include "actors/thoughts/agents/text.hpp"

#include <cctype>
#include <climits>
#include <map>
#include <memory>
#include <stdexcept>
#include <utility>

#include <unicode/brkiter.h>
#include <unicode/filteredbrk.h>
#include <unicode/locid.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/ustring.h>
#include <unicode/utext.h>
#include <unicode/utf8.h>

#include "actors/thoughts/agents/detail/code_points.hpp"

namespace distiller::thoughts {

int32_t detail::next_code_point(std::string_view s, size_t& i) {
  UChar32 c;
  int32_t pos = static_cast<int32_t>(i);
  U8_NEXT(reinterpret_cast<const uint8_t*>(s.data()), pos,
          static_cast<int32_t>(s.size()), c);
  i = static_cast<size_t>(pos);
  return c;
}

namespace text {

using detail::next_code_point;

namespace {

void check(UErrorCode status, const char* what) {
  if (U_FAILURE(status))
    throw std::runtime_error(std::string("ICU ") + what +
                             " failed: " + u_errorName(status));
}

int32_t icu_length(std::string_view s) {
  if (s.size() >= static_cast<size_t>(INT32_MAX))
    throw std::runtime_error("text of 2 GiB or more is not supported");
  return static_cast<int32_t>(s.size());
}

icu::UnicodeString to_unicode(std::string_view utf8) {
  return icu::UnicodeString::fromUTF8(
      icu::StringPiece(utf8.data(), icu_length(utf8)));
}

std::string to_utf8(const icu::UnicodeString& s) {
  std::string out;
  s.toUTF8String(out);
  return out;
}

/// A UText over UTF-8 bytes: break iterators then report byte offsets.
class utf8_text {
 public:
  explicit utf8_text(std::string_view s) {
    UErrorCode status = U_ZERO_ERROR;
    // An empty view may have a null data pointer, which ICU refuses.
    utext_openUTF8(&ut_, s.empty() ? "" : s.data(), icu_length(s), &status);
    check(status, "utext_openUTF8");
  }
  ~utf8_text() { utext_close(&ut_); }
  utf8_text(const utf8_text&) = delete;
  utf8_text& operator=(const utf8_text&) = delete;
  UText* get() { return &ut_; }

 private:
  UText ut_ = UTEXT_INITIALIZER;
};

enum class breaks { character, word, line, sentence };

std::unique_ptr<icu::BreakIterator> make_sentence_iterator(const char* lang) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Locale locale(lang);
  std::unique_ptr<icu::BreakIterator> base(
      icu::BreakIterator::createSentenceInstance(locale, status));
  check(status, "createSentenceInstance");
  // The locale's CLDR suppressions ("Mr.", "e.g." …) plus titles CLDR
  // leaves out for some locales: a name after them is not a new sentence.
  std::unique_ptr<icu::FilteredBreakIteratorBuilder> builder(
      icu::FilteredBreakIteratorBuilder::createInstance(locale, status));
  if (U_FAILURE(status) || !builder)
    return base; // no suppression data: plain UAX #29 rules still work
  for (const char* title : {"Dr.", "Prof.", "Mr.", "Mrs.", "Ms.", "Mme.",
                            "Mlle.", "Hr.", "Fr.", "St.", "Mt.", "Jr.", "Sr."})
    builder->suppressBreakAfter(icu::UnicodeString(title), status);
  status = U_ZERO_ERROR;
  std::unique_ptr<icu::BreakIterator> filtered(
      builder->build(base.release(), status));
  check(status, "FilteredBreakIteratorBuilder::build");
  return filtered;
}

/// The thread's break iterator of `kind` (sentence iterators per language).
/// Building one loads rules and dictionaries, so each thread keeps its own
/// (break iterators are not thread-safe) for the rest of its life.
icu::BreakIterator& iterator(breaks kind, std::string_view language = {}) {
  thread_local std::map<std::string, std::unique_ptr<icu::BreakIterator>,
                        std::less<>>
      cache;
  std::string key(1, static_cast<char>('0' + static_cast<int>(kind)));
  if (kind == breaks::sentence)
    key.append(language);
  if (auto it = cache.find(key); it != cache.end())
    return *it->second;
  UErrorCode status = U_ZERO_ERROR;
  const icu::Locale root = icu::Locale::getRoot();
  std::unique_ptr<icu::BreakIterator> made;
  switch (kind) {
  case breaks::character:
    made.reset(icu::BreakIterator::createCharacterInstance(root, status));
    break;
  case breaks::word:
    made.reset(icu::BreakIterator::createWordInstance(root, status));
    break;
  case breaks::line:
    made.reset(icu::BreakIterator::createLineInstance(root, status));
    break;
  case breaks::sentence:
    made = make_sentence_iterator(std::string(language).c_str());
    break;
  }
  check(status, "createBreakIterator");
  if (!made)
    throw std::runtime_error("ICU returned no break iterator");
  return *cache.emplace(std::move(key), std::move(made)).first->second;
}

bool is_space(UChar32 c) {
  return u_isUWhiteSpace(c);
}

/// `s` with U+2019 (right single quotation mark) as "'".
std::string ascii_apostrophes(std::string s) {
  static constexpr std::string_view curly = "\u2019";
  if (s.find(curly) == std::string::npos)
    return s;
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    if (std::string_view(s).substr(i, curly.size()) == curly) {
      out.push_back('\'');
      i += curly.size();
    } else {
      out.push_back(s[i++]);
    }
  }
  return out;
}

/// Byte offset after `n` code points of `s` (or s.size()).
size_t offset_after(std::string_view s, size_t n) {
  size_t i = 0;
  for (size_t k = 0; k < n && i < s.size(); ++k)
    next_code_point(s, i);
  return i;
}

/// `s` without trailing white space and the characters of `extra`.
std::string_view trim_end(std::string_view s, std::string_view extra = {}) {
  while (!s.empty()) {
    const auto last = static_cast<unsigned char>(s.back());
    if (last < 0x80) {
      if (std::isspace(last) ||
          extra.find(static_cast<char>(last)) != std::string_view::npos) {
        s.remove_suffix(1);
        continue;
      }
      break;
    }
    // A multi-byte code point: find its start and test it.
    size_t start = s.size() - 1;
    while (start > 0 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80)
      --start;
    size_t i = start;
    if (!is_space(next_code_point(s, i)))
      break;
    s = s.substr(0, start);
  }
  return s;
}

} // namespace

// -- encoding and normalisation ----------------------------------------------

bool is_valid_utf8(std::string_view bytes) noexcept {
  if (bytes.size() >= static_cast<size_t>(INT32_MAX))
    return false;
  size_t i = 0;
  while (i < bytes.size()) {
    if (static_cast<unsigned char>(bytes[i]) < 0x80) {
      ++i; // ASCII fast path
      continue;
    }
    if (next_code_point(bytes, i) < 0)
      return false;
  }
  return true;
}

std::string repair_utf8(std::string_view bytes) {
  if (is_valid_utf8(bytes))
    return std::string(bytes);
  // fromUTF8 substitutes U+FFFD for each maximal ill-formed subsequence.
  return to_utf8(to_unicode(bytes));
}

std::string to_nfc(std::string_view utf8) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(status);
  check(status, "getNFCInstance");
  const icu::UnicodeString s = to_unicode(utf8);
  if (nfc->isNormalized(s, status) && U_SUCCESS(status))
    return std::string(utf8);
  status = U_ZERO_ERROR;
  icu::UnicodeString normalized = nfc->normalize(s, status);
  check(status, "NFC normalisation");
  return to_utf8(normalized);
}

std::string clean(std::string_view bytes) {
  const std::string valid = repair_utf8(bytes);
  std::string out;
  out.reserve(valid.size());
  size_t i = 0;
  while (i < valid.size()) {
    const size_t start = i;
    const UChar32 c = next_code_point(valid, i);
    if (c == '\r') {
      out.push_back('\n');
      if (i < valid.size() && valid[i] == '\n')
        ++i;
      continue;
    }
    if (c == '\t' || c == '\n') {
      out.push_back(static_cast<char>(c));
      continue;
    }
    if (u_iscntrl(c) || c == 0xFEFF)
      continue;
    out.append(valid, start, i - start);
  }
  return to_nfc(out);
}

// -- case --------------------------------------------------------------------

std::string fold_case(std::string_view utf8) {
  icu::UnicodeString s = to_unicode(utf8);
  return to_utf8(s.foldCase(U_FOLD_CASE_DEFAULT));
}

std::string to_lower(std::string_view utf8) {
  icu::UnicodeString s = to_unicode(utf8);
  return to_utf8(s.toLower(icu::Locale::getRoot()));
}

bool starts_uppercase(std::string_view utf8) {
  if (utf8.empty())
    return false;
  size_t i = 0;
  const UChar32 c = next_code_point(utf8, i);
  return c >= 0 && (u_isupper(c) || u_istitle(c));
}

std::string capitalize_first(std::string_view utf8) {
  if (utf8.empty())
    return {};
  size_t i = 0;
  const UChar32 c = next_code_point(utf8, i);
  if (c < 0)
    return std::string(utf8);
  // Title case of one code point; toTitle would also lower the rest.
  icu::UnicodeString titled(u_totitle(c));
  std::string out = to_utf8(titled);
  out.append(utf8.substr(i));
  return out;
}

// -- measuring and shortening ------------------------------------------------

size_t char_count(std::string_view utf8) {
  size_t n = 0;
  for (char ch : utf8)
    if ((static_cast<unsigned char>(ch) & 0xC0) != 0x80)
      ++n;
  return n;
}

std::string collapse_whitespace(std::string_view utf8) {
  std::string out;
  out.reserve(utf8.size());
  bool pending_space = false;
  size_t i = 0;
  while (i < utf8.size()) {
    const size_t start = i;
    const UChar32 c = next_code_point(utf8, i);
    if (c >= 0 && is_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space)
      out.push_back(' ');
    pending_space = false;
    out.append(utf8, start, i - start);
  }
  return out;
}

std::string shorten(std::string_view utf8, size_t max_chars) {
  if (char_count(utf8) <= max_chars)
    return std::string(utf8);
  static constexpr std::string_view ellipsis = "…";
  const size_t keep = max_chars > 1 ? max_chars - 1 : 0; // room for "…"
  const size_t limit = offset_after(utf8, keep);
  utf8_text ut(utf8);
  UErrorCode status = U_ZERO_ERROR;
  auto& lines = iterator(breaks::line);
  lines.setText(ut.get(), status);
  check(status, "BreakIterator::setText");
  int32_t cut = lines.isBoundary(static_cast<int32_t>(limit))
                    ? static_cast<int32_t>(limit)
                    : lines.preceding(static_cast<int32_t>(limit));
  std::string_view head;
  if (cut > 0)
    head = trim_end(utf8.substr(0, static_cast<size_t>(cut)), ",;:-");
  if (head.empty()) {
    // One long word: cut between graphemes so no accent or emoji breaks.
    auto& chars = iterator(breaks::character);
    status = U_ZERO_ERROR;
    chars.setText(ut.get(), status);
    check(status, "BreakIterator::setText");
    cut = chars.isBoundary(static_cast<int32_t>(limit))
              ? static_cast<int32_t>(limit)
              : chars.preceding(static_cast<int32_t>(limit));
    head = utf8.substr(0, cut > 0 ? static_cast<size_t>(cut) : 0);
  }
  std::string out(head);
  out.append(ellipsis);
  return out;
}

// -- segmentation ------------------------------------------------------------

std::vector<sentence> sentences(std::string_view utf8,
                                std::string_view language) {
  std::vector<sentence> out;
  if (utf8.empty())
    return out;
  utf8_text ut(utf8);
  UErrorCode status = U_ZERO_ERROR;
  auto& it = iterator(breaks::sentence, language.empty() ? "en" : language);
  it.setText(ut.get(), status);
  check(status, "BreakIterator::setText");
  int32_t begin = it.first();
  for (int32_t end = it.next(); end != icu::BreakIterator::DONE;
       begin = end, end = it.next()) {
    auto piece = utf8.substr(static_cast<size_t>(begin),
                             static_cast<size_t>(end - begin));
    // Leading white space: skip whole code points.
    size_t lead = 0;
    while (lead < piece.size()) {
      size_t i = lead;
      if (!is_space(next_code_point(piece, i)))
        break;
      lead = i;
    }
    piece = trim_end(piece.substr(lead));
    if (piece.empty())
      continue;
    const size_t b = static_cast<size_t>(begin) + lead;
    out.push_back({b, b + piece.size(), std::string(piece)});
  }
  return out;
}

std::vector<word> words(std::string_view utf8) {
  std::vector<word> out;
  if (utf8.empty())
    return out;
  utf8_text ut(utf8);
  UErrorCode status = U_ZERO_ERROR;
  auto& it = iterator(breaks::word);
  it.setText(ut.get(), status);
  check(status, "BreakIterator::setText");
  int32_t begin = it.first();
  for (int32_t end = it.next(); end != icu::BreakIterator::DONE;
       begin = end, end = it.next()) {
    const int32_t rule = it.getRuleStatus();
    word_kind kind;
    if (rule >= UBRK_WORD_NUMBER && rule < UBRK_WORD_NUMBER_LIMIT)
      kind = word_kind::number;
    else if (rule >= UBRK_WORD_LETTER && rule < UBRK_WORD_LETTER_LIMIT)
      kind = word_kind::letter;
    else if (rule >= UBRK_WORD_KANA && rule < UBRK_WORD_KANA_LIMIT)
      kind = word_kind::kana;
    else if (rule >= UBRK_WORD_IDEO && rule < UBRK_WORD_IDEO_LIMIT)
      kind = word_kind::ideographic;
    else
      continue; // white space, punctuation, symbols, emoji
    word w;
    w.begin = static_cast<size_t>(begin);
    w.end = static_cast<size_t>(end);
    w.text = std::string(utf8.substr(w.begin, w.end - w.begin));
    w.folded = ascii_apostrophes(fold_case(w.text));
    w.kind = kind;
    out.push_back(std::move(w));
  }
  return out;
}

} // namespace text
} // namespace distiller::thoughts
