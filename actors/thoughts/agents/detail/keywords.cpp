#include "actors/thoughts/agents/detail/keywords.hpp"

#include <algorithm>
#include <map>

#include "actors/thoughts/agents/detail/lexicon.hpp"

namespace distiller::thoughts::detail {

namespace {

/// Longer runs are rarely phrases (often a language without stop-word
/// list); RAKE then takes their words one by one.
constexpr size_t max_phrase_words = 4;

struct candidate {
  size_t first = 0; // word indexes, inclusive
  size_t last = 0;
};

/// Words that can be part of a keyword.
bool is_content(const prepared_thought& p, const text::word& w) {
  if (w.kind == text::word_kind::number)
    return false;
  const bool latin = w.kind == text::word_kind::letter;
  if (latin && text::char_count(w.folded) < 2)
    return false;
  if (std::any_of(w.folded.begin(), w.folded.end(),
                  [](char c) { return c >= '0' && c <= '9'; }))
    return false; // "12th", "3pm"
  return !is_stop_word(w.folded, p.language) &&
         !is_stop_word(lexeme(w.folded), p.language) &&
         !is_calendar_word(w.folded);
}

/// Words i and i+1 may stand in one phrase: only spaces, a hyphen or
/// nothing (CJK) between them.
bool joinable(const prepared_thought& p, size_t i) {
  const std::string_view g = gap_after(p, i);
  if (g.empty() || g == "-")
    return true;
  return std::all_of(g.begin(), g.end(),
                     [](char c) { return c == ' ' || c == '\t'; });
}

std::vector<candidate> candidates(const prepared_thought& p) {
  std::vector<bool> in_date(p.words.size(), false);
  {
    size_t d = 0;
    for (size_t i = 0; i < p.words.size(); ++i) {
      while (d < p.dates.size() && p.dates[d].end <= p.words[i].begin)
        ++d;
      in_date[i] = d < p.dates.size() &&
                   p.words[i].begin >= p.dates[d].phrase_begin &&
                   p.words[i].end <= p.dates[d].end;
    }
  }
  std::vector<candidate> out;
  auto flush = [&](size_t first, size_t end) {
    if (end <= first)
      return;
    if (end - first > max_phrase_words) {
      for (size_t i = first; i < end; ++i)
        out.push_back({i, i});
      return;
    }
    out.push_back({first, end - 1});
  };
  for (const auto& [first, last] : p.sentence_words) {
    size_t start = first;
    for (size_t i = first; i < last; ++i) {
      if (!is_content(p, p.words[i]) || in_date[i] || p.in_link[i]) {
        flush(start, i);
        start = i + 1;
        continue;
      }
      if (i + 1 < last && !joinable(p, i)) {
        flush(start, i + 1);
        start = i + 1;
      }
    }
    flush(start, last);
  }
  return out;
}

} // namespace

std::vector<keyword> extract_keywords(const prepared_thought& p, size_t max) {
  const auto cands = candidates(p);
  // Word statistics over all candidates (ordered maps: deterministic).
  std::map<std::string, double> frequency, degree;
  for (const auto& c : cands) {
    const double len = double(c.last - c.first + 1);
    for (size_t i = c.first; i <= c.last; ++i) {
      const std::string w(lexeme(p.words[i].folded));
      frequency[w] += 1;
      degree[w] += len;
    }
  }
  struct entry {
    keyword kw;
    double raw = 0;
    size_t position = 0;
  };
  std::map<std::string, entry> phrases;
  for (size_t n = 0; n < cands.size(); ++n) {
    const auto& c = cands[n];
    std::string key;
    std::vector<std::string> words;
    double score = 0;
    for (size_t i = c.first; i <= c.last; ++i) {
      std::string w(lexeme(p.words[i].folded));
      score += degree[w] / frequency[w];
      if (!key.empty())
        key.push_back(' ');
      key += w;
      words.push_back(std::move(w));
    }
    auto [it, fresh] = phrases.try_emplace(key);
    auto& e = it->second;
    ++e.kw.count;
    if (fresh) {
      const auto& text = p.text;
      e.kw.term = text::collapse_whitespace(
          text::to_lower(std::string_view(text).substr(
              p.words[c.first].begin,
              p.words[c.last].end - p.words[c.first].begin)));
      e.kw.words = std::move(words);
      e.raw = score;
      e.position = n;
    }
  }
  std::vector<entry> ranked;
  ranked.reserve(phrases.size());
  for (auto& [key, e] : phrases)
    ranked.push_back(std::move(e));
  std::sort(ranked.begin(), ranked.end(), [](const entry& a, const entry& b) {
    if (a.raw != b.raw)
      return a.raw > b.raw;
    if (a.kw.count != b.kw.count)
      return a.kw.count > b.kw.count;
    return a.position < b.position;
  });
  if (ranked.size() > max)
    ranked.resize(max);
  std::vector<keyword> out;
  out.reserve(ranked.size());
  const double best = ranked.empty() ? 1.0 : ranked.front().raw;
  for (auto& e : ranked) {
    e.kw.score = round_to(best > 0 ? e.raw / best : 0.0);
    out.push_back(std::move(e.kw));
  }
  return out;
}

} // namespace distiller::thoughts::detail
