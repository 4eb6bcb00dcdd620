#include "actors/documents/document_store.hpp"

#include <algorithm>

#include <pqxx/binarystring>
#include <pqxx/pqxx>

#include "actors/documents/store_codec.hpp"
#include "actors/documents/store_pool.hpp"

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

void prepare_statements(pqxx::connection& conn) {
  for (const auto& s : statements)
    conn.prepare(s.name, s.sql);
  postgres::prepare_outbox_statements(conn);
}

// -- conversions --------------------------------------------------------------

std::optional<std::string> opt_text(const pqxx::field& f) {
  if (f.is_null())
    return std::nullopt;
  return f.as<std::string>();
}

job_row to_job(const pqxx::row& r) {
  job_row job;
  job.job_id = r[0].as<std::string>();
  job.filename = r[1].as<std::string>();
  job.content_type = r[2].as<std::string>();
  job.file_size = r[3].as<int64_t>();
  auto status = r[4].as<std::string>();
  auto parsed = parse_job_status(status);
  if (!parsed) // the table's CHECK constraint allows no other value
    throw std::runtime_error("document_jobs.status '" + status +
                             "' is no job status");
  job.status = *parsed;
  job.progress = r[5].as<int>();
  job.total_chunks = r[6].as<int>();
  job.processed_chunks = r[7].as<int>();
  job.error = opt_text(r[8]);
  job.trace_id = r[9].as<std::string>();
  job.created_at = r[10].as<std::string>();
  job.updated_at = r[11].as<std::string>();
  return job;
}

std::optional<job_row> maybe_job(const pqxx::result& rows) {
  if (rows.empty())
    return std::nullopt;
  return to_job(rows[0]);
}

chunk_row to_chunk(const pqxx::row& r) {
  chunk_row chunk;
  chunk.chunk_id = r[0].as<std::string>();
  chunk.vector_id = r[1].as<int64_t>();
  chunk.chunk_index = r[2].as<int>();
  chunk.text = r[3].as<std::string>();
  chunk.embedded = r[4].as<bool>();
  return chunk;
}

chunk_hit to_hit(const pqxx::row& r) {
  chunk_hit hit;
  hit.vector_id = r[0].as<int64_t>();
  hit.chunk_id = r[1].as<std::string>();
  hit.job_id = r[2].as<std::string>();
  hit.filename = r[3].as<std::string>();
  hit.text = r[4].as<std::string>();
  hit.score = r[5].as<double>();
  hit.section = r[6].as<std::string>();
  return hit;
}

std::string bytes_of(const pqxx::field& f) {
  pqxx::binarystring bytes{f};
  return bytes.str();
}

long long millis(std::chrono::milliseconds d) {
  return static_cast<long long>(d.count());
}

[[noreturn]] void invalid(const char* op, const std::string& what) {
  throw store_error(std::string{"document_store."} + op + ": " + what, false);
}

} // namespace

// -- construction -------------------------------------------------------------

struct document_store::impl {
  explicit impl(const store_config& cfg)
      : pool("document_store", cfg.dsn, cfg.pool_size, cfg.connect_timeout,
             prepare_statements),
        outbox(pool) {}
  store_pool pool;
  postgres::outbox_store outbox;
};

document_store::document_store(store_config cfg)
    : impl_(std::make_unique<impl>(cfg)) {}

document_store::~document_store() = default;

// -- uploads and the API ------------------------------------------------------

job_row document_store::create_upload(const new_upload& upload,
                                      const outbox_message& event) {
  if (!is_uuid(upload.job_id))
    invalid("create_upload", "job id '" + upload.job_id + "' is not a UUID");
  return impl_->pool.run("create_upload", [&](pqxx::work& tx) {
    auto job = to_job(tx.exec_prepared1(
        "insert_job", upload.job_id, upload.filename, upload.content_type,
        static_cast<int64_t>(upload.content.size()), upload.trace_id));
    tx.exec_prepared0("insert_file", upload.job_id,
                      pqxx::binarystring{upload.content});
    postgres::insert_outbox(tx, event);
    return job;
  });
}

std::optional<job_row> document_store::job(const std::string& job_id) {
  if (!is_uuid(job_id))
    return std::nullopt;
  return impl_->pool.run("job", [&](pqxx::work& tx) {
    return maybe_job(tx.exec_prepared("job", job_id));
  });
}

job_page document_store::list_jobs(int limit, int offset,
                                   std::optional<job_status> status) {
  if (limit < 1 || limit > 1000)
    invalid("list_jobs", "limit must be 1..1000, not " + std::to_string(limit));
  if (offset < 0)
    invalid("list_jobs", "offset must be >= 0, not " + std::to_string(offset));
  std::string filter_text{status ? to_string(*status) : ""};
  const char* filter = status ? filter_text.c_str() : nullptr;
  // One snapshot for the page and the total.
  using snapshot = pqxx::transaction<pqxx::repeatable_read, pqxx::read_only>;
  return impl_->pool.run<snapshot>("list_jobs", [&](snapshot& tx) {
    job_page page;
    for (const auto& r : tx.exec_prepared("list_jobs", filter, limit, offset))
      page.jobs.push_back(to_job(r));
    page.total = tx.exec_prepared1("count_jobs", filter)[0].as<int64_t>();
    return page;
  });
}

std::optional<stored_file> document_store::file(const std::string& job_id) {
  if (!is_uuid(job_id))
    return std::nullopt;
  return impl_->pool.run(
      "file", [&](pqxx::work& tx) -> std::optional<stored_file> {
        auto rows = tx.exec_prepared("file", job_id);
        if (rows.empty())
          return std::nullopt;
        return stored_file{rows[0][0].as<std::string>(),
                           rows[0][1].as<std::string>(), bytes_of(rows[0][2])};
      });
}

// -- the pipeline -------------------------------------------------------------

std::optional<job_row> document_store::advance(const std::string& job_id,
                                               job_status status,
                                               int progress) {
  if (status != job_status::processing && status != job_status::chunking &&
      status != job_status::embedding)
    invalid("advance", "status must be processing, chunking or embedding, "
                       "not '" +
                           std::string{to_string(status)} + "'");
  if (!is_uuid(job_id))
    return std::nullopt;
  return impl_->pool.run("advance", [&](pqxx::work& tx) {
    return maybe_job(tx.exec_prepared(
        "advance", job_id, std::string{to_string(status)}, progress));
  });
}

std::optional<job_row> document_store::fail(const std::string& job_id,
                                            const std::string& error) {
  if (!is_uuid(job_id))
    return std::nullopt;
  return impl_->pool.run("fail", [&](pqxx::work& tx) {
    return maybe_job(tx.exec_prepared("fail", job_id, error));
  });
}

std::vector<chunk_row>
document_store::store_chunks(const std::string& job_id,
                             const std::vector<chunk_input>& chunks) {
  if (chunks.empty())
    invalid("store_chunks", "no chunks for job " + job_id);
  if (!is_uuid(job_id))
    invalid("store_chunks", "unknown job '" + job_id + "'");
  auto json = chunks_to_json(chunks);
  return impl_->pool.run("store_chunks", [&](pqxx::work& tx) {
    if (tx.exec_prepared("lock_job", job_id).empty())
      invalid("store_chunks", "unknown job " + job_id);
    tx.exec_prepared0("insert_chunks", job_id, json);
    tx.exec_prepared0("start_embedding", job_id);
    std::vector<chunk_row> rows;
    for (const auto& r : tx.exec_prepared("job_chunks", job_id))
      rows.push_back(to_chunk(r));
    return rows;
  });
}

embed_outcome
document_store::store_embedding(const std::string& chunk_id,
                                const std::vector<float>& embedding,
                                const std::string& model) {
  if (!is_uuid(chunk_id))
    invalid("store_embedding", "unknown chunk '" + chunk_id + "'");
  if (embedding.empty())
    invalid("store_embedding", "empty embedding for chunk " + chunk_id);
  std::string vector;
  try {
    vector = real_array_literal(embedding);
  } catch (const std::invalid_argument& e) {
    invalid("store_embedding",
            "embedding of chunk " + chunk_id + ": " + e.what());
  }
  return impl_->pool.run("store_embedding", [&](pqxx::work& tx) {
    auto found = tx.exec_prepared("lock_chunk_job", chunk_id);
    if (found.empty())
      invalid("store_embedding", "unknown chunk " + chunk_id);
    auto job_id = found[0][0].as<std::string>();
    embed_outcome out;
    out.vector_id = found[0][1].as<int64_t>();
    out.counted =
        !tx.exec_prepared("embed_chunk", chunk_id, vector, model).empty();
    std::optional<job_row> job;
    if (out.counted)
      job = maybe_job(tx.exec_prepared("count_chunk", job_id));
    if (!job)
      job = maybe_job(tx.exec_prepared("job", job_id));
    if (!job) // the chunk's foreign key makes this impossible
      invalid("store_embedding", "job " + job_id + " vanished");
    out.job = std::move(*job);
    return out;
  });
}

std::vector<indexed_chunk> document_store::embedded_chunks_after(int64_t after,
                                                                 int limit) {
  return impl_->pool.run("embedded_chunks_after", [&](pqxx::work& tx) {
    std::vector<indexed_chunk> chunks;
    for (const auto& r : tx.exec_prepared("embedded_after", after, limit)) {
      indexed_chunk c;
      c.vector_id = r[0].as<int64_t>();
      c.chunk_id = r[1].as<std::string>();
      c.job_id = r[2].as<std::string>();
      c.embedding = parse_real_array(r[3].as<std::string>());
      c.text = r[4].as<std::string>();
      chunks.push_back(std::move(c));
    }
    return chunks;
  });
}

std::vector<int64_t> document_store::embedded_ids_since(int64_t since) {
  return impl_->pool.run("embedded_ids_since", [&](pqxx::work& tx) {
    std::vector<int64_t> ids;
    for (const auto& r : tx.exec_prepared("embedded_since", since))
      ids.push_back(r[0].as<int64_t>());
    return ids;
  });
}

std::vector<indexed_chunk>
document_store::embedded_chunks_by_ids(const std::vector<int64_t>& ids) {
  if (ids.empty())
    return {};
  auto array = bigint_array_literal(ids);
  return impl_->pool.run("embedded_chunks_by_ids", [&](pqxx::work& tx) {
    std::vector<indexed_chunk> chunks;
    for (const auto& r : tx.exec_prepared("embedded_by_ids", array)) {
      indexed_chunk c;
      c.vector_id = r[0].as<int64_t>();
      c.chunk_id = r[1].as<std::string>();
      c.job_id = r[2].as<std::string>();
      c.embedding = parse_real_array(r[3].as<std::string>());
      c.text = r[4].as<std::string>();
      chunks.push_back(std::move(c));
    }
    return chunks;
  });
}

clock_reading document_store::read_clock() {
  return impl_->pool.run("read_clock", [&](pqxx::work& tx) {
    auto r = tx.exec_prepared1("read_clock");
    clock_reading out;
    out.now = r[0].as<int64_t>();
    if (!r[1].is_null())
      out.oldest_open = r[1].as<int64_t>();
    return out;
  });
}

std::string document_store::database_id() {
  return impl_->pool.run("database_id", [&](pqxx::work& tx) {
    return tx.exec_prepared1("database_id")[0].as<std::string>();
  });
}

std::vector<chunk_hit>
document_store::chunks_by_vector_ids(const std::vector<int64_t>& ids) {
  if (ids.empty())
    return {};
  auto array = bigint_array_literal(ids);
  return impl_->pool.run("chunks_by_vector_ids", [&](pqxx::work& tx) {
    std::vector<chunk_hit> hits;
    for (const auto& r : tx.exec_prepared("by_vector_ids", array))
      hits.push_back(to_hit(r));
    return hits;
  });
}

std::vector<chunk_row>
document_store::pending_chunks(const std::string& job_id) {
  if (!is_uuid(job_id))
    return {};
  return impl_->pool.run("pending_chunks", [&](pqxx::work& tx) {
    std::vector<chunk_row> rows;
    for (const auto& r : tx.exec_prepared("pending_chunks", job_id))
      rows.push_back(to_chunk(r));
    return rows;
  });
}

std::vector<job_row> document_store::stuck_jobs(std::chrono::milliseconds age,
                                                int limit) {
  return impl_->pool.run("stuck_jobs", [&](pqxx::work& tx) {
    std::vector<job_row> jobs;
    for (const auto& r : tx.exec_prepared("stuck_jobs", millis(age), limit))
      jobs.push_back(to_job(r));
    return jobs;
  });
}

void document_store::touch(const std::string& job_id) {
  if (!is_uuid(job_id))
    return;
  impl_->pool.run("touch",
                  [&](pqxx::work& tx) { tx.exec_prepared0("touch", job_id); });
}

// -- the outbox ---------------------------------------------------------------

void document_store::enqueue(const std::vector<outbox_message>& messages) {
  impl_->outbox.enqueue(messages);
}

std::vector<outbox_row>
document_store::lease_outbox(int limit, std::chrono::milliseconds lease) {
  return impl_->outbox.lease(limit, lease);
}

void document_store::mark_sent(const std::vector<int64_t>& ids) {
  impl_->outbox.mark_sent(ids);
}

void document_store::mark_failed(int64_t id, const std::string& error,
                                 std::chrono::milliseconds retry_in) {
  impl_->outbox.mark_failed(id, error, retry_in);
}

int64_t document_store::outbox_backlog() {
  return impl_->outbox.backlog();
}

} // namespace distiller::documents
