#include "bridges/kafka/source_state.hpp"

#include <algorithm>
#include <utility>

#include "runtime/logging/log.hpp"

// The source bridge's shell: messages become core events (source_core.hpp),
// and the effects the core returns become messages, timers and consumer
// commands.

namespace distiller::kafka::detail {

source_state::~source_state() {
  // An orderly stop has closed the consumer and handed the pool a
  // user_shutdown already; anything still here means the bridge was killed.
  if (loop)
    loop->abort();
  loop.reset();
  dlq_producer.reset();
  if (pool)
    caf::anon_send_exit(pool, caf::exit_reason::kill);
}

supervision::child_factory worker_child(const source_binding& b) {
  return [make = b.worker](caf::actor_system& sys,
                           inspect::actor_entry_ptr entry) {
    return caf::actor_cast<caf::actor>(make(sys, std::move(entry)));
  };
}

source_core_config core_config(const source_binding& b) {
  source_core_config c;
  c.name = b.name;
  c.topic = b.topic;
  c.dlq_topic = b.dlq_topic();
  c.entry_name = b.name + "-source";
  c.mode = b.mode;
  c.retry = b.retry;
  c.max_in_flight = b.max_in_flight;
  c.max_in_flight_per_partition = b.max_in_flight_per_partition;
  c.partition_buffer_limit = b.partition_buffer_limit();
  c.max_batch = b.max_batch;
  c.max_batches_per_worker = b.max_batches_per_worker;
  c.worker_timeout = b.worker_timeout;
  c.drain_timeout = b.drain_timeout;
  return c;
}

namespace {

std::string render(src_actor self, const caf::error& err) {
  return self->system().render(err);
}

/// Sends one batch to its worker; the answer goes back to the core.
void send_batch(src_actor self, source_effects::send& s) {
  auto& st = self->state;
  auto& h = st.handles[s.worker];
  if (!h || h.id() != s.incarnation) {
    // Cannot happen (the core sends only to the incarnation the slot
    // holds); the batch fails as if its worker had gone.
    log::error("worker_handle_missing", {{"bridge", st.binding.name},
                                         {"worker", s.worker},
                                         {"batch", s.batch}});
    perform(self, st.core->on_batch_failed(s.batch, batch_fault::rejected,
                                           "no handle for worker " +
                                               std::to_string(s.worker)));
    return;
  }
  auto id = s.batch;
  self->request(h, st.binding.worker_timeout, std::move(s.records))
      .then(
          [self, id](std::vector<caf::error>& results) {
            on_batch_done(self, id, results);
          },
          [self, id](caf::error& err) { on_batch_failed(self, id, err); });
}

/// Produces the dead letter of `seq`; a letter that cannot even be queued
/// is reported to the core at once (it tries again later).
void produce_dead_letter(src_actor self, uint64_t seq) {
  auto& st = self->state;
  auto req = st.core->dead_letter_of(seq);
  if (!req)
    return;
  failure_info why{req->error, req->attempts, req->first_failure_ms,
                   req->last_failure_ms, st.binding.name};
  auto letter = make_dead_letter(*req->rec, st.dlq_topic, why);
  // The sink bridge (deps.dlq_sink) is not wired yet: see bridge_deps.
  if (auto err = st.dlq_producer->write(seq, letter))
    perform(self, st.core->on_dead_lettered(seq, render(self, err)));
}

void perform_workers(src_actor self, source_effects& fx,
                     const caf::actor* adopt) {
  auto& st = self->state;
  if (st.handles.size() < st.core->workers().size())
    st.handles.resize(st.core->workers().size());
  if (adopt != nullptr && *adopt)
    for (auto i : fx.adopted) {
      st.handles[i] = caf::actor_cast<record_worker_actor>(*adopt);
      self->monitor(*adopt);
    }
  for (auto& k : fx.kills) {
    auto& h = st.handles[k.index];
    if (h && h.id() == k.incarnation) {
      self->send_exit(h, caf::exit_reason::kill);
      h = nullptr;
    }
  }
}

} // namespace

void perform(src_actor self, source_effects fx, const caf::actor* adopt) {
  auto& st = self->state;
  perform_workers(self, fx, adopt);
  if (!fx.pause.empty())
    st.loop->pause(std::move(fx.pause));
  if (!fx.resume.empty())
    st.loop->resume(std::move(fx.resume));
  if (!fx.commits.empty())
    st.loop->commit(std::move(fx.commits));
  if (fx.operator_pause) {
    if (*fx.operator_pause)
      st.loop->operator_pause();
    else
      st.loop->operator_resume();
  }
  for (auto& s : fx.sends)
    send_batch(self, s);
  for (auto seq : fx.dead_letters)
    produce_dead_letter(self, seq);
  for (auto& t : fx.timers)
    if (t.kind == source_effects::timer::retry)
      self->delayed_send(self, t.delay, retry_atom::value, t.id);
    else
      self->delayed_send(self, t.delay, drain_timeout_atom::value, t.id);
  for (auto& r : fx.replies) {
    auto i = st.revokes.find(r.token);
    if (i == st.revokes.end())
      continue;
    i->second->set_value(std::move(r.offsets));
    st.revokes.erase(i);
  }
  for (auto& w : fx.removes)
    remove_worker(self, w);
  for (auto& w : fx.adds)
    add_worker(self, w);
  if (fx.stop_fetching) {
    st.loop->stop_fetching();
    // A bound on the whole stop, in case the consumer cannot close.
    self->delayed_send(self,
                       st.binding.drain_timeout + std::chrono::seconds{30},
                       close_timeout_atom::value);
  }
  if (fx.close)
    st.loop->close(std::move(*fx.close));
  if (st.gate)
    st.gate->publish(st.core->held());
}

void perform(src_actor self, source_effects fx) {
  perform(self, std::move(fx), nullptr);
}

// -- answers
// ----------------------------------------------------------------------

void on_batch_done(src_actor self, uint64_t id,
                   std::vector<caf::error>& results) {
  auto& core = *self->state.core;
  auto n = core.batch_size(id);
  // The worker stops at the first failure (record_worker.hpp); results after
  // it are ignored. A reply shorter than the batch without a failure is a
  // failure of its first missing record.
  std::optional<record_failure> failure;
  size_t ok = 0;
  while (ok < std::min(n, results.size()) && !results[ok])
    ++ok;
  if (ok < std::min(n, results.size()))
    failure =
        record_failure{render(self, results[ok]), is_permanent(results[ok])};
  else if (results.size() < n)
    failure = record_failure{
        render(self,
               caf::make_error(caf::sec::invalid_argument,
                               "worker answered fewer results than records")),
        false};
  perform(self, core.on_batch_done(id, ok, std::move(failure)));
}

void on_batch_failed(src_actor self, uint64_t id, const caf::error& err) {
  auto& st = self->state;
  auto* w = st.core->batch_worker(id);
  if (w == nullptr)
    return;
  if (err == caf::sec::unexpected_message ||
      err == caf::sec::unexpected_response) {
    perform(self, st.core->on_batch_failed(id, batch_fault::rejected,
                                           render(self, err)));
    return;
  }
  auto fault = batch_fault::lost;
  caf::error cause = err;
  if (err == caf::sec::request_timeout) {
    fault = batch_fault::timeout;
    auto text = "worker " + w->name + " did not answer within " +
                std::to_string(st.binding.worker_timeout.count()) + " ms";
    cause = caf::make_error(caf::sec::request_timeout, text);
  }
  perform(self, st.core->on_batch_failed(id, fault, render(self, cause)));
}

void on_worker_down(src_actor self, const caf::actor_addr& who,
                    const caf::error& reason) {
  auto cause = reason ? reason
                      : caf::make_error(caf::sec::request_receiver_down,
                                        "worker stopped");
  perform(self,
          self->state.core->on_worker_down(who.id(), render(self, cause)));
}

void on_worker_restarted(src_actor self, const std::string& name,
                         caf::actor handle) {
  auto why = render(self, caf::make_error(caf::sec::request_receiver_down,
                                          "worker " + name + " restarted"));
  auto fx = self->state.core->on_worker_restarted(
      name, handle ? handle.id() : 0, why);
  perform(self, std::move(fx), &handle);
}

// -- commits
// ----------------------------------------------------------------------

void on_committed(src_actor self, std::vector<partition_offset>& offsets,
                  const caf::error& err) {
  std::optional<std::string> error;
  if (err)
    error = render(self, err);
  self->state.core->on_committed(offsets, error);
}

void on_commit_tick(src_actor self) {
  auto& st = self->state;
  if (st.core->life() == lifecycle::stopped)
    return;
  perform(self, st.core->on_commit_tick());
  if (st.gate) {
    auto holds = st.gate->closings();
    st.metrics->fetch_holds->Increment(
        static_cast<double>(holds - st.fetch_holds_reported));
    st.fetch_holds_reported = holds;
  }
  st.entry->set_mailbox(self->mailbox().size());
  self->delayed_send(self, st.binding.commit_interval, commit_tick_atom::value);
}

// -- shutdown
// ---------------------------------------------------------------------

void begin_shutdown(src_actor self, caf::error reason) {
  auto& st = self->state;
  if (st.core->life() != lifecycle::running)
    return;
  st.exit_reason = std::move(reason);
  auto text =
      st.exit_reason ? render(self, st.exit_reason) : std::string{"none"};
  perform(self, st.core->begin_shutdown(text));
}

void finish_shutdown(src_actor self) {
  auto& st = self->state;
  if (!st.core->finish_shutdown())
    return;
  if (st.pool) {
    self->send_exit(st.pool, caf::exit_reason::user_shutdown);
    st.pool = nullptr;
  }
  self->quit(st.exit_reason);
}

} // namespace distiller::kafka::detail
