// text.hpp: the script and language hints.

#include "actors/thoughts/agents/text.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <utility>

#include <unicode/uchar.h>
#include <unicode/uscript.h>

#include "actors/thoughts/agents/detail/code_points.hpp"

namespace distiller::thoughts::text {

using detail::next_code_point;

std::string script_hint(std::string_view utf8) {
  std::map<int, size_t> counts; // ordered: ties resolve the same way
  size_t kana = 0;
  size_t i = 0;
  while (i < utf8.size()) {
    const UChar32 c = next_code_point(utf8, i);
    if (c < 0 || !u_isalpha(c))
      continue;
    UErrorCode status = U_ZERO_ERROR;
    const UScriptCode script = uscript_getScript(c, &status);
    if (U_FAILURE(status) || script == USCRIPT_COMMON ||
        script == USCRIPT_INHERITED || script == USCRIPT_UNKNOWN)
      continue;
    if (script == USCRIPT_HIRAGANA || script == USCRIPT_KATAKANA)
      ++kana;
    ++counts[script];
  }
  if (counts.empty())
    return "Zyyy";
  int best = -1;
  size_t best_count = 0;
  for (const auto& [script, n] : counts) {
    if (n > best_count) {
      best = script;
      best_count = n;
    }
  }
  const bool cjk = best == USCRIPT_HAN || best == USCRIPT_HIRAGANA ||
                   best == USCRIPT_KATAKANA;
  if (cjk && kana > 0)
    return "Jpan";
  if (best == USCRIPT_HANGUL)
    return "Kore";
  return uscript_getShortName(static_cast<UScriptCode>(best));
}

std::string language_hint(std::string_view utf8) {
  const std::string script = script_hint(utf8);
  if (script == "Jpan")
    return "ja";
  if (script == "Hani")
    return "zh";
  if (script == "Kore")
    return "ko";
  if (script == "Cyrl")
    return "ru";
  if (script == "Grek")
    return "el";
  if (script == "Arab")
    return "ar";
  if (script == "Hebr")
    return "he";
  if (script != "Latn")
    return "und";
  // Function words that are frequent in one language and rare in the
  // others; counted over the words, best count wins, English on ties.
  struct profile {
    const char* language;
    std::array<std::string_view, 16> words;
  };
  static const std::array<profile, 4> profiles{{
      {"en",
       {"the", "and", "is", "to", "of", "i", "it", "you", "that", "this",
        "with", "for", "was", "my", "we", "what"}},
      {"de",
       {"der", "die", "das", "und", "ist", "ich", "nicht", "ein", "eine", "zu",
        "mit", "auf", "wir", "sie", "es", "auch"}},
      {"fr",
       {"le", "la", "les", "et", "est", "je", "pas", "un", "une", "des", "du",
        "nous", "vous", "pour", "que", "avec"}},
      {"es",
       {"el", "los", "las", "y", "es", "yo", "no", "una", "del", "por", "para",
        "que", "con", "pero", "muy", "como"}},
  }};
  std::array<size_t, 4> hits{};
  for (const auto& w : words(utf8)) {
    for (size_t p = 0; p < profiles.size(); ++p) {
      const auto& list = profiles[p].words;
      if (std::find(list.begin(), list.end(), w.folded) != list.end())
        ++hits[p];
    }
  }
  size_t best = 0;
  for (size_t p = 1; p < hits.size(); ++p)
    if (hits[p] > hits[best])
      best = p;
  if (hits[best] > 0)
    return profiles[best].language;
  // No function words: letters typical of one language decide.
  for (auto [letters, language] :
       std::array<std::pair<std::string_view, const char*>, 3>{
           {{"äöüß", "de"}, {"éèêàçœ", "fr"}, {"ñ¿¡", "es"}}}) {
    size_t j = 0;
    while (j < letters.size()) {
      const size_t start = j;
      next_code_point(letters, j);
      if (utf8.find(letters.substr(start, j - start)) != std::string_view::npos)
        return language;
    }
  }
  return "und";
}

} // namespace distiller::thoughts::text
