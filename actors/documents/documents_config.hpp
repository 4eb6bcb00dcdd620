#pragma once

/// Configuration of the document pipeline (sections `documents`, `embedder`
/// and `index`), bound into the node's schema by `declare`.
/// Plain data; filled once at start. See docs/configuration.md for every key.

#include <chrono>
#include <cstdint>
#include <string>

#include "runtime/config/schema.hpp"

namespace distiller::documents {

struct documents_config {
  // -- uploads and the API ---------------------------------------------------
  uint64_t max_upload_bytes = 50ull * 1024 * 1024;
  int pg_pool = 4;
  int api_workers = 4;

  // -- chunking --------------------------------------------------------------
  int chunk_size = 1000;
  int chunk_overlap = 150;
  std::string chunk_unit = "characters";

  // -- pools and retries -----------------------------------------------------
  int chunker_pool = 4;
  int embedder_pool = 8;
  int max_attempts = 5;

  // -- outbox relay and reconciler -------------------------------------------
  std::chrono::milliseconds relay_interval{200};
  int relay_batch = 200;
  std::chrono::milliseconds stuck_after{120000};
  std::chrono::milliseconds reconcile_interval{15000};

  // -- embedder --------------------------------------------------------------
  std::string embedder_kind = "hashing";
  int embedder_dimension = 384;
  std::string embedder_url;
  std::string embedder_model = "text-embedding-3-small";
  std::string embedder_api_key;
  std::chrono::milliseconds embedder_timeout{30000};

  // -- vector index ----------------------------------------------------------
  std::string index_kind = "flat";
  int hnsw_m = 32;
  int hnsw_ef_search = 64;

  // -- sparse index (BM25) -------------------------------------------------
  double bm25_k1 = 1.2;
  double bm25_b = 0.75;

  // -- index snapshots (docs/document-pipeline.md, "Index snapshots") ------
  /// Keep both indexes under <data_dir>/index and start from them.
  bool index_snapshots = true;
  std::chrono::milliseconds snapshot_interval{300000};
  int snapshot_every = 10000;
  std::chrono::milliseconds snapshot_margin{30000};

  // -- queries ---------------------------------------------------------------
  /// Reciprocal rank fusion: k and each half's weight, tuned on two corpora
  /// with the built-in hashing embedder (retrieval_quality_test prints the
  /// grid); a real embedding model deserves a larger dense weight.
  int rrf_k = 5;
  double dense_weight = 0.3;
  double sparse_weight = 1.0;
  /// Relevance (docs/document-pipeline.md): a question is answered when one
  /// of the best BM25 hits contains at least this share of the question's
  /// idf mass, or the best dense hit reached min_dense_score.
  double min_sparse_share = 0.3;
  double min_dense_score = 1.0;
  /// Bounds of one question (413 / 422 beyond).
  int max_question_chars = 2000;
  int max_question_terms = 64;
  /// Questions waiting or running on one node before more get 503.
  int max_queued_queries = 64;
};

void declare(config::schema& s, documents_config& cfg);

/// Rules across keys (overlap below size, an URL for the HTTP embedder);
/// throws config::config_error naming the key.
void validate(const documents_config& cfg);

} // namespace distiller::documents
