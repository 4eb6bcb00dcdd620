#include "actors/documents/document_store.hpp"

#include <algorithm>

#include <pqxx/binarystring>
#include <pqxx/pqxx>

#include "actors/documents/document_sql.hpp"
#include "actors/documents/store_codec.hpp"
#include "actors/documents/store_pool.hpp"

namespace distiller::documents {

namespace {

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
             prepare_document_statements),
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
