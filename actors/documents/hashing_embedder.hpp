#pragma once

/// The built-in embedder: deterministic feature hashing, no model files.
/// A text becomes a bag of features — content-word unigrams and bigrams
/// (stop words dropped, lightly stemmed; see search/text_terms.hpp) and
/// character 3- to 5-grams of every content word with `<` `>` boundary
/// markers — each hashed into one of `dimension` buckets with a sign.
/// Each feature adds type_weight × (1 + ln tf) to its bucket (with its sign);
/// the vector is then L2-normalised, so the inner product of two vectors is
/// their cosine similarity. A text without features gives the zero vector.
///
/// The hash is fixed and written out here (never std::hash, which may differ
/// between builds): 64-bit FNV-1a over a one-byte feature-type tag and the
/// feature's bytes, then the SplitMix64 finaliser to spread the bits. The
/// bucket is the mixed hash modulo `dimension`; its top bit picks the sign,
/// so colliding features cancel out on average instead of piling up.
/// The same text therefore gives bit-identical vectors on every node and
/// every build of this version; any change to the features, weights or hash
/// must change the model name's version.
///
/// model(): "hashing-<dimension>-v1" for the default features;
/// "-nostem" and/or "-nochar" are appended when stemming or character
/// n-grams are switched off, because such vectors are not comparable with
/// the default ones.
///
/// Threads: immutable after construction; `embed` may run concurrently.
/// Ownership: plain value object, no resources.
/// Failure: the constructor throws std::invalid_argument for dimension 0;
/// `embed` never throws embed_error (only std::bad_alloc).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "actors/documents/embedder.hpp"

namespace distiller::documents {

struct hashing_embedder_config {
  /// Length of every vector.
  size_t dimension = 384;
  /// Light stemming of words before unigrams and bigrams are formed.
  bool stemming = true;
  /// Character 3- to 5-grams of content words.
  bool char_ngrams = true;
};

class hashing_embedder final : public embedder {
 public:
  // -- per-feature-type weights (part of the model version) ---------------

  static constexpr float unigram_weight = 1.0f;
  static constexpr float bigram_weight = 0.4f;
  /// Per character n-gram. A word of length L has about 3L of them, so for
  /// a typical word they hold more of the vector's energy than its unigram:
  /// that is what lets "volcanic" meet "volcanoes" and "photovoltaic" meet
  /// "voltage". Chosen on the retrieval-quality corpus (tests/fixtures/
  /// corpus): 0.3 to 0.6 all did best there; bigrams above 0.4 hurt.
  static constexpr float char_ngram_weight = 0.3f;
  static constexpr size_t min_char_ngram = 3;
  static constexpr size_t max_char_ngram = 5;

  explicit hashing_embedder(hashing_embedder_config cfg = {});

  std::string model() const override;
  size_t dimension() const override { return cfg_.dimension; }

  std::vector<std::vector<float>>
  embed(const std::vector<std::string>& texts) override;

  /// One text's vector (what `embed` does for each).
  std::vector<float> embed_one(std::string_view text) const;

  /// The fixed feature hash: FNV-1a 64 over `tag` then `bytes`, mixed with
  /// the SplitMix64 finaliser. Exposed for tests and documentation.
  static uint64_t feature_hash(char tag, std::string_view bytes) noexcept;

 private:
  hashing_embedder_config cfg_;
};

} // namespace distiller::documents
