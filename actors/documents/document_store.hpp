#pragma once

/// The document pipeline's PostgreSQL state: jobs, uploaded files, chunks
/// with their embeddings, and the outbox (schema:
/// bridges/postgres/schema/0001, 0003, 0006 to 0008).
///
/// Every method is one short transaction on a pooled connection (prepared
/// statements, a broken connection is replaced on the next call), so the
/// pipeline's workers (detached threads) call it directly.
/// Threads: thread-safe; at most `pool_size` calls run at once, further
/// callers wait for a free connection.
/// Failure: database errors throw `store_error` (`retryable()` for lost
/// connections, serialization failures and deadlocks); a job id that is not a
/// UUID is treated as unknown (nullopt), never as an error.
/// Job states move forward only (pending < processing < chunking < embedding
/// < completed; failed is final too): calls that would move a job back or
/// out of a final state change nothing and return nullopt.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "bridges/postgres/outbox.hpp"
#include "bridges/postgres/pool.hpp"

#include "actors/documents/job_status.hpp"

namespace distiller::documents {

/// A failed store call (postgres::db_error: what failed, retryable or not).
using store_error = postgres::db_error;

/// One row of document_jobs as the API shows it. Times are RFC 3339 UTC with
/// milliseconds ("2026-11-22T09:30:00.123Z").
struct job_row {
  std::string job_id;
  std::string filename;
  std::string content_type;
  int64_t file_size = 0;
  job_status status = job_status::pending;
  int progress = 0;
  int total_chunks = 0;
  int processed_chunks = 0;
  std::optional<std::string> error;
  std::string trace_id;
  std::string created_at;
  std::string updated_at;
};

/// A Kafka record to be published by the outbox relay, and an unsent row
/// (bridges/postgres/outbox.hpp).
using outbox_message = postgres::outbox_message;
using outbox_row = postgres::outbox_row;

struct new_upload {
  std::string job_id; // a UUID the caller made (make_uuid)
  std::string filename;
  std::string content_type;
  std::string content;
  std::string trace_id;
};

struct job_page {
  std::vector<job_row> jobs; // newest first
  int64_t total = 0;         // rows matching the filter
};

struct stored_file {
  std::string filename;
  std::string content_type;
  std::string content;
};

struct chunk_input {
  int chunk_index = 0;
  std::string text;
  int token_count = 0;
  /// The page or section the chunk starts in ("" when the format has none).
  std::string section = {};
};

struct chunk_row {
  std::string chunk_id;
  int64_t vector_id = 0;
  int chunk_index = 0;
  std::string text;
  bool embedded = false;
};

/// What `store_embedding` did.
struct embed_outcome {
  /// True the first time this chunk's embedding was stored (and counted).
  /// The job's counters move only while it is not final: a failed job keeps
  /// its counters, though the embedding is stored.
  bool counted = false;
  int64_t vector_id = 0;
  /// The job after the update (completed when this was its last chunk).
  job_row job;
};

/// An embedded chunk, for (re)building the vector index.
struct indexed_chunk {
  int64_t vector_id = 0;
  std::string chunk_id;
  std::string job_id;
  std::vector<float> embedding;
  std::string text;
};

/// A chunk with what a query answer shows.
struct chunk_hit {
  int64_t vector_id = 0;
  std::string chunk_id;
  std::string job_id;
  std::string filename;
  std::string text;
  double score = 0;
  /// The page or section the chunk starts in, or "".
  std::string section;
};

/// PostgreSQL's clock and its oldest open transaction, for the index's
/// high-water mark (index_snapshots.hpp). Microseconds since the epoch.
struct clock_reading {
  int64_t now = 0;
  /// The start of the oldest transaction open in this database in another
  /// session (nullopt: none).
  std::optional<int64_t> oldest_open;
};

struct store_config {
  std::string dsn;
  int pool_size = 4;
  std::chrono::milliseconds connect_timeout{10000};
};

class document_store {
 public:
  explicit document_store(store_config cfg);
  ~document_store();
  document_store(const document_store&) = delete;
  document_store& operator=(const document_store&) = delete;

  // -- uploads and the API ---------------------------------------------------

  /// One transaction: the job (`pending`), its file (with sha256) and the
  /// outbox row announcing it. Returns the new job.
  job_row create_upload(const new_upload& upload, const outbox_message& event);

  std::optional<job_row> job(const std::string& job_id);

  /// Newest first; `status` filters when set. limit 1..1000, offset >= 0.
  job_page list_jobs(int limit, int offset, std::optional<job_status> status);

  std::optional<stored_file> file(const std::string& job_id);

  // -- the pipeline ----------------------------------------------------------

  /// Moves a job forward to `status` (processing, chunking or embedding) with
  /// `progress`; nullopt when the job is unknown, already there or beyond.
  std::optional<job_row> advance(const std::string& job_id, job_status status,
                                 int progress);

  /// Marks a non-final job failed with `error`; nullopt when unknown or final.
  std::optional<job_row> fail(const std::string& job_id,
                              const std::string& error);

  /// One transaction: inserts the chunks (idempotent on (job, index): a
  /// redelivery keeps the first ids), sets total_chunks and moves the job to
  /// `embedding` (progress 10). Returns every chunk of the job in index order
  /// with its ids. Throws store_error (not retryable) for an empty list.
  std::vector<chunk_row> store_chunks(const std::string& job_id,
                                      const std::vector<chunk_input>& chunks);

  /// One transaction: stores the chunk's embedding unless it is already
  /// embedded; only then advances processed_chunks and progress, and the
  /// last chunk sets `completed`. Throws store_error for an unknown chunk.
  embed_outcome store_embedding(const std::string& chunk_id,
                                const std::vector<float>& embedding,
                                const std::string& model);

  /// Embedded chunks with vector_id > after, in vector_id order, at most
  /// `limit` (paging through the index rebuild).
  std::vector<indexed_chunk> embedded_chunks_after(int64_t after, int limit);

  /// Vector ids of the chunks embedded at or after `since` (microseconds
  /// since the epoch on PostgreSQL's clock), in no particular order.
  std::vector<int64_t> embedded_ids_since(int64_t since);

  /// The embedded chunks with these vector ids, in vector_id order (unknown
  /// or unembedded ids are skipped).
  std::vector<indexed_chunk>
  embedded_chunks_by_ids(const std::vector<int64_t>& ids);

  /// PostgreSQL's clock now and the oldest transaction open in this
  /// database besides this call's own.
  clock_reading read_clock();

  /// This database's identity (migration 7's database_identity.id).
  std::string database_id();

  /// The chunks with these vector ids (any order; unknown ids are skipped).
  std::vector<chunk_hit> chunks_by_vector_ids(const std::vector<int64_t>& ids);

  /// Chunks of a job not embedded yet (for the reconciler).
  std::vector<chunk_row> pending_chunks(const std::string& job_id);

  /// Non-final jobs whose updated_at is older than `age`, oldest first.
  std::vector<job_row> stuck_jobs(std::chrono::milliseconds age, int limit);

  /// Marks a job as seen now (updated_at) without changing its state, so
  /// the reconciler does not re-drive it again at once.
  void touch(const std::string& job_id);

  // -- the outbox ------------------------------------------------------------

  /// Adds rows to the outbox (one transaction).
  void enqueue(const std::vector<outbox_message>& messages);

  /// Leases up to `limit` unsent rows that are due, in id order, for `lease`
  /// (their available_at moves to now + lease, so another relay skips them;
  /// FOR UPDATE SKIP LOCKED).
  std::vector<outbox_row> lease_outbox(int limit,
                                       std::chrono::milliseconds lease);

  void mark_sent(const std::vector<int64_t>& ids);

  /// Counts an attempt, records `error`, makes the row due again after
  /// `retry_in`.
  void mark_failed(int64_t id, const std::string& error,
                   std::chrono::milliseconds retry_in);

  /// Unsent outbox rows (for metrics and tests).
  int64_t outbox_backlog();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace distiller::documents
