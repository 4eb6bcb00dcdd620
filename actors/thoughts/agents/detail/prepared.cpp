#include "actors/thoughts/agents/detail/prepared.hpp"

namespace distiller::thoughts::detail {

prepared_thought prepare(std::string_view bytes, std::string_view created_at) {
  prepared_thought p;
  p.text = text::clean(bytes);
  p.language = text::language_hint(p.text);
  p.reference = reference_day(created_at);
  p.sentences =
      text::sentences(p.text, p.language == "und" ? "en" : p.language);
  p.words = text::words(p.text);
  p.sentence_words.reserve(p.sentences.size());
  // Both lists are in text order, so one pass assigns words to sentences.
  size_t w = 0;
  for (const auto& s : p.sentences) {
    while (w < p.words.size() && p.words[w].end <= s.begin)
      ++w;
    const size_t first = w;
    while (w < p.words.size() && p.words[w].begin < s.end)
      ++w;
    p.sentence_words.emplace_back(first, w);
  }
  p.dates = find_dates(p.text, p.words, p.reference);
  p.links = find_links(p.text);
  p.in_link.reserve(p.words.size());
  for (const auto& word : p.words)
    p.in_link.push_back(overlaps(p.links, word.begin, word.end));
  return p;
}

bool is_question(const text::sentence& s) {
  std::string_view t = s.text;
  // Closing quotes and brackets may follow the mark: "Is it done?"
  for (;;) {
    if (t.ends_with("\"") || t.ends_with("'") || t.ends_with(")") ||
        t.ends_with("]"))
      t.remove_suffix(1);
    else if (t.ends_with("\u201d") || t.ends_with("\u2019") ||
             t.ends_with("\u00bb"))
      t.remove_suffix(t.ends_with("\u00bb") ? 2 : 3);
    else
      break;
  }
  return t.ends_with("?") || t.ends_with("\uff1f");
}

std::string_view gap_after(const prepared_thought& p, size_t i) {
  if (i + 1 >= p.words.size())
    return {};
  return std::string_view(p.text).substr(p.words[i].end,
                                         p.words[i + 1].begin - p.words[i].end);
}

bool spaces_only_after(const prepared_thought& p, size_t i) {
  if (i + 1 >= p.words.size())
    return false;
  for (char c : gap_after(p, i))
    if (c != ' ' && c != '\t')
      return false;
  return true;
}

bool phrase_at(const prepared_thought& p, size_t i, size_t last,
               std::string_view phrase) {
  size_t k = i;
  while (!phrase.empty()) {
    const size_t space = phrase.find(' ');
    const std::string_view word = phrase.substr(0, space);
    if (k >= last || p.words[k].folded != word ||
        (k > i && !spaces_only_after(p, k - 1) &&
         gap_after(p, k - 1) != "-")) // "est-ce que"
      return false;
    ++k;
    phrase = space == std::string_view::npos ? std::string_view{}
                                             : phrase.substr(space + 1);
  }
  return true;
}

std::optional<size_t> find_phrase(const prepared_thought& p,
                                  std::string_view phrase) {
  for (const auto& [first, last] : p.sentence_words)
    for (size_t i = first; i < last; ++i)
      if (phrase_at(p, i, last, phrase))
        return i;
  return std::nullopt;
}

} // namespace distiller::thoughts::detail
