#pragma once

/// The dense half of hybrid retrieval: a FAISS index of L2-normalised chunk
/// vectors searched by inner product (= cosine similarity), keyed by the
/// chunks' int64 vector ids (document_chunks.vector_id).
///
/// Kinds: `flat` (default) wraps faiss::IndexIDMap2 over IndexFlatIP — exact,
/// linear scan; `hnsw` wraps IndexIDMap2 over IndexHNSWFlat with the inner
/// product metric — approximate, sub-linear, tuned by `hnsw_m` (graph degree,
/// fixed at creation) and `hnsw_ef_search` (candidates per search; more is
/// slower and more exact). HNSW cannot remove vectors, so this class offers no
/// removal at all: a deleted document's vectors stay until the index is
/// rebuilt from PostgreSQL (callers drop unknown ids when they look the hits
/// up).
///
/// Ids: `add` ignores an id already present (a redelivered chunk-embedded
/// record must not add a second vector) and reports whether it added.
/// `max_id` is the highest id ever added, so a node that loaded a snapshot
/// resumes with the chunks after it (document_store::embedded_chunks_after).
///
/// Snapshots: `save` writes one file — a fixed header (magic "DSTVIDX1",
/// format version 2, kind, dimension, vector count, max id, HNSW parameters,
/// the caller's metadata (length and bytes: what the snapshot was made from,
/// see actors/documents/index_snapshots.hpp), payload length and FNV-1a 64
/// checksum of metadata and payload, all in host byte order) followed by
/// faiss::write_index's bytes — to "<path>.tmp", fsyncs it and renames it over
/// `path`, so a reader sees the old snapshot or the new one, never half of
/// one. `load` checks all of it before building the index.
///
/// Threads: a std::shared_mutex: `search`, `contains`, `size`, `max_id` and
/// `save` run concurrently with each other; `add`/`add_batch` are exclusive.
/// Writers go first: a waiting writer holds a turnstile that new readers
/// must pass, so a steady stream of searches cannot starve indexing (glibc's
/// rwlock alone prefers readers). FAISS may run OpenMP teams inside a call;
/// with many concurrent single-vector searches OMP_NUM_THREADS=1 avoids
/// oversubscribing the cores.
/// A search over a large flat index is a blocking call: run it on a detached
/// actor or a thread of its own, not on CAF's scheduler.
/// Ownership: owns the FAISS objects; not copyable or movable.
/// Failure: wrong dimensions throw std::invalid_argument naming both
/// dimensions; I/O errors, corrupt snapshots and FAISS errors throw
/// vector_index_error with the path or operation.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

namespace distiller::documents::search {

class vector_index_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class index_kind { flat, hnsw };

/// "flat" / "hnsw".
std::string to_string(index_kind kind);

/// Parses "flat" / "hnsw"; nullopt for anything else.
std::optional<index_kind> parse_index_kind(std::string_view text);

struct vector_index_config {
  size_t dimension = 384;
  index_kind kind = index_kind::flat;
  /// HNSW: neighbours per node (fixed when the index is created).
  int hnsw_m = 32;
  /// HNSW: candidate list while inserting.
  int hnsw_ef_construction = 40;
  /// HNSW: candidate list while searching (at least k is used).
  int hnsw_ef_search = 64;
};

/// One search result: a vector id and its inner product with the query.
struct scored_id {
  int64_t id = 0;
  float score = 0;
};

class vector_index {
 public:
  /// Throws std::invalid_argument for dimension 0 or HNSW parameters < 1.
  explicit vector_index(vector_index_config cfg);
  ~vector_index();
  vector_index(const vector_index&) = delete;
  vector_index& operator=(const vector_index&) = delete;

  // -- writing -------------------------------------------------------------

  /// Adds `vector` under `id` unless the id is present; true if it added.
  bool add(int64_t id, std::span<const float> vector);

  /// Adds every (id, vector) whose id is not present yet (also ignoring
  /// repeats inside the batch, first one wins); returns how many it added.
  /// Checks every dimension before adding anything.
  size_t
  add_batch(const std::vector<std::pair<int64_t, std::vector<float>>>& items);

  // -- reading -------------------------------------------------------------

  /// At most `k` ids, best (highest inner product) first.
  std::vector<scored_id> search(std::span<const float> query, size_t k) const;

  bool contains(int64_t id) const;
  size_t size() const;
  /// The highest id added; nullopt while empty.
  std::optional<int64_t> max_id() const;
  const vector_index_config& config() const noexcept { return cfg_; }
  size_t dimension() const noexcept { return cfg_.dimension; }

  // -- snapshots -----------------------------------------------------------

  /// Writes a snapshot atomically (see above) with `meta`, opaque bytes
  /// that `load` hands back.
  void save(const std::filesystem::path& path,
            std::string_view meta = {}) const;

  /// Reads a snapshot written by `save`. `ef_search`, when set, replaces the
  /// saved HNSW search parameter (it is a query-time setting); `meta`, when
  /// set, receives the saved metadata.
  static std::unique_ptr<vector_index>
  load(const std::filesystem::path& path,
       std::optional<int> ef_search = std::nullopt,
       std::string* meta = nullptr);

 private:
  struct faiss_state;

  vector_index(vector_index_config cfg, std::unique_ptr<faiss_state> state);

  void check_dimension(size_t got, const char* what) const;
  std::shared_lock<std::shared_mutex> read_lock() const;

  vector_index_config cfg_;
  mutable std::shared_mutex mtx_;
  /// Held by writers while they wait for and hold `mtx_`; readers pass it
  /// before taking their shared lock (see above).
  mutable std::mutex turnstile_;
  std::unique_ptr<faiss_state> faiss_;
  std::unordered_set<int64_t> ids_;
  std::optional<int64_t> max_id_;
};

} // namespace distiller::documents::search
