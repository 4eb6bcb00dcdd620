// The document store's SQL (document_sql.hpp): every statement it prepares
// on its connections.

#include "actors/documents/document_sql.hpp"

#include "bridges/postgres/outbox.hpp"

namespace distiller::documents {

namespace {

// -- SQL ----------------------------------------------------------------------

// The columns of a job_row, in its order; times as RFC 3339 UTC with ms.
#define DISTILLER_JOB_COLUMNS                                                  \
  " job_id::text, filename, content_type, file_size, status, progress,"        \
  " total_chunks, processed_chunks, error, coalesce(trace_id, ''),"            \
  " to_char(created_at AT TIME ZONE 'UTC',"                                    \
  " 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"                                     \
  " to_char(updated_at AT TIME ZONE 'UTC',"                                    \
  " 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') "

// A job's state as a number, so that "forward" is a comparison. failed is
// final like completed.
#define DISTILLER_RANK(x)                                                      \
  " CASE " x " WHEN 'pending' THEN 0 WHEN 'processing' THEN 1"                 \
  " WHEN 'chunking' THEN 2 WHEN 'embedding' THEN 3 ELSE 4 END "

constexpr const char* insert_job_sql =
    "INSERT INTO document_jobs"
    " (job_id, filename, content_type, file_size, trace_id)"
    " VALUES ($1, $2, $3, $4, nullif($5::text, ''))"
    " RETURNING" DISTILLER_JOB_COLUMNS;

/// The server computes the SHA-256 of the bytes it stores.
constexpr const char* insert_file_sql =
    "INSERT INTO document_files (job_id, content, sha256)"
    " VALUES ($1, $2, sha256($2))";

constexpr const char* job_sql =
    "SELECT" DISTILLER_JOB_COLUMNS "FROM document_jobs WHERE job_id = $1";

constexpr const char* list_jobs_sql =
    "SELECT" DISTILLER_JOB_COLUMNS "FROM document_jobs"
    " WHERE $1::text IS NULL OR status = $1::text"
    " ORDER BY created_at DESC, job_id DESC LIMIT $2 OFFSET $3";

constexpr const char* count_jobs_sql =
    "SELECT count(*) FROM document_jobs"
    " WHERE $1::text IS NULL OR status = $1::text";

constexpr const char* file_sql =
    "SELECT j.filename, j.content_type, f.content"
    " FROM document_files f JOIN document_jobs j ON j.job_id = f.job_id"
    " WHERE f.job_id = $1";

/// Forward only, and never out of completed or failed.
constexpr const char* advance_sql =
    "UPDATE document_jobs SET status = $2::text, progress = $3"
    " WHERE job_id = $1 AND status NOT IN ('completed', 'failed')"
    " AND" DISTILLER_RANK("status") "<" DISTILLER_RANK(
        "$2::text") "RETURNING" DISTILLER_JOB_COLUMNS;

constexpr const char* fail_sql =
    "UPDATE document_jobs SET status = 'failed', error = $2"
    " WHERE job_id = $1 AND status NOT IN ('completed', 'failed')"
    " RETURNING" DISTILLER_JOB_COLUMNS;

/// Serializes the writers of one job's counters (store_chunks,
/// store_embedding). Every transaction locks the job before its chunks, so
/// they cannot deadlock.
constexpr const char* lock_job_sql =
    "SELECT 1 FROM document_jobs WHERE job_id = $1 FOR NO KEY UPDATE";

/// One statement for all chunks: $2 is a JSON array of
/// {"chunk_index", "text", "token_count", "section"}; existing (job, index)
/// pairs keep their row and ids.
constexpr const char* insert_chunks_sql =
    "INSERT INTO document_chunks"
    " (job_id, chunk_index, text, char_count, token_count, section)"
    " SELECT $1::uuid, c.chunk_index, c.text, length(c.text), c.token_count,"
    " coalesce(c.section, '')"
    " FROM jsonb_to_recordset($2::jsonb)"
    " AS c(chunk_index integer, text text, token_count integer,"
    " section text)"
    " ON CONFLICT (job_id, chunk_index) DO NOTHING";

/// total_chunks counts the job's rows (so fan-in completes exactly when all
/// of them are embedded); only a job before `embedding` moves.
constexpr const char* start_embedding_sql =
    "UPDATE document_jobs SET status = 'embedding', progress = 10,"
    " total_chunks = (SELECT count(*) FROM document_chunks WHERE job_id = $1)"
    " WHERE job_id = $1"
    " AND status IN ('pending', 'processing', 'chunking')";

constexpr const char* job_chunks_sql =
    "SELECT chunk_id::text, vector_id, chunk_index, text,"
    " status = 'embedded' FROM document_chunks WHERE job_id = $1"
    " ORDER BY chunk_index";

constexpr const char* pending_chunks_sql =
    "SELECT chunk_id::text, vector_id, chunk_index, text, false"
    " FROM document_chunks WHERE job_id = $1 AND status <> 'embedded'"
    " ORDER BY chunk_index";

/// Finds a chunk and locks its job (see lock_job_sql).
constexpr const char* lock_chunk_job_sql =
    "SELECT j.job_id::text, c.vector_id"
    " FROM document_chunks c JOIN document_jobs j ON j.job_id = c.job_id"
    " WHERE c.chunk_id = $1 FOR NO KEY UPDATE OF j";

/// The fan-in's guard: only the first embedding of a chunk updates a row.
constexpr const char* embed_chunk_sql =
    "UPDATE document_chunks SET status = 'embedded', embedding = $2::real[],"
    " embedding_model = $3, embedded_at = now(), attempts = attempts + 1,"
    " error = NULL"
    " WHERE chunk_id = $1 AND status <> 'embedded' RETURNING vector_id";

/// Counts one chunk; the last one completes the job. A final job, or one
/// whose counters are full (or were never set), stays as it is.
constexpr const char* count_chunk_sql =
    "UPDATE document_jobs SET processed_chunks = processed_chunks + 1,"
    " progress = 10 + 90 * (processed_chunks + 1) / total_chunks,"
    " status = CASE WHEN processed_chunks + 1 = total_chunks"
    " THEN 'completed' ELSE status END,"
    " completed_at = CASE WHEN processed_chunks + 1 = total_chunks"
    " THEN now() ELSE completed_at END"
    " WHERE job_id = $1 AND status NOT IN ('completed', 'failed')"
    " AND processed_chunks < total_chunks"
    " RETURNING" DISTILLER_JOB_COLUMNS;

constexpr const char* embedded_after_sql =
    "SELECT vector_id, chunk_id::text, job_id::text, embedding::text, text"
    " FROM document_chunks WHERE status = 'embedded' AND vector_id > $1"
    " ORDER BY vector_id LIMIT $2";

constexpr const char* embedded_since_sql =
    "SELECT vector_id FROM document_chunks WHERE status = 'embedded'"
    " AND embedded_at >= 'epoch'::timestamptz"
    " + $1::bigint * interval '1 microsecond'";

constexpr const char* embedded_by_ids_sql =
    "SELECT vector_id, chunk_id::text, job_id::text, embedding::text, text"
    " FROM document_chunks WHERE status = 'embedded'"
    " AND vector_id = ANY($1::bigint[]) ORDER BY vector_id";

/// clock_timestamp(), not now(): the time of this statement, whose
/// snapshot the caller's next read follows. Sessions of other roles show
/// no xact_start unless this role may see them (pg_read_all_stats).
constexpr const char* read_clock_sql =
    "SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint,"
    " (extract(epoch FROM min(xact_start)) * 1000000)::bigint"
    " FROM pg_stat_activity WHERE datname = current_database()"
    " AND pid <> pg_backend_pid() AND xact_start IS NOT NULL"
    " AND backend_type = 'client backend'";

constexpr const char* database_id_sql =
    "SELECT id::text FROM database_identity";

constexpr const char* by_vector_ids_sql =
    "SELECT c.vector_id, c.chunk_id::text, c.job_id::text, j.filename,"
    " c.text, 0::float8, c.section"
    " FROM document_chunks c JOIN document_jobs j ON j.job_id = c.job_id"
    " WHERE c.vector_id = ANY($1::bigint[])";

constexpr const char* stuck_jobs_sql =
    "SELECT" DISTILLER_JOB_COLUMNS "FROM document_jobs"
    " WHERE status NOT IN ('completed', 'failed')"
    " AND updated_at < now() - $1::bigint * interval '1 millisecond'"
    " ORDER BY updated_at, job_id LIMIT $2";

/// The trigger stamps updated_at; the assignment only makes an UPDATE.
constexpr const char* touch_sql =
    "UPDATE document_jobs SET updated_at = now() WHERE job_id = $1";

#undef DISTILLER_JOB_COLUMNS
#undef DISTILLER_RANK

struct statement {
  const char* name;
  const char* sql;
};

constexpr statement statements[] = {
    {"insert_job", insert_job_sql},
    {"insert_file", insert_file_sql},
    {"job", job_sql},
    {"list_jobs", list_jobs_sql},
    {"count_jobs", count_jobs_sql},
    {"file", file_sql},
    {"advance", advance_sql},
    {"fail", fail_sql},
    {"lock_job", lock_job_sql},
    {"insert_chunks", insert_chunks_sql},
    {"start_embedding", start_embedding_sql},
    {"job_chunks", job_chunks_sql},
    {"pending_chunks", pending_chunks_sql},
    {"lock_chunk_job", lock_chunk_job_sql},
    {"embed_chunk", embed_chunk_sql},
    {"count_chunk", count_chunk_sql},
    {"embedded_after", embedded_after_sql},
    {"by_vector_ids", by_vector_ids_sql},
    {"embedded_since", embedded_since_sql},
    {"embedded_by_ids", embedded_by_ids_sql},
    {"read_clock", read_clock_sql},
    {"database_id", database_id_sql},
    {"stuck_jobs", stuck_jobs_sql},
    {"touch", touch_sql},
};

} // namespace

void prepare_document_statements(pqxx::connection& conn) {
  for (const auto& s : statements)
    conn.prepare(s.name, s.sql);
  postgres::prepare_outbox_statements(conn);
}

} // namespace distiller::documents
