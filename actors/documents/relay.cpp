// The document pipeline's background actors (pipeline_state.hpp): the
// outbox relay and the reconciler. Both are detached actors (their database
// and Kafka calls block) driven by a timer and, for the relay, by wake-ups
// after uploads.

#include <algorithm>
#include <chrono>

#include <caf/all.hpp>

#include "actors/documents/pipeline_state.hpp"
#include "actors/documents/records.hpp"
#include "bridges/kafka/type_ids.hpp"
#include "runtime/core/type_ids.hpp"
#include "runtime/logging/log.hpp"

namespace distiller::documents {

namespace {

using namespace std::chrono_literals;

/// The relay's periodic timer (wake-ups after uploads use tick_atom).
using relay_timer_atom = caf::atom_constant<caf::atom("relaytimer")>;
using reconcile_atom = caf::atom_constant<caf::atom("reconcile")>;

/// How long a leased outbox row is hidden from other relays: longer than a
/// produce can take (the sink's delivery timeout, 30 s).
constexpr auto lease_time = 120s;

std::chrono::milliseconds retry_delay(int attempts) {
  auto d = 500ms * (1 << std::min(attempts, 6));
  return std::min<std::chrono::milliseconds>(d, 30s);
}

/// Publishes one leased batch; returns the rows handled.
size_t relay_round(pipeline_state& st) {
  auto rows = st.store->lease_outbox(st.cfg.relay_batch, lease_time);
  if (rows.empty())
    return 0;
  std::vector<kafka::out_record> records;
  records.reserve(rows.size());
  for (auto& row : rows) {
    kafka::out_record r;
    r.topic = row.message.topic;
    r.key = row.message.key;
    r.value = row.message.payload;
    for (auto& [k, v] : row.message.headers) {
      if (k == "x-trace-id")
        r.trace = trace_id{v};
      else
        r.headers.push_back({k, v});
    }
    records.push_back(std::move(r));
  }
  auto err = st.produce(std::move(records));
  if (!err) {
    std::vector<int64_t> ids;
    for (auto& row : rows)
      ids.push_back(row.id);
    st.store->mark_sent(ids);
    log::info("outbox_published", {{"rows", rows.size()},
                                   {"first_id", rows.front().id},
                                   {"last_id", rows.back().id}});
    return rows.size();
  }
  auto text = caf::to_string(err);
  for (auto& row : rows)
    st.store->mark_failed(row.id, text, retry_delay(row.attempts));
  log::warn("outbox_publish_failed", {{"rows", rows.size()}, {"error", text}});
  return 0;
}

} // namespace

// -- outbox relay -------------------------------------------------------------

caf::actor spawn_outbox_relay(caf::actor_system& sys,
                              std::shared_ptr<pipeline_state> st,
                              inspect::actor_entry_ptr entry) {
  // Arguments instead of captures: CAF 0.17.6 trips UBSan on function
  // actors spawned without arguments.
  auto relay = sys.spawn<caf::detached>(
      [](caf::event_based_actor* self, std::shared_ptr<pipeline_state> st,
         inspect::actor_entry_ptr entry) -> caf::behavior {
        if (entry)
          entry->set_state("running");
        // One round; a full batch asks for another at once.
        auto round = [self, st, entry] {
          try {
            auto n = relay_round(*st);
            if (entry)
              entry->on_message(self->mailbox().size());
            if (n >= static_cast<size_t>(st->cfg.relay_batch))
              self->send(self, atoms::tick_atom_v);
          } catch (const store_error& e) {
            if (entry)
              entry->add_failure();
            log::warn("outbox_relay_store_error", {{"error", e.what()}});
          }
        };
        self->send(self, relay_timer_atom::value);
        return {
            [round](atoms::tick_atom) { round(); },
            [self, st, round](relay_timer_atom) {
              round();
              self->delayed_send(self, st->cfg.relay_interval,
                                 relay_timer_atom::value);
            },
        };
      },
      st, entry);
  {
    std::lock_guard<std::mutex> guard{st->relay_mtx};
    st->relay = relay;
  }
  return relay;
}

// -- reconciler ---------------------------------------------------------------

int reconcile_once(pipeline_state& st) {
  auto jobs = st.store->stuck_jobs(st.cfg.stuck_after, 100);
  int redriven = 0;
  for (auto& job : jobs) {
    std::vector<outbox_message> messages;
    std::vector<std::pair<std::string, std::string>> headers{
        {"x-trace-id", job.trace_id}};
    if (job.status == "embedding") {
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
    ++redriven;
    log::info("job_redriven", {{"job_id", job.job_id},
                               {"status", job.status},
                               {"records", messages.size()},
                               {"trace_id", job.trace_id}});
  }
  if (redriven > 0)
    st.wake_relay();
  return redriven;
}

caf::actor spawn_reconciler(caf::actor_system& sys,
                            std::shared_ptr<pipeline_state> st,
                            inspect::actor_entry_ptr entry) {
  return sys.spawn<caf::detached>(
      [](caf::event_based_actor* self, std::shared_ptr<pipeline_state> st,
         inspect::actor_entry_ptr entry) -> caf::behavior {
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
