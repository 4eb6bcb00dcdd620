#include "bridges/kafka/sink.hpp"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include <caf/all.hpp>

#include "bridges/kafka/handles.hpp"
#include "bridges/kafka/sink_state.hpp"
#include "runtime/logging/log.hpp"

namespace distiller::kafka {

namespace {

using namespace sink_detail;

using sink_actor_ptr = sink_actor::stateful_pointer<sink_state>;

void* as_opaque(uint64_t id) {
  return reinterpret_cast<void*>(static_cast<uintptr_t>(id));
}

// -- request bookkeeping ------------------------------------------------------

void finish_request(sink_actor_ptr self, uint64_t request_id) {
  auto& st = self->state;
  auto i = st.requests.find(request_id);
  if (i == st.requests.end())
    return;
  auto& req = i->second;
  if (req.first_error)
    req.rp.deliver(std::move(req.first_error));
  else if (req.single)
    req.rp.deliver(std::move(req.results.front()));
  else
    req.rp.deliver(std::move(req.results));
  st.requests.erase(i);
}

void check_flushes(sink_actor_ptr self) {
  auto& st = self->state;
  if (st.flushes.empty())
    return;
  auto lowest = st.records.empty() ? st.next_id : st.records.begin()->first;
  auto done = [&](flush_waiter& w) {
    if (w.last_id >= lowest)
      return false;
    w.rp.deliver(caf::unit);
    return true;
  };
  st.flushes.erase(std::remove_if(st.flushes.begin(), st.flushes.end(), done),
                   st.flushes.end());
}

/// Settles record `id` with a delivery or an error.
void settle(sink_actor_ptr self, uint64_t id, rd_kafka_resp_err_t err,
            int32_t partition, int64_t offset, caf::error failure = {}) {
  auto& st = self->state;
  auto i = st.records.find(id);
  if (i == st.records.end())
    return; // answered already (e.g. failed at shutdown)
  auto rec = std::move(i->second);
  st.records.erase(i);
  auto ok = err == RD_KAFKA_RESP_ERR_NO_ERROR && !failure;
  st.count(rec.topic, ok);
  if (st.latency != nullptr)
    st.latency->Observe(
        std::chrono::duration<double>(clock_type::now() - rec.accepted)
            .count());
  auto r = st.requests.find(rec.request);
  if (r == st.requests.end())
    return;
  auto& req = r->second;
  if (ok) {
    req.results[rec.index] = delivery{rec.topic, partition, offset};
  } else {
    if (!failure)
      failure = from_rdkafka(err, "produce to " + rec.topic);
    log::error("kafka_produce_failed",
               {{"sink", st.sink_name},
                {"topic", rec.topic},
                {"trace_id", rec.trace},
                {"error", self->system().render(failure)}});
    if (!req.first_error)
      req.first_error = std::move(failure);
  }
  if (--req.outstanding == 0)
    finish_request(self, rec.request);
}

// -- producing ----------------------------------------------------------------

void schedule_retry(sink_actor_ptr self) {
  auto& st = self->state;
  if (st.retry_scheduled || st.backlog.empty())
    return;
  st.retry_scheduled = true;
  // Deliveries wake the actor too; the timer keeps the backlog moving when
  // reports are slow to come.
  self->delayed_send(self, std::chrono::milliseconds{10},
                     atoms::delivered_atom_v);
}

/// Enqueues backlog records in order until librdkafka's queue is full.
void drain_backlog(sink_actor_ptr self) {
  auto& st = self->state;
  while (!st.backlog.empty()) {
    auto id = st.backlog.front();
    auto i = st.records.find(id);
    if (i == st.records.end() || !i->second.unsent) {
      st.backlog.pop_front();
      continue;
    }
    auto err = st.producer->enqueue(*i->second.unsent, as_opaque(id));
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL)
      break;
    st.backlog.pop_front();
    i->second.unsent.reset();
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
      settle(self, id, err, -1, -1);
  }
  schedule_retry(self);
}

/// Accepts the records of one request, answered through `rp`.
void accept(sink_actor_ptr self, caf::response_promise rp,
            std::vector<out_record> recs, bool single) {
  auto& st = self->state;
  if (recs.empty()) {
    rp.deliver(std::vector<delivery>{});
    return;
  }
  auto request_id = st.next_request++;
  auto& req = st.requests[request_id];
  req.rp = rp;
  req.single = single;
  req.outstanding = recs.size();
  req.results.resize(recs.size());
  auto now = clock_type::now();
  for (size_t index = 0; index < recs.size(); ++index) {
    auto& rec = recs[index];
    auto id = st.next_id++;
    auto& p = st.records[id];
    p.request = request_id;
    p.index = index;
    p.topic = rec.topic;
    p.trace = rec.trace;
    p.accepted = now;
    if (rec.topic.empty()) {
      settle(self, id, RD_KAFKA_RESP_ERR__INVALID_ARG, -1, -1,
             caf::make_error(errc::invalid_request,
                             "produce: out_record.topic is empty"));
      continue;
    }
    // Behind a backlog, wait in line: per-key order must hold.
    auto err = st.backlog.empty() ? st.producer->enqueue(rec, as_opaque(id))
                                  : RD_KAFKA_RESP_ERR__QUEUE_FULL;
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      p.unsent = std::move(rec);
      st.backlog.push_back(id);
    } else if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      settle(self, id, err, -1, -1);
    }
  }
  schedule_retry(self);
}

/// Fails every record that has not settled yet with `err`.
void fail_all(sink_actor_ptr self, const caf::error& err) {
  auto& st = self->state;
  while (!st.records.empty())
    settle(self, st.records.begin()->first, RD_KAFKA_RESP_ERR__FAIL, -1, -1,
           err);
  st.backlog.clear();
  check_flushes(self);
}

/// Takes the poll thread's reports and answers what they settle. Returns
/// false if the producer hit a fatal error (the actor then quits).
bool collect(sink_actor_ptr self) {
  auto& st = self->state;
  auto& box = st.producer->box;
  box.disarm();
  for (auto& r : box.take())
    settle(self, r.id, r.err, r.partition, r.offset);
  if (auto fatal = box.fatal()) {
    auto err = caf::make_error(errc::fatal, "producer: " + *fatal);
    log::error("kafka_sink_fatal", {{"sink", st.sink_name}, {"error", *fatal}});
    fail_all(self, err);
    if (st.entry) {
      st.entry->add_failure();
      st.entry->set_state("failed");
    }
    self->quit(err);
    return false;
  }
  drain_backlog(self);
  check_flushes(self);
  return true;
}

/// Flushes for at most shutdown_timeout, then fails what is left.
void shutdown(sink_actor_ptr self) {
  auto& st = self->state;
  if (st.entry)
    st.entry->set_state("stopping");
  // From here on this thread serves librdkafka's callbacks itself.
  st.stop_poller();
  auto deadline = clock_type::now() + st.cfg.shutdown_timeout;
  auto step = std::chrono::milliseconds{100};
  for (;;) {
    st.retry_scheduled = true; // no timers: this loop retries the backlog
    drain_backlog(self);
    for (auto& r : st.producer->box.take())
      settle(self, r.id, r.err, r.partition, r.offset);
    check_flushes(self);
    if (st.records.empty())
      break;
    auto now = clock_type::now();
    if (now >= deadline)
      break;
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    rd_kafka_flush(st.rk(), static_cast<int>(std::min(left, step).count()));
  }
  if (!st.records.empty()) {
    log::warn("kafka_sink_shutdown_timeout",
              {{"sink", st.sink_name}, {"outstanding", st.records.size()}});
    rd_kafka_purge(st.rk(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    // Purged records report on the next poll; answer them, then the rest.
    rd_kafka_poll(st.rk(), 0);
    for (auto& r : st.producer->box.take())
      settle(self, r.id, r.err, r.partition, r.offset);
    fail_all(self,
             caf::make_error(errc::timeout, "sink " + st.sink_name +
                                                " stopped before delivery"));
  }
  check_flushes(self);
  log::info("kafka_sink_stopped", {{"sink", st.sink_name},
                                   {"delivered", st.delivered},
                                   {"failed", st.failed}});
}

sink_actor::behavior_type
sink_behavior(sink_actor_ptr self, std::string name, sink_config cfg,
              std::shared_ptr<producer_handle> producer,
              metrics::node_metrics* metrics, inspect::actor_entry_ptr entry) {
  auto& st = self->state;
  st.sink_name = std::move(name);
  st.cfg = std::move(cfg);
  st.producer = std::move(producer);
  st.entry = std::move(entry);
  if (metrics != nullptr) {
    auto& reg = metrics->registry();
    st.produced_family =
        &prometheus::BuildCounter()
             .Name("distiller_kafka_produced_total")
             .Help("Records the Kafka sink produced and the brokers "
                   "acknowledged")
             .Register(reg);
    st.errors_family = &prometheus::BuildCounter()
                            .Name("distiller_kafka_produce_errors_total")
                            .Help("Records the Kafka sink failed to produce")
                            .Register(reg);
    st.latency = &prometheus::BuildHistogram()
                      .Name("distiller_kafka_produce_latency_seconds")
                      .Help("Time from a record's acceptance by the Kafka "
                            "sink to its delivery report")
                      .Register(reg)
                      .Add({{"sink", st.sink_name}},
                           prometheus::Histogram::BucketBoundaries{
                               0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                               0.25, 0.5, 1, 2.5, 5, 10, 30});
  }
  // The poll thread: serves librdkafka's callbacks and wakes the actor when
  // reports are waiting. It holds a handle to the actor until it is joined
  // (state destructor or shutdown).
  auto* rk = st.rk();
  auto* box = &st.producer->box;
  auto* stop = &st.stop_polling;
  st.poller =
      std::thread{[rk, box, stop, target = caf::actor_cast<sink_actor>(self)] {
        while (!stop->load()) {
          rd_kafka_poll(rk, 50);
          if (box->has_news() && box->arm())
            caf::anon_send(target, atoms::delivered_atom_v);
        }
      }};
  if (st.entry)
    st.entry->set_state("running");
  log::info("kafka_sink_started",
            {{"sink", st.sink_name},
             {"brokers", st.cfg.brokers},
             {"compression", to_string(st.cfg.codecs.fallback)},
             {"topic_codecs", st.cfg.codecs.topics.size()},
             {"partitioner", to_string(st.cfg.partitioner)}});
  self->set_exit_handler([self](caf::exit_msg& msg) {
    shutdown(self);
    if (self->state.entry)
      self->state.entry->set_state("stopped");
    self->quit(std::move(msg.reason));
  });
  auto counted = [self] {
    if (self->state.entry)
      self->state.entry->on_message(self->mailbox().size());
  };
  return {
      [self, counted](atoms::produce_atom, out_record& rec)
          -> caf::typed_response_promise<delivery> {
        counted();
        auto rp = self->make_response_promise<delivery>();
        std::vector<out_record> recs;
        recs.push_back(std::move(rec));
        accept(self, rp, std::move(recs), true);
        return rp;
      },
      [self, counted](atoms::produce_atom, std::vector<out_record>& recs)
          -> caf::typed_response_promise<std::vector<delivery>> {
        counted();
        auto rp = self->make_response_promise<std::vector<delivery>>();
        accept(self, rp, std::move(recs), false);
        return rp;
      },
      [self, counted](caf::flush_atom) -> caf::typed_response_promise<void> {
        counted();
        auto& st = self->state;
        auto rp = self->make_response_promise<void>();
        st.flushes.push_back(flush_waiter{st.next_id - 1, rp});
        check_flushes(self);
        return rp;
      },
      [self](atoms::delivered_atom) {
        self->state.retry_scheduled = false;
        collect(self);
      },
  };
}

} // namespace

sink_actor spawn_sink(caf::actor_system& sys, std::string name, sink_config cfg,
                      metrics::node_metrics* metrics,
                      inspect::actor_entry_ptr entry) {
  auto props = producer_properties(cfg);
  auto producer = std::make_shared<producer_handle>(cfg.codecs);
  auto conf = make_conf(props);
  forward_logs(conf.get());
  rd_kafka_conf_set_dr_msg_cb(conf.get(), on_delivery);
  rd_kafka_conf_set_error_cb(conf.get(), on_error);
  rd_kafka_conf_set_opaque(conf.get(), &producer->box);
  producer->rk = make_client(RD_KAFKA_PRODUCER, std::move(conf));
  return sys.spawn<caf::detached>(sink_behavior, std::move(name),
                                  std::move(cfg), std::move(producer), metrics,
                                  std::move(entry));
}

} // namespace distiller::kafka
