#pragma once

/// Keyword extraction for the built-in agents (internal): RAKE (Rose et
/// al., "Automatic keyword extraction from individual documents", 2010).
/// Candidate phrases are the runs of content words between stop words,
/// numbers, date phrases and punctuation; a word scores degree/frequency
/// over the candidates, a phrase the sum of its words.
///
/// Threads: pure function. Failure: never throws on any prepared thought.

#include <cstddef>
#include <string>
#include <vector>

#include "actors/thoughts/agents/detail/prepared.hpp"

namespace distiller::thoughts::detail {

struct keyword {
  /// The phrase in lower case, as written at its first occurrence.
  std::string term;
  /// RAKE score divided by the best one: the first keyword scores 1.
  double score = 0;
  /// The phrase's words (case-folded lexemes), for overlap with sentences.
  std::vector<std::string> words;
  /// Occurrences of the phrase.
  size_t count = 0;
};

/// At most `max` keywords, best first (ties: more occurrences, then
/// earlier).
std::vector<keyword> extract_keywords(const prepared_thought& p, size_t max);

} // namespace distiller::thoughts::detail
