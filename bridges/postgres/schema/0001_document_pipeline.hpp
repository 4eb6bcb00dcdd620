#pragma once

// Migration 1: the document pipeline (seeds 000-002): jobs, their uploaded
// bytes and their chunks. APPLIED MIGRATIONS ARE IMMUTABLE: migrate() refuses
// a database whose recorded checksum differs; change the schema in a new file.

namespace distiller::postgres::schema {

inline constexpr const char* v0001_document_pipeline = R"sql(
-- Stamps updated_at on every UPDATE, so no statement can forget it.
CREATE FUNCTION distiller_touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END
$$;

-- One upload and its way through the pipeline; the row behind
-- GET /api/v2/documents/status/{job_id}.
CREATE TABLE document_jobs (
  job_id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  filename         text NOT NULL CHECK (filename <> ''),
  content_type     text NOT NULL DEFAULT 'application/octet-stream',
  file_size        bigint NOT NULL CHECK (file_size >= 0),
  status           text NOT NULL DEFAULT 'pending',
  progress         smallint NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
  -- 0 until the chunker has split the file.
  total_chunks     integer NOT NULL DEFAULT 0 CHECK (total_chunks >= 0),
  processed_chunks integer NOT NULL DEFAULT 0,
  error            text,
  trace_id         text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  completed_at     timestamptz,
  CONSTRAINT document_jobs_status_check CHECK (status IN
    ('pending', 'processing', 'chunking', 'embedding', 'completed', 'failed')),
  CONSTRAINT document_jobs_processed_check
    CHECK (processed_chunks BETWEEN 0 AND total_chunks),
  CONSTRAINT document_jobs_completed_check
    CHECK (status <> 'completed' OR processed_chunks = total_chunks),
  CONSTRAINT document_jobs_failed_check
    CHECK (status <> 'failed' OR error IS NOT NULL)
);
-- GET /api/v2/documents/jobs: newest first, keyset pagination.
CREATE INDEX document_jobs_recent_idx ON document_jobs (created_at DESC, job_id DESC);
-- Jobs still in flight, for recovery after a crash.
CREATE INDEX document_jobs_active_idx ON document_jobs (updated_at)
  WHERE status NOT IN ('completed', 'failed');
CREATE TRIGGER document_jobs_touch BEFORE UPDATE ON document_jobs
  FOR EACH ROW EXECUTE FUNCTION distiller_touch_updated_at();

-- The uploaded bytes, written in the upload's transaction (with the job row
-- and the outbox event), so a 202 means the file is durable.
CREATE TABLE document_files (
  job_id     uuid PRIMARY KEY REFERENCES document_jobs (job_id) ON DELETE CASCADE,
  content    bytea NOT NULL,
  sha256     bytea NOT NULL CHECK (octet_length(sha256) = 32),
  created_at timestamptz NOT NULL DEFAULT now()
);
-- Uploads (PDF, images) are mostly compressed already: store out of line
-- without trying to compress them again.
ALTER TABLE document_files ALTER COLUMN content SET STORAGE EXTERNAL;
-- Finds an earlier upload of the same bytes.
CREATE INDEX document_files_sha256_idx ON document_files (sha256);

-- One chunk of a document's text, its embedding and its full-text vector.
-- Fan-in counts each chunk once, even when a chunk event is redelivered: the
-- embedder runs, in one transaction,
--   UPDATE document_chunks SET status = 'embedded', ... WHERE chunk_id = $1
--     AND status <> 'embedded'
-- and advances document_jobs.processed_chunks only if that updated a row.
CREATE TABLE document_chunks (
  chunk_id        uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  job_id          uuid NOT NULL REFERENCES document_jobs (job_id) ON DELETE CASCADE,
  -- The 64-bit id FAISS stores for this chunk (its ids are int64, not uuid).
  vector_id       bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  chunk_index     integer NOT NULL CHECK (chunk_index >= 0),
  text            text NOT NULL,
  char_count      integer NOT NULL CHECK (char_count >= 0),
  token_count     integer NOT NULL DEFAULT 0 CHECK (token_count >= 0),
  status          text NOT NULL DEFAULT 'pending',
  embedding       real[],
  embedding_model text,
  attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  error           text,
  tsv             tsvector GENERATED ALWAYS AS (to_tsvector('english', text)) STORED,
  created_at      timestamptz NOT NULL DEFAULT now(),
  embedded_at     timestamptz,
  CONSTRAINT document_chunks_job_chunk_key UNIQUE (job_id, chunk_index),
  CONSTRAINT document_chunks_status_check
    CHECK (status IN ('pending', 'embedded', 'failed')),
  CONSTRAINT document_chunks_embedding_check CHECK (embedding IS NULL
    OR (array_ndims(embedding) = 1 AND cardinality(embedding) > 0)),
  CONSTRAINT document_chunks_embedded_check CHECK (status <> 'embedded'
    OR (embedding IS NOT NULL AND embedded_at IS NOT NULL))
);
-- Hybrid retrieval's full-text half.
CREATE INDEX document_chunks_tsv_idx ON document_chunks USING gin (tsv);
-- Rebuilding the FAISS index on start: embedded chunks in vector_id order.
CREATE INDEX document_chunks_embedded_idx ON document_chunks (vector_id)
  WHERE status = 'embedded';
)sql";

} // namespace distiller::postgres::schema
