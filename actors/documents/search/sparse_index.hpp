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
/// Persistence: constructed with a directory, the index is a Xapian glass
/// database there (created when missing) instead of Xapian's in-memory
/// backend, so a node's next start opens it in milliseconds instead of
/// indexing every chunk again. `commit(meta)` makes every add so far durable
/// together with `meta` (opaque bytes, what the index was built from; see
/// actors/documents/index_snapshots.hpp) in one Xapian commit, which is
/// atomic: after a crash the database opens at its last commit. Xapian also
/// commits on its own after every 10,000 changed documents and when the
/// index is destroyed; those commits keep the metadata of the last
/// `commit`, so the database may hold more than its metadata promises,
/// never less. A database that cannot be opened throws sparse_index_error;
/// the caller removes the directory and starts empty (`remove_files`).
///
/// Threads: one mutex; every call is exclusive (Xapian's objects are not
/// thread-safe). A search over 100,000 chunks takes about a millisecond, so
/// queries and indexing interleave without a reader/writer split.
/// Ownership: owns the Xapian database; not copyable or movable.
/// Failure: Xapian errors leave as sparse_index_error naming the operation.

#include <cstdint>
#include <filesystem>
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

/// What decides the terms an index holds (stemmer, stemming strategy,
/// stop words, id terms): a database indexed under another analyzer is
/// rebuilt, not reused. Change it whenever any of those changes.
inline constexpr const char* sparse_analyzer = "xapian-english-some-stop1";

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
  /// In memory: gone with the object.
  explicit sparse_index(sparse_index_config cfg = {});
  /// A glass database in `dir` (created, with its parents, when missing).
  /// Throws sparse_index_error when it cannot be created or opened
  /// (corrupt, locked by another process, not a Xapian database).
  sparse_index(sparse_index_config cfg, const std::filesystem::path& dir);
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

  /// Durable (persistent index): every add so far and `meta`, atomically.
  /// In memory: keeps `meta` only.
  void commit(std::string_view meta);

  /// The metadata of the last `commit` ("" before the first one).
  std::string meta() const;

  /// The directory of a persistent index ("" in memory).
  const std::filesystem::path& dir() const noexcept { return dir_; }

  /// Removes the files of a persistent index in `dir` (for one that cannot
  /// be opened or was built from something else); no error when missing.
  static void remove_files(const std::filesystem::path& dir);

 private:
  struct impl;
  bool add_locked(int64_t id, std::string_view text);

  sparse_index_config cfg_;
  std::filesystem::path dir_;
  mutable std::mutex mtx_;
  std::unique_ptr<impl> impl_;
};

} // namespace distiller::documents::search
