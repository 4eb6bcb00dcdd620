#pragma once

/// The sparse half of hybrid retrieval: Okapi BM25 over the chunks' stemmed
/// terms, in a Xapian database, keyed by the chunks' int64 vector ids like
/// the dense vector_index (document_chunks.vector_id).
///
/// Terms: Xapian's TermGenerator with the English Snowball stemmer indexes
/// each chunk's text (unstemmed and stemmed terms, positions off); the
/// question goes through Xapian's QueryParser with the same stemmer, every
/// word OR-ed (no operator syntax: a question is text, "-v" is not a
/// negation), and the English stop words of text_terms.hpp dropped on both
/// sides, so "the", "of" and "is" neither match nor weigh. Weights are
/// BM25Weight(k1, k2 = 0, k3 = 1, b, min_normlen = 0.5).
///
/// Relevance: besides the ranked ids a search reports how much of the
/// question one of the three best hits covers: the idf (BM25's,
/// ln(1 + (N − df + ½) / (df + ½))) of the question's terms it contains
/// over the idf of all of them, a term the corpus never saw counting like
/// the rarest. A question of unknown words, or on another subject that
/// shares a word or two with the corpus, covers little of itself; the
/// query path turns it into "No relevant documents found."
/// (docs/document-pipeline.md, "Relevance").
///
/// Ids: `add` ignores an id already present (a redelivered chunk-embedded
/// record adds nothing) and reports whether it added.
///
/// Threads: one mutex; every call is exclusive (Xapian's objects are not
/// thread-safe). A search over 100,000 chunks takes about a millisecond, so
/// queries and indexing interleave without a reader/writer split.
/// Ownership: owns the Xapian database (in memory); not copyable or movable.
/// Failure: Xapian errors leave as sparse_index_error naming the operation.

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace distiller::documents::search {

class sparse_index_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct sparse_index_config {
  /// BM25's term-frequency saturation (Xapian's default is 1).
  double k1 = 1.2;
  /// BM25's length normalisation (Xapian's default is 0.5).
  double b = 0.75;
};

struct sparse_hit {
  int64_t id = 0;
  double score = 0;
};

struct sparse_result {
  /// Best first.
  std::vector<sparse_hit> hits;
  /// Distinct terms of the question after stop words (0: nothing to match).
  size_t terms = 0;
  /// The question's idf mass one of the best three hits contains, in
  /// [0, 1]; 0 without hits.
  double matched_share = 0;
};

class sparse_index {
 public:
  explicit sparse_index(sparse_index_config cfg = {});
  ~sparse_index();
  sparse_index(const sparse_index&) = delete;
  sparse_index& operator=(const sparse_index&) = delete;

  /// Indexes `text` under `id` unless the id is present; true if it added.
  bool add(int64_t id, std::string_view text);

  /// Adds every (id, text) whose id is not present yet; returns how many.
  size_t add_batch(const std::vector<std::pair<int64_t, std::string>>& items);

  /// At most `k` ids for `question`, best first.
  sparse_result search(std::string_view question, size_t k) const;

  bool contains(int64_t id) const;
  size_t size() const;
  /// The highest id added; nullopt while empty.
  std::optional<int64_t> max_id() const;

 private:
  struct impl;
  bool add_locked(int64_t id, std::string_view text);

  sparse_index_config cfg_;
  mutable std::mutex mtx_;
  std::unique_ptr<impl> impl_;
};

} // namespace distiller::documents::search
