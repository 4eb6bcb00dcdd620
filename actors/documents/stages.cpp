// The document pipeline's stage handlers (pipeline_state.hpp): what the
// chunker, embedder, indexer and job-follower workers do with one record.
// They run on the bridges' worker threads and may block.

#include <chrono>

#include <caf/all.hpp>

#include "actors/documents/job_stream.hpp"
#include "actors/documents/pipeline_state.hpp"
#include "actors/documents/records.hpp"
#include "actors/documents/text/chunker.hpp"
#include "actors/documents/text/extract.hpp"
#include "bridges/kafka/type_ids.hpp"
#include "runtime/core/type_ids.hpp"
#include "runtime/logging/log.hpp"

namespace distiller::documents {

namespace {

using namespace std::chrono_literals;

caf::error undecodable(const std::exception& e) {
  return caf::make_error(kafka::record_errc::undecodable, e.what());
}

caf::error permanent(std::string what) {
  return caf::make_error(kafka::record_errc::permanent, std::move(what));
}

caf::error retry(std::string what) {
  return caf::make_error(caf::sec::runtime_error, std::move(what));
}

/// A store failure: retried when the database may recover, else permanent.
caf::error from_store(const store_error& e) {
  return e.retryable() ? retry(e.what()) : permanent(e.what());
}

/// Marks the job failed (if it is not final yet) and announces it.
void fail_job(pipeline_state& st, const std::string& job_id,
              const std::string& error, const std::string& trace) {
  try {
    if (auto job = st.store->fail(job_id, error)) {
      log::warn("job_failed",
                {{"job_id", job_id}, {"error", error}, {"trace_id", trace}});
      st.announce(*job);
    }
  } catch (const store_error& e) {
    log::error("job_fail_failed",
               {{"job_id", job_id}, {"error", e.what()}, {"trace_id", trace}});
  }
}

void advance(pipeline_state& st, const std::string& job_id, job_status status,
             int progress) {
  if (auto job = st.store->advance(job_id, status, progress))
    st.announce(*job);
}

} // namespace

// -- pipeline_state -----------------------------------------------------------

void pipeline_state::set_sink(kafka::sink_actor s) {
  std::lock_guard<std::mutex> guard{sink_mtx_};
  sink_ = std::move(s);
}

kafka::sink_actor pipeline_state::sink() {
  std::lock_guard<std::mutex> guard{sink_mtx_};
  return sink_;
}

caf::error pipeline_state::produce(std::vector<kafka::out_record> records) {
  if (records.empty())
    return {};
  auto s = sink();
  if (!s)
    return retry("the sink is not running");
  caf::scoped_actor self{sys};
  caf::error result;
  // The sink answers within the delivery timeout (delivered or not); a
  // chunker's batch of a long document may wait behind others in the sink,
  // hence twice that.
  self->request(s, deps.delivery_timeout * 2, atoms::produce_atom_v,
                std::move(records))
      .receive([](std::vector<kafka::delivery>&) {},
               [&](caf::error& e) { result = std::move(e); });
  return result;
}

kafka::out_record pipeline_state::job_update(const job_row& job) const {
  kafka::out_record rec;
  rec.topic = topics::job_updates;
  rec.key = job.job_id;
  rec.value = encode_job(job);
  rec.trace = trace_id{job.trace_id};
  return rec;
}

void pipeline_state::announce(const job_row& job) {
  // This node's own subscribers learn it at once; other nodes through the
  // topic (their follower), and so does this node again (the broadcaster
  // drops states a stream already has). The stage does not wait
  // for the update to be durable: PostgreSQL has the state, the sink logs
  // a failed delivery (kafka_produce_failed), and the job watcher re-reads
  // watched jobs. Waiting here cost a produce round trip per state change.
  broadcast(job);
  if (auto s = sink())
    caf::anon_send(s, atoms::produce_atom_v, job_update(job));
  else
    log::warn("job_update_not_published", {{"job_id", job.job_id},
                                           {"status", to_string(job.status)},
                                           {"error", "the sink is not running"},
                                           {"trace_id", job.trace_id}});
}

void pipeline_state::broadcast(const job_row& job) {
  if (deps.broadcaster)
    deps.broadcaster->publish(job_channel(job.job_id), job_event(job));
}

void pipeline_state::wake_relay() {
  if (deps.wake_relay)
    deps.wake_relay();
}

// -- doc-ingest-requests ------------------------------------------------------

caf::error handle_ingest(pipeline_state& st, const kafka::in_record& rec) {
  ingest_request req;
  try {
    req = decode_ingest(rec.value);
  } catch (const record_error& e) {
    return undecodable(e);
  }
  const auto& id = req.job_id;
  try {
    auto job = st.store->job(id);
    if (!job)
      return permanent("unknown job " + id);
    if (is_final(job->status))
      return {}; // a redelivery after the job ended
    advance(st, id, job_status::processing, 5);
    auto file = st.store->file(id);
    if (!file) {
      fail_job(st, id, "the uploaded file is missing", req.trace_id);
      return {};
    }
    extracted_text doc;
    try {
      doc = extract_text(file->filename, file->content_type, file->content);
    } catch (const extract_error& e) {
      fail_job(st, id, e.what(), req.trace_id);
      return {};
    }
    advance(st, id, job_status::chunking, 10);
    chunk_options opts;
    opts.size = static_cast<size_t>(st.cfg.chunk_size);
    opts.overlap = static_cast<size_t>(st.cfg.chunk_overlap);
    opts.unit = st.cfg.chunk_unit == "tokens" ? chunk_unit::tokens
                                              : chunk_unit::characters;
    auto& text = doc.text;
    auto pieces = split_into_chunks(text, opts);
    if (pieces.empty()) {
      fail_job(st, id, "no text found in " + file->filename, req.trace_id);
      return {};
    }
    std::vector<chunk_input> inputs;
    inputs.reserve(pieces.size());
    for (auto& p : pieces)
      inputs.push_back({static_cast<int>(p.index), std::move(p.text),
                        static_cast<int>(p.token_count),
                        std::string{section_at(doc, p.offset)}});
    auto rows = st.store->store_chunks(id, inputs);
    // Announced before the chunk records exist, so `embedding` goes out with
    // processed_chunks 0 and every embedder's count after it (docs:
    // job-updates, one record per state change).
    if (auto now = st.store->job(id))
      st.announce(*now);
    std::vector<kafka::out_record> out;
    out.reserve(rows.size());
    for (auto& row : rows) {
      if (row.embedded)
        continue;
      kafka::out_record r;
      r.topic = topics::chunks;
      r.key = row.chunk_id;
      r.value = encode(chunk_task{id, row.chunk_id, row.chunk_index,
                                  static_cast<int>(rows.size()), row.text,
                                  req.trace_id});
      r.trace = trace_id{req.trace_id};
      out.push_back(std::move(r));
    }
    if (auto err = st.produce(std::move(out)))
      return err;
    log::info("job_chunked", {{"job_id", id},
                              {"chunks", rows.size()},
                              {"chars", text.size()},
                              {"trace_id", req.trace_id}});
    return {};
  } catch (const store_error& e) {
    if (!e.retryable())
      fail_job(st, id, e.what(), req.trace_id);
    return from_store(e);
  }
}

// -- chunk-processing ---------------------------------------------------------

caf::error handle_chunk(pipeline_state& st, const kafka::in_record& rec) {
  chunk_task task;
  try {
    task = decode_chunk_task(rec.value);
  } catch (const record_error& e) {
    return undecodable(e);
  }
  bool last_attempt = rec.attempt >= st.cfg.max_attempts;
  std::vector<float> vector;
  try {
    auto vs = st.model->embed({task.text});
    if (vs.size() != 1)
      throw embed_error("the embedder returned " + std::to_string(vs.size()) +
                            " vectors for one text",
                        false);
    vector = std::move(vs.front());
  } catch (const embed_error& e) {
    if (!e.retryable() || last_attempt)
      fail_job(st, task.job_id,
               "embedding chunk " + std::to_string(task.chunk_index) +
                   " failed: " + e.what(),
               task.trace_id);
    return e.retryable() ? retry(e.what()) : permanent(e.what());
  }
  try {
    auto outcome =
        st.store->store_embedding(task.chunk_id, vector, st.model->model());
    std::vector<kafka::out_record> out;
    kafka::out_record r;
    r.topic = topics::embedded;
    r.key = task.chunk_id;
    r.value =
        encode(embedded_chunk{task.job_id, task.chunk_id, outcome.vector_id,
                              st.model->model(), std::move(vector), task.text});
    r.trace = trace_id{task.trace_id};
    out.push_back(std::move(r));
    if (auto err = st.produce(std::move(out)))
      return err;
    if (outcome.counted) {
      st.announce(outcome.job);
      if (outcome.job.status == job_status::completed)
        log::info("job_completed", {{"job_id", task.job_id},
                                    {"chunks", outcome.job.total_chunks},
                                    {"trace_id", task.trace_id}});
    }
    return {};
  } catch (const store_error& e) {
    if (!e.retryable() || last_attempt)
      fail_job(st, task.job_id, e.what(), task.trace_id);
    return from_store(e);
  }
}

// -- chunk-embedded -----------------------------------------------------------

caf::error handle_embedded(pipeline_state& st, const kafka::in_record& rec) {
  embedded_chunk x;
  try {
    x = decode_embedded(rec.value);
  } catch (const record_error& e) {
    return undecodable(e);
  }
  if (x.vector.size() != st.index->dimension())
    return permanent("vector of chunk " + x.chunk_id + " has " +
                     std::to_string(x.vector.size()) +
                     " dimensions, the index " +
                     std::to_string(st.index->dimension()));
  st.index->add(x.vector_id, x.vector);
  if (st.sparse && !st.sparse->contains(x.vector_id)) {
    if (x.text.empty()) {
      // A record from before texts travelled with it.
      try {
        for (auto& h : st.store->chunks_by_vector_ids({x.vector_id}))
          x.text = std::move(h.text);
      } catch (const store_error& e) {
        return from_store(e);
      }
    }
    st.sparse->add(x.vector_id, x.text);
  }
  update_index_gauges(st);
  return {};
}

// -- job-updates --------------------------------------------------------------

caf::error handle_job_update(pipeline_state& st, const kafka::in_record& rec) {
  try {
    auto job = decode_job(rec.value);
    st.broadcast(job);
    return {};
  } catch (const record_error& e) {
    return undecodable(e);
  }
}

} // namespace distiller::documents
