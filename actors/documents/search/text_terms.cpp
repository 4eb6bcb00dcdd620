#include "actors/documents/search/text_terms.hpp"

#include <algorithm>
#include <iterator>

namespace distiller::documents::search {

namespace {

// Function words that say nothing about a topic, including the question
// words a query starts with; sorted, for binary search.
constexpr std::string_view stop_words[] = {
    "a",      "about",   "above",  "after",   "again",   "against", "all",
    "also",   "am",      "an",     "and",     "any",     "are",     "as",
    "at",     "be",      "became", "because", "been",    "before",  "being",
    "below",  "between", "both",   "but",     "by",      "can",     "could",
    "did",    "do",      "does",   "doing",   "done",    "down",    "during",
    "each",   "either",  "else",   "ever",    "every",   "few",     "for",
    "from",   "further", "get",    "gets",    "got",     "had",     "has",
    "have",   "having",  "he",     "her",     "here",    "hers",    "herself",
    "him",    "himself", "his",    "how",     "however", "i",       "if",
    "in",     "into",    "is",     "it",      "its",     "itself",  "just",
    "let",    "like",    "made",   "make",    "makes",   "many",    "may",
    "me",     "might",   "more",   "most",    "much",    "must",    "my",
    "myself", "neither", "no",     "nor",     "not",     "now",     "of",
    "off",    "often",   "on",     "once",    "one",     "only",    "or",
    "other",  "others",  "our",    "ours",    "out",     "over",    "own",
    "per",    "quite",   "rather", "same",    "shall",   "she",     "should",
    "since",  "so",      "some",   "such",    "than",    "that",    "the",
    "their",  "theirs",  "them",   "then",    "there",   "these",   "they",
    "this",   "those",   "though", "through", "thus",    "to",      "too",
    "under",  "until",   "up",     "upon",    "us",      "used",    "uses",
    "using",  "very",    "was",    "we",      "were",    "what",    "when",
    "where",  "whether", "which",  "while",   "who",     "whom",    "whose",
    "why",    "will",    "with",   "within",  "without", "would",   "yet",
    "you",    "your",    "yours",  "yourself"};
static_assert(std::is_sorted(std::begin(stop_words), std::end(stop_words)));

bool is_word_byte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c >= 0x80;
}

char lower(unsigned char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a')
                              : static_cast<char>(c);
}

bool is_vowel(char c) {
  return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u' || c == 'y';
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.substr(s.size() - suffix.size()) == suffix;
}

bool has_vowel(std::string_view s) {
  return std::any_of(s.begin(), s.end(), is_vowel);
}

/// Removes "ing"/"ed" when a stem of three letters with a vowel remains.
void strip_verb_ending(std::string& w) {
  for (std::string_view suffix :
       {std::string_view{"ing"}, std::string_view{"ed"}}) {
    if (!ends_with(w, suffix) || w.size() < suffix.size() + 3)
      continue;
    auto base = std::string_view{w}.substr(0, w.size() - suffix.size());
    if (!has_vowel(base))
      continue;
    w.resize(base.size());
    // "running" → "runn" → "run"; but keep "ll", "ss", "zz" ("falling").
    auto n = w.size();
    if (n >= 4 && w[n - 1] == w[n - 2] && !is_vowel(w[n - 1]) &&
        w[n - 1] != 'l' && w[n - 1] != 's' && w[n - 1] != 'z')
      w.pop_back();
    return;
  }
}

} // namespace

std::vector<std::string> tokenize(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  for (size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (is_word_byte(c)) {
      cur.push_back(lower(c));
      continue;
    }
    // An apostrophe inside a word joins its halves ("don't", "Kafka's").
    bool apostrophe = c == '\'' && !cur.empty() && i + 1 < text.size() &&
                      is_word_byte(static_cast<unsigned char>(text[i + 1]));
    if (apostrophe)
      continue;
    if (!cur.empty()) {
      out.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty())
    out.push_back(std::move(cur));
  return out;
}

bool is_stop_word(std::string_view token) {
  return std::binary_search(std::begin(stop_words), std::end(stop_words),
                            token);
}

std::string stem(std::string_view token) {
  std::string w{token};
  if (w.size() < 4)
    return w;
  if (std::any_of(w.begin(), w.end(),
                  [](char c) { return static_cast<unsigned char>(c) >= 0x80; }))
    return w;
  // Plurals and third person.
  if (ends_with(w, "ies") && w.size() > 4) {
    w.resize(w.size() - 3);
    w.push_back('y');
  } else if (ends_with(w, "sses")) {
    w.resize(w.size() - 2);
  } else if (ends_with(w, "oes") && w.size() >= 6) {
    w.resize(w.size() - 2); // "volcanoes", "potatoes"; not "shoes"
  } else if (ends_with(w, "xes") || ends_with(w, "zes") ||
             ends_with(w, "ches") || ends_with(w, "shes")) {
    w.resize(w.size() - 2);
  } else if (ends_with(w, "s") && !ends_with(w, "ss") && !ends_with(w, "us") &&
             !ends_with(w, "is")) {
    w.pop_back();
  }
  strip_verb_ending(w);
  return w;
}

std::vector<std::string> content_terms(std::string_view text, bool stemming) {
  std::vector<std::string> out;
  for (auto& token : tokenize(text)) {
    if (is_stop_word(token))
      continue;
    out.push_back(stemming ? stem(token) : std::move(token));
  }
  return out;
}

} // namespace distiller::documents::search
