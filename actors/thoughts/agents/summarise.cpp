// The summarise agent: an extractive summary (sentences ranked by
// TextRank-style centrality, keyword overlap and position), a title, and
// the headline facts of the earlier agents.

#include <algorithm>
#include <cctype>
#include <cmath>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/array.hpp>

#include "actors/thoughts/agents/builtin.hpp"
#include "actors/thoughts/agents/detail/agents.hpp"
#include "actors/thoughts/agents/detail/keywords.hpp"
#include "actors/thoughts/agents/detail/lexicon.hpp"

namespace distiller::thoughts::detail {

namespace {

namespace json = boost::json;

constexpr size_t max_title_chars = 60;
constexpr size_t max_summary_chars = 600;
/// Centrality is quadratic in sentences: later ones only get position and
/// keyword scores.
constexpr size_t max_graph_sentences = 200;
constexpr int pagerank_iterations = 30;
constexpr double damping = 0.85;

/// The sorted, distinct content lexemes of each sentence.
std::vector<std::vector<std::string>> content_words(const prepared_thought& p) {
  std::vector<std::vector<std::string>> out;
  out.reserve(p.sentences.size());
  for (const auto& [first, last] : p.sentence_words) {
    std::vector<std::string> words;
    for (size_t i = first; i < last; ++i) {
      const auto& w = p.words[i];
      if (w.kind == text::word_kind::number ||
          (w.kind == text::word_kind::letter && text::char_count(w.folded) < 2))
        continue;
      const std::string_view lex = lexeme(w.folded);
      if (is_stop_word(w.folded, p.language) || is_stop_word(lex, p.language))
        continue;
      words.emplace_back(lex);
    }
    std::sort(words.begin(), words.end());
    words.erase(std::unique(words.begin(), words.end()), words.end());
    out.push_back(std::move(words));
  }
  return out;
}

size_t overlap(const std::vector<std::string>& a,
               const std::vector<std::string>& b) {
  size_t n = 0;
  for (size_t i = 0, j = 0; i < a.size() && j < b.size();) {
    if (a[i] == b[j]) {
      ++n;
      ++i;
      ++j;
    } else if (a[i] < b[j]) {
      ++i;
    } else {
      ++j;
    }
  }
  return n;
}

/// PageRank over sentence similarity (Mihalcea & Tarau, TextRank, 2004):
/// shared words normalised by the log of the sentence lengths.
std::vector<double> centrality(const std::vector<std::vector<std::string>>& s) {
  const size_t n = std::min(s.size(), max_graph_sentences);
  std::vector<double> rank(s.size(), 0.0);
  if (n == 0)
    return rank;
  std::vector<std::vector<double>> sim(n, std::vector<double>(n, 0.0));
  std::vector<double> out_weight(n, 0.0);
  for (size_t i = 0; i < n; ++i)
    for (size_t j = i + 1; j < n; ++j) {
      const double norm =
          std::log(double(s[i].size()) + 1) + std::log(double(s[j].size()) + 1);
      const double w = norm > 0 ? double(overlap(s[i], s[j])) / norm : 0.0;
      sim[i][j] = sim[j][i] = w;
      out_weight[i] += w;
      out_weight[j] += w;
    }
  std::vector<double> r(n, 1.0 / double(n)), next(n);
  for (int it = 0; it < pagerank_iterations; ++it) {
    for (size_t i = 0; i < n; ++i) {
      double sum = 0;
      for (size_t j = 0; j < n; ++j)
        if (out_weight[j] > 0)
          sum += sim[j][i] / out_weight[j] * r[j];
      next[i] = (1 - damping) / double(n) + damping * sum;
    }
    r.swap(next);
  }
  std::copy(r.begin(), r.end(), rank.begin());
  return rank;
}

std::string tidy_sentence(std::string_view s) {
  return text::collapse_whitespace(s);
}

/// `s` without leading discourse words ("Hey, so …", "Also, …").
std::string_view without_openers(std::string_view s) {
  for (;;) {
    size_t n = 0;
    while (n < s.size() && std::isalpha(static_cast<unsigned char>(s[n])))
      ++n;
    std::string head(s.substr(0, n));
    for (char& c : head)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const bool opener =
        n > 0 &&
        (head == "hey" || head == "hi" || head == "so" || head == "ok" ||
         head == "okay" || head == "well" || head == "also" || head == "and" ||
         head == "but" || head == "btw" || head == "oh" || head == "hmm" ||
         head == "um" || head == "anyway");
    size_t rest = n;
    while (rest < s.size() && (s[rest] == ',' || s[rest] == ' '))
      ++rest;
    // Only a whole word followed by a comma or space, and never all of it.
    if (!opener || rest == n || rest >= s.size())
      return s;
    s.remove_prefix(rest);
  }
}

/// The sentence as a title: one line, no opener, no final full stop, at
/// most 60 characters.
std::string title_of(std::string_view sentence) {
  const std::string tidy = tidy_sentence(sentence);
  std::string t = text::capitalize_first(without_openers(tidy));
  for (std::string_view stop : {".", "。", "．"})
    if (t.ends_with(stop) && !t.ends_with("..")) {
      t.resize(t.size() - stop.size());
      break;
    }
  return text::shorten(t, max_title_chars);
}

bool ends_cjk(std::string_view s) {
  for (std::string_view stop : {"。", "！", "？"})
    if (s.ends_with(stop))
      return true;
  return false;
}

std::string string_or(const json::object& o, std::string_view key,
                      const char* fallback) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : fallback;
}

} // namespace

boost::json::object summarise(const prepared_thought& p,
                              const boost::json::object& classification,
                              const boost::json::object& value,
                              const boost::json::object& plan) {
  const size_t n = p.sentences.size();
  std::string title, summary;
  if (n > 0) {
    const auto words = content_words(p);
    const auto central = centrality(words);
    const auto keywords = extract_keywords(p, 8);
    std::vector<double> key_score(n, 0.0);
    for (size_t i = 0; i < n; ++i)
      for (const auto& k : keywords) {
        size_t hits = 0;
        for (const auto& w : k.words)
          hits += std::binary_search(words[i].begin(), words[i].end(), w);
        if (!k.words.empty())
          key_score[i] += k.score * double(hits) / double(k.words.size());
      }
    const double max_c = *std::max_element(central.begin(), central.end());
    const double max_k = *std::max_element(key_score.begin(), key_score.end());
    std::vector<double> score(n);
    for (size_t i = 0; i < n; ++i)
      score[i] = 0.45 * (max_c > 0 ? central[i] / max_c : 0.0) +
                 0.4 * (max_k > 0 ? key_score[i] / max_k : 0.0) +
                 0.15 / double(1 + i);
    std::vector<size_t> order(n);
    for (size_t i = 0; i < n; ++i)
      order[i] = i;
    // Best first; the earlier sentence wins a tie.
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return score[a] > score[b]; });
    // One sentence per three, at most three; a repeated sentence once.
    const size_t k = std::clamp<size_t>((n + 2) / 3, 1, 3);
    std::vector<size_t> chosen;
    std::vector<std::string> taken;
    for (size_t i : order) {
      if (chosen.size() == k)
        break;
      std::string s = tidy_sentence(p.sentences[i].text);
      if (std::find(taken.begin(), taken.end(), s) != taken.end())
        continue;
      taken.push_back(std::move(s));
      chosen.push_back(i);
    }
    std::sort(chosen.begin(), chosen.end());
    for (size_t i : chosen) {
      const std::string s = tidy_sentence(p.sentences[i].text);
      if (!summary.empty() && !ends_cjk(summary))
        summary.push_back(' ');
      summary += s;
    }
    summary = text::shorten(summary, max_summary_chars);
    title = title_of(p.sentences[order.front()].text);
  }
  int64_t action_count = 0;
  if (const auto* v = plan.if_contains("actions"); v && v->is_array())
    action_count = static_cast<int64_t>(v->get_array().size());
  json::object out;
  out["title"] = title;
  out["summary"] = summary;
  out["category"] = string_or(classification, "category", "reflection");
  out["priority"] = string_or(value, "priority", "low");
  out["action_count"] = action_count;
  return out;
}

} // namespace distiller::thoughts::detail

namespace distiller::thoughts {

boost::json::object summarise_thought(const agent_input& in) {
  const auto p = detail::prepare(in.text, in.created_at);
  return detail::summarise(p,
                           detail::earlier_result(agent_kind::classify, in, p),
                           detail::earlier_result(agent_kind::value, in, p),
                           detail::earlier_result(agent_kind::plan, in, p));
}

} // namespace distiller::thoughts
