#pragma once

/// Unicode text utilities of the thought agents, all backed by ICU 72:
/// repairing invalid UTF-8, NFC normalisation, sentence and word
/// segmentation (icu::BreakIterator), case folding, shortening at a word
/// boundary and a rough script/language hint. The agents run `clean` on a
/// thought's bytes first and work on its result only.
///
/// Threads: pure functions, safe to call from any thread; break iterators
/// are built once per thread and locale and kept in a thread-local cache.
/// Ownership: results are owned copies; offsets are byte offsets into the
/// argument (which must be valid UTF-8 except where noted).
/// Failure: bad input never throws (any bytes go through `clean`). ICU
/// failures (out of memory, missing data) and inputs of 2 GiB or more throw
/// std::runtime_error, which the agents report as a retryable agent_error.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace distiller::thoughts::text {

// -- encoding and normalisation ----------------------------------------------

/// True if `bytes` is well-formed UTF-8 (no overlongs, surrogates or code
/// points above U+10FFFF).
bool is_valid_utf8(std::string_view bytes) noexcept;

/// `bytes` as valid UTF-8: every ill-formed sequence becomes U+FFFD (ICU's
/// substitution, one per maximal ill-formed subsequence). Any bytes.
std::string repair_utf8(std::string_view bytes);

/// The NFC form of valid UTF-8 text.
std::string to_nfc(std::string_view utf8);

/// What every agent runs first, on any bytes: `repair_utf8`, CRLF and lone
/// CR become LF, other control characters (C0 except tab and LF, C1, U+FEFF)
/// are dropped — PostgreSQL's jsonb refuses U+0000 — then `to_nfc`.
std::string clean(std::string_view bytes);

// -- case --------------------------------------------------------------------

/// Unicode default case folding ("Straße" → "strasse"): for comparisons.
std::string fold_case(std::string_view utf8);

/// Lower case in the root locale: for display ("Straße" → "straße").
std::string to_lower(std::string_view utf8);

/// True if the first code point is an upper-case or title-case letter.
bool starts_uppercase(std::string_view utf8);

/// `utf8` with its first code point in title case.
std::string capitalize_first(std::string_view utf8);

// -- measuring and shortening ------------------------------------------------

/// Number of code points.
size_t char_count(std::string_view utf8);

/// Runs of Unicode white space become one space; leading and trailing white
/// space is removed.
std::string collapse_whitespace(std::string_view utf8);

/// `utf8` if it has at most `max_chars` code points; otherwise its longest
/// prefix ending at a line-break opportunity (ICU line instance, so words
/// stay whole in any script) that fits with a final "…", trailing spaces
/// and ",;:-" removed before the "…". A first word longer than the limit is
/// cut at a grapheme boundary. The result has at most `max_chars` code
/// points (precondition: max_chars >= 2).
std::string shorten(std::string_view utf8, size_t max_chars);

// -- segmentation ------------------------------------------------------------

struct sentence {
  /// Byte offsets of the trimmed sentence in the segmented text.
  size_t begin = 0;
  size_t end = 0;
  /// The sentence without leading and trailing white space.
  std::string text;
};

/// The sentences of `utf8` (ICU sentence instance for `language`, with the
/// locale's abbreviation suppressions and a few extra titles such as "Dr."):
/// abbreviations, decimals, quotes and line breaks are handled as UAX #29
/// and CLDR say. Sentences that are only white space are left out.
std::vector<sentence> sentences(std::string_view utf8,
                                std::string_view language = "en");

enum class word_kind { letter, number, kana, ideographic };

struct word {
  size_t begin = 0;
  size_t end = 0;
  /// As written.
  std::string text;
  /// `fold_case(text)` with U+2019 written as an ASCII apostrophe, so
  /// "Don’t" and "don't" compare equal.
  std::string folded;
  word_kind kind = word_kind::letter;
};

/// The words of `utf8` (ICU word instance): letters, numbers ("3.5",
/// "1,000"), kana and ideographs (dictionary segmentation for Japanese and
/// Chinese); white space, punctuation, symbols and emoji are skipped.
std::vector<word> words(std::string_view utf8);

// -- script and language -----------------------------------------------------

/// The dominant script of the letters, as an ISO 15924 code: "Latn",
/// "Cyrl", "Grek", "Arab", "Hebr", "Hani", "Jpan" (kana, or kana and Han),
/// "Kore" (Hangul), …; "Zyyy" when there are no letters.
std::string script_hint(std::string_view utf8);

/// A guess at the language, good enough to pick stop words and segmentation
/// rules: "ja", "zh", "ko", "ru", "el", "ar", "he" from the script; for
/// Latin script "en", "de", "fr" or "es" from the most frequent function
/// words (then letters such as ß, é, ñ); "und" when unknown.
std::string language_hint(std::string_view utf8);

} // namespace distiller::thoughts::text
