// The document API as the node implements it (pipeline_state.hpp): each
// call becomes a task for the uploader, reader or query pool, whose actors
// answer through the caller's callback.

#include <algorithm>
#include <chrono>
#include <map>
#include <set>

#include <caf/all.hpp>

#include "actors/documents/document_routes.hpp"
#include "actors/documents/job_stream.hpp"
#include "actors/documents/pipeline_state.hpp"
#include "actors/documents/records.hpp"
#include "actors/documents/search/hybrid.hpp"
#include "runtime/core/ids.hpp"
#include "runtime/core/type_ids.hpp"
#include "runtime/logging/log.hpp"

namespace distiller::documents {

namespace {

using namespace std::chrono_literals;
using atoms::watch_tick_atom;

service_error store_failure(const store_error& e) {
  return {e.retryable() ? service_error::kind::unavailable
                        : service_error::kind::internal,
          e.retryable() ? "database unavailable" : "database error",
          std::string{e.retryable() ? "the database is unavailable: "
                                    : "database error: "} +
              e.what()};
}

service_error not_found(const std::string& job_id) {
  return {service_error::kind::not_found, "job not found",
          "no job with id " + job_id};
}

/// Runs `work` on `pool`, answering `done` with its value or error; answers
/// 503 at once when the pool takes no more work: its queue is full (a
/// bounded pool, `busy` says what) or the node is stopping.
template <class T, class Work>
void run_on(tasks::task_pool* pool, reply<T> done, Work work,
            const char* busy = "the node is stopping") {
  auto shared = std::make_shared<reply<T>>(std::move(done));
  auto task = [shared, work = std::move(work)]() mutable {
    try {
      (*shared)(work());
    } catch (const store_error& e) {
      (*shared)(store_failure(e));
    } catch (const std::exception& e) {
      (*shared)(service_error{service_error::kind::internal, "internal error",
                              e.what()});
    }
  };
  if (!pool || !pool->post(std::move(task)))
    (*shared)(service_error{service_error::kind::unavailable,
                            "service unavailable", busy});
}

class pipeline_service : public document_service {
 public:
  explicit pipeline_service(std::shared_ptr<pipeline_state> st)
      : st_(std::move(st)) {}

  void upload(upload_request req, reply<job_row> done) override {
    auto st = st_;
    run_on<job_row>(st->uploads.get(), std::move(done), [st, req] {
      new_upload up;
      up.job_id = make_uuid();
      up.filename = req.filename;
      up.content_type = req.content_type;
      up.content = req.content;
      up.trace_id = req.trace_id;
      ingest_request ingest{up.job_id, up.filename, up.content_type,
                            static_cast<int64_t>(up.content.size()),
                            up.trace_id};
      outbox_message event{topics::ingest,
                           up.job_id,
                           encode(ingest),
                           {{"x-trace-id", up.trace_id}}};
      auto job = st->store->create_upload(up, event);
      log::info("document_uploaded", {{"job_id", job.job_id},
                                      {"filename", job.filename},
                                      {"bytes", job.file_size},
                                      {"trace_id", job.trace_id}});
      st->wake_relay();
      return outcome<job_row>{std::move(job)};
    });
  }

  void status(std::string job_id, reply<job_row> done) override {
    auto st = st_;
    run_on<job_row>(st->reads.get(), std::move(done), [st, job_id] {
      if (auto job = st->store->job(job_id))
        return outcome<job_row>{std::move(*job)};
      return outcome<job_row>{not_found(job_id)};
    });
  }

  void list_jobs(int limit, int offset, std::optional<job_status> status,
                 reply<job_page> done) override {
    auto st = st_;
    run_on<job_page>(
        st->reads.get(), std::move(done), [st, limit, offset, status] {
          return outcome<job_page>{st->store->list_jobs(limit, offset, status)};
        });
  }

  void file(std::string job_id, reply<stored_file> done) override {
    auto st = st_;
    run_on<stored_file>(st->reads.get(), std::move(done), [st, job_id] {
      if (auto f = st->store->file(job_id))
        return outcome<stored_file>{std::move(*f)};
      return outcome<stored_file>{not_found(job_id)};
    });
  }

  void query(std::string question, int top_k, std::string trace,
             reply<query_answer> done) override {
    auto st = st_;
    run_on<query_answer>(
        st->queries.get(), std::move(done),
        [st, question, top_k, trace]() -> outcome<query_answer> {
          if (!st->index || !st->sparse)
            return service_error{service_error::kind::unavailable,
                                 "search unavailable",
                                 "this node does not run the index role"};
          auto t0 = std::chrono::steady_clock::now();
          auto& cfg = st->cfg;
          // Each half contributes more candidates than asked, so fusion can
          // promote a chunk that both rank well, and duplicates dropped
          // below still leave top_k.
          size_t candidates = static_cast<size_t>(std::max(top_k * 4, 20));
          auto qv = st->model->embed({question});
          auto dense_hits = st->index->search(qv.front(), candidates);
          auto sparse = st->sparse->search(question, candidates);
          // Relevance (docs/document-pipeline.md): the best BM25 hit must
          // match enough of the question's term weight, or the best dense
          // hit be close enough on its own; otherwise nothing in the corpus
          // answers, and showing the nearest chunks would mislead.
          double best_dense =
              dense_hits.empty() ? -1.0 : double{dense_hits.front().score};
          bool relevant = (!sparse.hits.empty() &&
                           sparse.matched_share >= cfg.min_sparse_share) ||
                          best_dense >= cfg.min_dense_score;
          query_answer answer;
          std::vector<int64_t> dense, sparse_ids;
          size_t duplicates = 0;
          if (relevant) {
            for (auto& hit : dense_hits)
              dense.push_back(hit.id);
            for (auto& hit : sparse.hits)
              sparse_ids.push_back(hit.id);
            auto fused = search::fuse(dense, sparse_ids, cfg.rrf_k,
                                      cfg.dense_weight, cfg.sparse_weight);
            std::vector<int64_t> ids;
            for (auto& f : fused)
              ids.push_back(f.id);
            std::map<int64_t, chunk_hit> by_id;
            for (auto& h : st->store->chunks_by_vector_ids(ids))
              by_id.emplace(h.vector_id, std::move(h));
            // The same passage uploaded twice is one source: the first
            // (best-ranked) copy stands for both.
            std::set<std::string> seen;
            for (auto& f : fused) {
              if (answer.sources.size() >= static_cast<size_t>(top_k))
                break;
              auto i = by_id.find(f.id);
              if (i == by_id.end())
                continue; // indexed, but its job was deleted since
              if (!seen.insert(search::passage_key(i->second.text)).second) {
                ++duplicates;
                continue;
              }
              answer.sources.push_back({i->second.chunk_id, i->second.job_id,
                                        i->second.filename, f.score,
                                        i->second.text, i->second.section});
            }
          }
          answer.answer = search::extract_answer(question, answer.sources);
          log::info("query_answered",
                    {{"top_k", top_k},
                     {"dense", dense.size()},
                     {"sparse", sparse_ids.size()},
                     {"matched_share", sparse.matched_share},
                     {"relevant", relevant},
                     {"duplicates", duplicates},
                     {"sources", answer.sources.size()},
                     {"duration_ms",
                      std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now() - t0)
                          .count()},
                     {"trace_id", trace}});
          return answer;
        },
        "the query queue is full (query.max_queued questions wait or run); "
        "retry shortly");
  }

  void events(std::string job_id, std::optional<uint64_t> after,
              http::responder res) override {
    auto st = st_;
    auto bc = st->deps.broadcaster;
    if (!bc) {
      res.send(http::response::error(503, "unavailable",
                                     "this node does not serve event "
                                     "streams"));
      return;
    }
    // The job must exist (404 as plain JSON); its state is then read again
    // by the stream's replay, after the subscription exists, so nothing
    // that happens in between is lost.
    auto shared = std::make_shared<http::responder>(std::move(res));
    status(job_id, [st, bc, job_id, after, shared](outcome<job_row> o) {
      if (auto* e = std::get_if<service_error>(&o)) {
        shared->send(service_error_response(*e));
        return;
      }
      auto store = st->store;
      open_job_stream(bc, job_id, after, std::move(*shared),
                      job_source([store](const std::string& id) {
                        return store->job(id);
                      }));
    });
  }

 private:
  std::shared_ptr<pipeline_state> st_;
};

} // namespace

std::shared_ptr<document_service>
make_service(std::shared_ptr<pipeline_state> st) {
  return std::make_shared<pipeline_service>(std::move(st));
}

job_watcher_actor spawn_job_watcher(caf::actor_system& sys,
                                    std::shared_ptr<pipeline_state> st,
                                    inspect::actor_entry_ptr entry) {
  // Arguments instead of captures: CAF 0.17.6 trips UBSan on function
  // actors spawned without arguments.
  return sys.spawn<caf::detached>(
      [](job_watcher_actor::pointer self, std::shared_ptr<pipeline_state> st,
         inspect::actor_entry_ptr entry) -> job_watcher_actor::behavior_type {
        if (entry)
          entry->set_state("running");
        // What the watcher last handed out per job, to publish changes only.
        auto seen = std::make_shared<std::map<std::string, std::string>>();
        self->delayed_send(self, 1s, watch_tick_atom::value);
        return {
            [self, st, entry, seen](watch_tick_atom) {
              std::vector<std::string> ids;
              if (st->deps.broadcaster)
                for (auto& channel : st->deps.broadcaster->channels("job:"))
                  ids.push_back(channel.substr(4));
              std::map<std::string, std::string> now;
              for (auto& id : ids) {
                try {
                  auto job = st->store->job(id);
                  if (!job)
                    continue;
                  auto stamp = std::string{to_string(job->status)} + "/" +
                               std::to_string(job->processed_chunks) + "/" +
                               job->updated_at;
                  auto i = seen->find(id);
                  if (i == seen->end() || i->second != stamp)
                    st->broadcast(*job);
                  now[id] = std::move(stamp);
                } catch (const store_error& e) {
                  if (entry)
                    entry->add_failure();
                  log::warn("job_watch_store_error",
                            {{"job_id", id}, {"error", e.what()}});
                }
              }
              *seen = std::move(now);
              if (entry)
                entry->on_message(0);
              self->delayed_send(self, 1s, watch_tick_atom::value);
            },
        };
      },
      std::move(st), std::move(entry));
}

} // namespace distiller::documents
