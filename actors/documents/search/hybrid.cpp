#include "actors/documents/search/hybrid.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

#include "actors/documents/search/text_terms.hpp"

namespace distiller::documents::search {

// -- reciprocal rank fusion
// ----------------------------------------------------

std::vector<fused_hit> fuse(const std::vector<int64_t>& dense,
                            const std::vector<int64_t>& sparse, int k,
                            double dense_weight, double sparse_weight) {
  if (k < 1)
    throw std::invalid_argument("fuse: k must be >= 1, got " +
                                std::to_string(k));
  if (dense_weight < 0 || sparse_weight < 0)
    throw std::invalid_argument("fuse: weights must be >= 0");
  std::vector<fused_hit> hits;
  std::unordered_map<int64_t, size_t> slot;
  auto take = [&](const std::vector<int64_t>& ranking, bool is_dense) {
    int rank = 0;
    for (auto id : ranking) {
      ++rank;
      auto [it, fresh] = slot.try_emplace(id, hits.size());
      if (fresh)
        hits.push_back({id, 0, 0, 0});
      auto& hit = hits[it->second];
      int& own = is_dense ? hit.dense_rank : hit.sparse_rank;
      if (own != 0)
        continue; // repeated in this list: its best rank already counted
      own = rank;
      hit.score += (is_dense ? dense_weight : sparse_weight) / (k + rank);
    }
  };
  take(dense, true);
  take(sparse, false);
  auto best_rank = [](const fused_hit& h) {
    if (h.dense_rank == 0)
      return h.sparse_rank;
    if (h.sparse_rank == 0)
      return h.dense_rank;
    return std::min(h.dense_rank, h.sparse_rank);
  };
  auto dense_key = [](const fused_hit& h) {
    return h.dense_rank == 0 ? std::numeric_limits<int>::max() : h.dense_rank;
  };
  std::sort(hits.begin(), hits.end(),
            [&](const fused_hit& a, const fused_hit& b) {
              if (a.score != b.score)
                return a.score > b.score;
              if (best_rank(a) != best_rank(b))
                return best_rank(a) < best_rank(b);
              if (dense_key(a) != dense_key(b))
                return dense_key(a) < dense_key(b);
              return a.id < b.id;
            });
  return hits;
}

std::string passage_key(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool space = false;
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
        c == '\v') {
      space = !out.empty();
      continue;
    }
    if (space)
      out += ' ';
    space = false;
    out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return out;
}

// -- sentences
// -----------------------------------------------------------------

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
         c == '\v';
}

bool starts_sentence(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '"' ||
         c == '\'' || c == '(' || static_cast<unsigned char>(c) >= 0x80;
}

/// Trims and collapses white space; appends to `out` unless empty.
void emit(std::string_view raw, std::vector<std::string>& out) {
  std::string s;
  bool pending_space = false;
  for (char c : raw) {
    if (is_space(c)) {
      pending_space = !s.empty();
      continue;
    }
    if (pending_space)
      s.push_back(' ');
    pending_space = false;
    s.push_back(c);
  }
  if (!s.empty())
    out.push_back(std::move(s));
}

} // namespace

std::vector<std::string> split_sentences(std::string_view text) {
  std::vector<std::string> out;
  size_t start = 0;
  size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    // A blank line ends a sentence whatever came before it.
    if (c == '\n') {
      size_t j = i + 1;
      while (j < text.size() && is_space(text[j]) && text[j] != '\n')
        ++j;
      if (j < text.size() && text[j] == '\n') {
        emit(text.substr(start, i - start), out);
        start = i = j + 1;
        continue;
      }
    }
    if (c == '.' || c == '!' || c == '?') {
      size_t end = i + 1;
      // Closing quotes and brackets belong to the sentence they end.
      while (end < text.size() &&
             (text[end] == '"' || text[end] == '\'' || text[end] == ')'))
        ++end;
      size_t j = end;
      while (j < text.size() && is_space(text[j]))
        ++j;
      if (j == text.size() || (j > end && starts_sentence(text[j]))) {
        emit(text.substr(start, end - start), out);
        start = i = j;
        continue;
      }
    }
    ++i;
  }
  if (start < text.size())
    emit(text.substr(start), out);
  return out;
}

// -- answers
// -------------------------------------------------------------------

namespace {

struct candidate {
  size_t hit = 0;      // rank of its hit, 0-based
  size_t position = 0; // within the hit
  std::string text;
  std::set<std::string> terms;
  double score = 0;
};

std::string source_of(const source_hit& hit) {
  if (!hit.filename.empty())
    return hit.filename;
  return hit.chunk_id;
}

} // namespace

std::string extract_answer(const std::string& question,
                           const std::vector<source_hit>& hits,
                           size_t max_sentences) {
  if (max_sentences == 0)
    throw std::invalid_argument("extract_answer: max_sentences must be > 0");
  if (hits.empty())
    return std::string{no_documents_answer};
  auto words = content_terms(question);
  std::set<std::string> wanted{words.begin(), words.end()};

  std::vector<candidate> candidates;
  std::unordered_set<std::string> seen; // overlapping chunks repeat sentences
  for (size_t h = 0; h < hits.size(); ++h) {
    size_t position = 0;
    for (auto& sentence : split_sentences(hits[h].text)) {
      if (!seen.insert(sentence).second)
        continue;
      candidate c;
      c.hit = h;
      c.position = position++;
      for (auto& term : content_terms(sentence))
        if (wanted.contains(term))
          c.terms.insert(std::move(term));
      c.text = std::move(sentence);
      candidates.push_back(std::move(c));
    }
  }
  if (candidates.empty())
    return std::string{no_documents_answer};

  std::map<std::string, size_t> df;
  for (const auto& c : candidates)
    for (const auto& term : c.terms)
      ++df[term];
  auto n = static_cast<double>(candidates.size());
  for (auto& c : candidates) {
    double sum = 0;
    for (const auto& term : c.terms)
      sum += std::log(1.0 + n / static_cast<double>(df[term]));
    c.score = sum / (1.0 + 0.15 * static_cast<double>(c.hit));
  }

  std::vector<const candidate*> ranked;
  for (const auto& c : candidates)
    if (c.score > 0)
      ranked.push_back(&c);
  // Best first; ties keep reading order (stable sort over reading order).
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const candidate* a, const candidate* b) {
                     return a->score > b->score;
                   });
  if (ranked.size() > max_sentences)
    ranked.resize(max_sentences);
  if (ranked.empty())
    ranked.push_back(&candidates.front());
  std::sort(
      ranked.begin(), ranked.end(), [](const candidate* a, const candidate* b) {
        return a->hit != b->hit ? a->hit < b->hit : a->position < b->position;
      });

  std::string answer;
  for (size_t i = 0; i < ranked.size(); ++i) {
    if (!answer.empty())
      answer += ' ';
    answer += ranked[i]->text;
    bool last_of_run =
        i + 1 == ranked.size() ||
        source_of(hits[ranked[i + 1]->hit]) != source_of(hits[ranked[i]->hit]);
    if (last_of_run)
      answer += " [source: " + source_of(hits[ranked[i]->hit]) + "]";
  }
  return answer;
}

} // namespace distiller::documents::search
