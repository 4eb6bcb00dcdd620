#pragma once

/// A thought segmented once for the built-in agents (internal): the cleaned
/// text, its language hint, sentences, words, the words of each sentence
/// and its date mentions, plus small helpers the agents share.
///
/// Threads: plain data, built by `prepare` on the calling thread.
/// Failure: `prepare` never throws on bad input (text::clean repairs it);
/// ICU failures throw std::runtime_error.

#include <chrono>
#include <cmath>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "actors/thoughts/agents/dates.hpp"
#include "actors/thoughts/agents/detail/links.hpp"
#include "actors/thoughts/agents/text.hpp"

namespace distiller::thoughts::detail {

struct prepared_thought {
  /// text::clean of the submitted bytes; every offset below points into it.
  std::string text;
  /// text::language_hint ("en", "de", "ja", "und" …).
  std::string language;
  /// The day the thought was submitted (created_at), if it parses.
  std::optional<std::chrono::sys_days> reference;
  std::vector<text::sentence> sentences;
  std::vector<text::word> words;
  /// Per sentence, the half-open range [first, last) of its words.
  std::vector<std::pair<size_t, size_t>> sentence_words;
  std::vector<date_mention> dates;
  /// URLs, email addresses and handles.
  std::vector<link> links;
  /// Per word: inside a link.
  std::vector<bool> in_link;
};

prepared_thought prepare(std::string_view bytes, std::string_view created_at);

/// True if the sentence asks: it ends with "?" or "？" (closing quotes and
/// brackets after it allowed).
bool is_question(const text::sentence& s);

/// The text between words i and i+1 of `p` (empty for the last word).
std::string_view gap_after(const prepared_thought& p, size_t i);

/// True if the gap after word i holds only spaces and tabs (no line break,
/// no punctuation).
bool spaces_only_after(const prepared_thought& p, size_t i);

/// Words of `p` from index i (below `last`) are the space-separated,
/// case-folded words of `phrase`, separated by spaces or a hyphen only.
bool phrase_at(const prepared_thought& p, size_t i, size_t last,
               std::string_view phrase);

/// The index of the first word where `phrase` starts, if anywhere.
std::optional<size_t> find_phrase(const prepared_thought& p,
                                  std::string_view phrase);

/// `x` rounded to `digits` decimals, so results print the same everywhere.
inline double round_to(double x, int digits = 3) {
  const double scale = std::pow(10.0, digits);
  const double r = std::round(x * scale) / scale;
  return r == 0.0 ? 0.0 : r; // no "-0"
}

inline double clamp01(double x) {
  return x < 0 ? 0 : (x > 1 ? 1 : x);
}

} // namespace distiller::thoughts::detail
