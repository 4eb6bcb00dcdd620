#include "actors/documents/documents_config.hpp"

namespace distiller::documents {

using std::chrono::milliseconds;

void declare(config::schema& s, documents_config& cfg) {
  s.add_bytes("documents.max_upload_bytes", cfg.max_upload_bytes, 1, 1ull << 32,
              "Largest accepted upload (the file itself); larger requests "
              "get 413 before their body is read.");
  s.add_int("documents.pg_pool", cfg.pg_pool, 1, 64,
            "PostgreSQL connections of the document store.");
  s.add_int("documents.api_workers", cfg.api_workers, 1, 64,
            "Actors that serve the document API's database and query work.");
  s.add_int("documents.chunk_size", cfg.chunk_size, 50, 100000,
            "Largest chunk, in documents.chunk_unit.");
  s.add_int("documents.chunk_overlap", cfg.chunk_overlap, 0, 50000,
            "Text repeated from the end of one chunk at the start of the "
            "next (whole sentences), in documents.chunk_unit.");
  s.add_choice("documents.chunk_unit", cfg.chunk_unit, {"characters", "tokens"},
               "Unit of chunk_size and chunk_overlap: Unicode code points or "
               "whitespace-separated words.");
  s.add_int("documents.chunker_pool", cfg.chunker_pool, 1, 256,
            "Chunker actors consuming doc-ingest-requests.");
  s.add_int("documents.embedder_pool", cfg.embedder_pool, 1, 256,
            "Embedder actors consuming chunk-processing.");
  s.add_int("documents.max_attempts", cfg.max_attempts, 1, 100,
            "Attempts per record (first try included) before it goes to the "
            "dead-letter topic.");
  s.add_duration("documents.relay_interval", cfg.relay_interval,
                 milliseconds{1},
                 "How often the outbox relay looks for unsent rows when "
                 "nobody woke it.");
  s.add_int("documents.relay_batch", cfg.relay_batch, 1, 10000,
            "Outbox rows the relay publishes per round.");
  s.add_duration("documents.stuck_after", cfg.stuck_after, milliseconds{100},
                 "A job in a non-final state without change for this long is "
                 "re-driven by the reconciler.");
  s.add_duration("documents.reconcile_interval", cfg.reconcile_interval,
                 milliseconds{10}, "How often the reconciler looks.");
  s.add_choice("embedder.kind", cfg.embedder_kind, {"hashing", "http"},
               "hashing: the built-in feature-hashing embedder; http: an "
               "OpenAI-compatible /v1/embeddings service.");
  s.add_int("embedder.dimension", cfg.embedder_dimension, 8, 65536,
            "Vector length (hashing; for http the service decides and this "
            "must match it).");
  s.add_string("embedder.url", cfg.embedder_url,
               "Base URL of the embeddings service (http://host:port).");
  s.add_string("embedder.model", cfg.embedder_model,
               "Model name sent to the embeddings service.");
  s.add_string("embedder.api_key", cfg.embedder_api_key,
               "Bearer token for the embeddings service (empty: none).");
  s.add_duration("embedder.timeout", cfg.embedder_timeout, milliseconds{1},
                 "Timeout of one embeddings request.");
  s.add_choice("index.kind", cfg.index_kind, {"flat", "hnsw"},
               "FAISS index: exact inner-product search (flat) or HNSW.");
  s.add_int("index.hnsw_m", cfg.hnsw_m, 4, 256, "HNSW: neighbours per node.");
  s.add_int("index.hnsw_ef_search", cfg.hnsw_ef_search, 1, 4096,
            "HNSW: candidates examined per search.");
  s.add_number("index.bm25_k1", cfg.bm25_k1, 0, 10,
               "BM25 (sparse index): term-frequency saturation.");
  s.add_number("index.bm25_b", cfg.bm25_b, 0, 1,
               "BM25 (sparse index): document-length normalisation.");
  s.add_bool("index.snapshots", cfg.index_snapshots,
             "Keep the vector and BM25 indexes under <data_dir>/index and "
             "start from them plus the chunks embedded after their mark "
             "(false: rebuild both from PostgreSQL at every start).");
  s.add_duration("index.snapshot_interval", cfg.snapshot_interval,
                 milliseconds{1000},
                 "Longest time between snapshots while chunks are being "
                 "added (one is also written at a clean stop).");
  s.add_int("index.snapshot_every", cfg.snapshot_every, 1, 100000000,
            "Chunks added since the last snapshot that make the next one "
            "due at once.");
  s.add_duration("index.snapshot_margin", cfg.snapshot_margin, milliseconds{0},
                 "Safety margin of the snapshots' embedded_at mark: chunks "
                 "embedded this long before it are read again at start.");
  s.add_int("query.rrf_k", cfg.rrf_k, 1, 10000,
            "Reciprocal rank fusion's k: larger lets agreement of the two "
            "rankings outweigh one first place.");
  s.add_number("query.dense_weight", cfg.dense_weight, 0, 100,
               "Weight of the dense (vector) ranking in the fusion.");
  s.add_number("query.sparse_weight", cfg.sparse_weight, 0, 100,
               "Weight of the sparse (BM25) ranking in the fusion.");
  s.add_number("query.min_sparse_share", cfg.min_sparse_share, 0, 1,
               "Relevance: one of the best BM25 hits must contain at least "
               "this share of the question's idf mass, a word the corpus "
               "never saw counting like the rarest (or the dense hit reach "
               "query.min_dense_score), else \"No relevant documents "
               "found.\"");
  s.add_number("query.min_dense_score", cfg.min_dense_score, -1, 1.0001,
               "Relevance: cosine similarity of the best dense hit that "
               "answers on its own (1 or more: never, the default for the "
               "hashing embedder, whose similarity is lexical).");
  s.add_int("query.max_question_chars", cfg.max_question_chars, 1, 100000,
            "Longest question in characters (413 question_too_long).");
  s.add_int("query.max_question_terms", cfg.max_question_terms, 1, 10000,
            "Most distinct words in a question (422 too_many_terms).");
  s.add_int("query.max_queued", cfg.max_queued_queries, 1, 100000,
            "Questions waiting or running on one node; more get 503 "
            "unavailable with Retry-After.");
}

void validate(const documents_config& cfg) {
  if (cfg.chunk_overlap >= cfg.chunk_size)
    throw config::config_error("documents.chunk_overlap",
                               "must be smaller than documents.chunk_size (" +
                                   std::to_string(cfg.chunk_size) + "), got " +
                                   std::to_string(cfg.chunk_overlap));
  if (cfg.embedder_kind == "http" && cfg.embedder_url.empty())
    throw config::config_error("embedder.url",
                               "required when embedder.kind is http");
}

} // namespace distiller::documents
