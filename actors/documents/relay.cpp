// The document pipeline's reconciler (pipeline_state.hpp): a detached actor
// (its database calls block) driven by a timer. The outbox rows it writes
// are published by the node's relay (bridges/outbox/relay.hpp).

#include <algorithm>
#include <chrono>
#include <set>

#include <caf/all.hpp>

#include "actors/documents/pipeline_state.hpp"
#include "actors/documents/records.hpp"
#include "bridges/kafka/type_ids.hpp"
#include "runtime/core/type_ids.hpp"
#include "runtime/logging/log.hpp"

namespace distiller::documents {

namespace {

using namespace std::chrono_literals;

using atoms::reconcile_atom;

} // namespace

// -- reconciler ---------------------------------------------------------------

namespace {

/// Puts fresh records for `job` in the outbox: an ingest request, or for a
/// job that is embedding one chunk record per chunk not embedded yet.
void redrive(pipeline_state& st, const job_row& job) {
  {
    std::vector<outbox_message> messages;
    std::vector<std::pair<std::string, std::string>> headers{
        {"x-trace-id", job.trace_id}};
    if (job.status == job_status::embedding) {
      auto chunks = st.store->pending_chunks(job.job_id);
      for (auto& c : chunks)
        messages.push_back(
            {topics::chunks, c.chunk_id,
             encode(chunk_task{job.job_id, c.chunk_id, c.chunk_index,
                               job.total_chunks, c.text, job.trace_id}),
             headers});
    } else {
      messages.push_back(
          {topics::ingest, job.job_id,
           encode(ingest_request{job.job_id, job.filename, job.content_type,
                                 job.file_size, job.trace_id}),
           headers});
    }
    if (!messages.empty())
      st.store->enqueue(messages);
    st.store->touch(job.job_id);
    log::info("job_redriven", {{"job_id", job.job_id},
                               {"status", to_string(job.status)},
                               {"records", messages.size()},
                               {"trace_id", job.trace_id}});
  }
}

} // namespace

int reconcile_once(pipeline_state& st) {
  auto jobs = st.store->stuck_jobs(st.cfg.stuck_after, 100);
  for (auto& job : jobs)
    redrive(st, job);
  if (!jobs.empty())
    st.wake_relay();
  return static_cast<int>(jobs.size());
}

int redrive_unfinished(pipeline_state& st) {
  // Oldest change first; a re-driven job is touched and so moves to the
  // end: the walk stops at the first page that brings nothing new.
  std::set<std::string> done;
  for (;;) {
    int fresh = 0;
    for (auto& job : st.store->stuck_jobs(std::chrono::milliseconds{0}, 200))
      if (done.insert(job.job_id).second) {
        redrive(st, job);
        ++fresh;
      }
    if (fresh == 0)
      break;
  }
  if (!done.empty())
    st.wake_relay();
  return static_cast<int>(done.size());
}

reconciler_actor spawn_reconciler(caf::actor_system& sys,
                                  std::shared_ptr<pipeline_state> st,
                                  inspect::actor_entry_ptr entry) {
  return sys.spawn<caf::detached>(
      [](reconciler_actor::pointer self, std::shared_ptr<pipeline_state> st,
         inspect::actor_entry_ptr entry) -> reconciler_actor::behavior_type {
        if (entry)
          entry->set_state("running");
        self->delayed_send(self, st->cfg.reconcile_interval,
                           reconcile_atom::value);
        return {
            [self, st, entry](reconcile_atom) {
              try {
                reconcile_once(*st);
                if (entry)
                  entry->on_message(0);
              } catch (const store_error& e) {
                if (entry)
                  entry->add_failure();
                log::warn("reconciler_store_error", {{"error", e.what()}});
              }
              self->delayed_send(self, st->cfg.reconcile_interval,
                                 reconcile_atom::value);
            },
        };
      },
      std::move(st), std::move(entry));
}

} // namespace distiller::documents
