#include "actors/documents/hashing_embedder.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <unordered_map>
#include <utility>

#include "actors/documents/search/text_terms.hpp"

namespace distiller::documents {

namespace {

// Feature-type tags hashed in front of a feature's bytes, so the unigram
// "log" and the character trigram "log" land in unrelated buckets.
constexpr char unigram_tag = 'u';
constexpr char bigram_tag = 'b';
constexpr char char_ngram_tag = 'c';

constexpr uint64_t fnv_offset = 14695981039346656037ull;
constexpr uint64_t fnv_prime = 1099511628211ull;

/// One distinct feature of a text: its hash, its type's weight, how often.
struct feature_count {
  float weight = 0;
  int tf = 0;
};

using feature_map = std::unordered_map<uint64_t, feature_count>;

void count(feature_map& features, char tag, std::string_view bytes,
           float weight) {
  auto& f = features[hashing_embedder::feature_hash(tag, bytes)];
  f.weight = weight;
  ++f.tf;
}

/// Character n-grams of "<word>" (byte n-grams for non-ASCII words).
void count_char_ngrams(feature_map& features, const std::string& word) {
  std::string marked;
  marked.reserve(word.size() + 2);
  marked.push_back('<');
  marked += word;
  marked.push_back('>');
  std::string_view view{marked};
  for (size_t n = hashing_embedder::min_char_ngram;
       n <= hashing_embedder::max_char_ngram; ++n) {
    for (size_t i = 0; i + n <= view.size(); ++i)
      count(features, char_ngram_tag, view.substr(i, n),
            hashing_embedder::char_ngram_weight);
  }
}

} // namespace

hashing_embedder::hashing_embedder(hashing_embedder_config cfg) : cfg_(cfg) {
  if (cfg_.dimension == 0)
    throw std::invalid_argument("hashing_embedder: dimension must be > 0");
}

std::string hashing_embedder::model() const {
  auto name = "hashing-" + std::to_string(cfg_.dimension) + "-v1";
  if (!cfg_.stemming)
    name += "-nostem";
  if (!cfg_.char_ngrams)
    name += "-nochar";
  return name;
}

uint64_t hashing_embedder::feature_hash(char tag,
                                        std::string_view bytes) noexcept {
  uint64_t h = fnv_offset;
  h ^= static_cast<unsigned char>(tag);
  h *= fnv_prime;
  for (char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= fnv_prime;
  }
  // SplitMix64's finaliser: FNV-1a's low bits are weak for short inputs,
  // and both the bucket (low bits) and the sign (top bit) come from h.
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return h;
}

std::vector<float> hashing_embedder::embed_one(std::string_view text) const {
  auto words = search::content_terms(text, cfg_.stemming);
  feature_map features;
  for (size_t i = 0; i < words.size(); ++i) {
    count(features, unigram_tag, words[i], unigram_weight);
    if (i + 1 < words.size())
      count(features, bigram_tag, words[i] + ' ' + words[i + 1], bigram_weight);
    if (cfg_.char_ngrams)
      count_char_ngrams(features, words[i]);
  }
  // Summed in hash order: float addition is not associative, and the
  // vector must not depend on the hash map's iteration order.
  std::vector<std::pair<uint64_t, feature_count>> sorted{features.begin(),
                                                         features.end()};
  std::sort(sorted.begin(), sorted.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<float> v(cfg_.dimension, 0.0f);
  for (const auto& [hash, f] : sorted) {
    auto value = f.weight * (1.0f + std::log(static_cast<float>(f.tf)));
    auto& slot = v[hash % cfg_.dimension];
    slot += (hash >> 63) != 0 ? -value : value;
  }
  double norm = 0;
  for (float x : v)
    norm += static_cast<double>(x) * x;
  // Features can cancel out exactly; then the text has no direction either.
  if (norm > 0) {
    auto inv = static_cast<float>(1.0 / std::sqrt(norm));
    for (float& x : v)
      x *= inv;
  }
  return v;
}

std::vector<std::vector<float>>
hashing_embedder::embed(const std::vector<std::string>& texts) {
  std::vector<std::vector<float>> out;
  out.reserve(texts.size());
  for (const auto& text : texts)
    out.push_back(embed_one(text));
  return out;
}

} // namespace distiller::documents
