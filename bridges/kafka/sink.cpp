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
#include "runtime/logging/log.hpp"

namespace distiller::kafka {

// -- configuration ------------------------------------------------------------

namespace {

[[noreturn]] void bad_option(const std::string& option,
                             const std::string& why) {
  throw std::invalid_argument("sink." + option + ": " + why);
}

} // namespace

std::map<std::string, std::string> producer_properties(const sink_config& cfg) {
  if (cfg.brokers.empty())
    bad_option("brokers", "must not be empty");
  if (cfg.batch_size <= 0)
    bad_option("batch_size", "must be positive");
  if (cfg.linger.count() < 0)
    bad_option("linger", "must not be negative");
  if (cfg.delivery_timeout.count() <= 0)
    bad_option("delivery_timeout", "must be positive");
  if (cfg.shutdown_timeout.count() < 0)
    bad_option("shutdown_timeout", "must not be negative");
  std::map<std::string, std::string> props{
      {"bootstrap.servers", cfg.brokers},
      {"client.id", cfg.client_id},
      {"enable.idempotence", "true"},
      {"acks", "all"},
      {"compression.codec", to_string(cfg.codecs.fallback)},
      {"linger.ms", std::to_string(cfg.linger.count())},
      {"batch.size", std::to_string(cfg.batch_size)},
      {"delivery.timeout.ms", std::to_string(cfg.delivery_timeout.count())},
  };
  for (auto& [key, value] :
       partitioner_properties(cfg.partitioner, cfg.linger.count()))
    props[key] = value;
  for (auto& [key, value] : cfg.extra) {
    if ((key == "acks" || key == "request.required.acks") && value != "all" &&
        value != "-1")
      bad_option("extra." + key, "the sink always produces with acks=all");
    if (key == "enable.idempotence" && value != "true")
      bad_option("extra." + key, "the sink is always idempotent");
    if (key == "delivery.report.only.error" && value != "false")
      bad_option("extra." + key,
                 "the sink answers requests from delivery reports");
    if (key == "transactional.id")
      bad_option("extra." + key,
                 "use transactional_stage for transactional producing");
    props[key] = value;
  }
  return props;
}

// -- producing ----------------------------------------------------------------

rd_kafka_resp_err_t enqueue_record(rd_kafka_t* rk, const out_record& rec,
                                   void* msg_opaque, rd_kafka_topic_t* rkt) {
  auto with_trace = !rec.trace.value().empty();
  headers_ptr hdrs{rd_kafka_headers_new(rec.headers.size() + 1)};
  for (auto& h : rec.headers) {
    if (with_trace && h.key == trace_header)
      continue;
    rd_kafka_header_add(hdrs.get(), h.key.data(),
                        static_cast<ssize_t>(h.key.size()), h.value.data(),
                        static_cast<ssize_t>(h.value.size()));
  }
  if (with_trace)
    rd_kafka_header_add(hdrs.get(), trace_header, -1, rec.trace.value().data(),
                        static_cast<ssize_t>(rec.trace.value().size()));
  rd_kafka_vu_t vus[7];
  size_t n = 0;
  if (rkt != nullptr) {
    vus[n].vtype = RD_KAFKA_VTYPE_RKT;
    vus[n++].u.rkt = rkt;
  } else {
    vus[n].vtype = RD_KAFKA_VTYPE_TOPIC;
    vus[n++].u.cstr = rec.topic.c_str();
  }
  vus[n].vtype = RD_KAFKA_VTYPE_VALUE;
  vus[n].u.mem.ptr = const_cast<char*>(rec.value.data());
  vus[n++].u.mem.size = rec.value.size();
  if (rec.key) {
    vus[n].vtype = RD_KAFKA_VTYPE_KEY;
    vus[n].u.mem.ptr = const_cast<char*>(rec.key->data());
    vus[n++].u.mem.size = rec.key->size();
  }
  vus[n].vtype = RD_KAFKA_VTYPE_PARTITION;
  vus[n++].u.i32 = rec.partition.value_or(RD_KAFKA_PARTITION_UA);
  vus[n].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
  vus[n++].u.i = RD_KAFKA_MSG_F_COPY;
  vus[n].vtype = RD_KAFKA_VTYPE_OPAQUE;
  vus[n++].u.ptr = msg_opaque;
  vus[n].vtype = RD_KAFKA_VTYPE_HEADERS;
  vus[n++].u.headers = hdrs.get();
  auto* error = rd_kafka_produceva(rk, vus, n);
  if (error == nullptr) {
    // librdkafka owns the headers now.
    static_cast<void>(hdrs.release());
    return RD_KAFKA_RESP_ERR_NO_ERROR;
  }
  auto code = rd_kafka_error_code(error);
  rd_kafka_error_destroy(error);
  return code;
}

// -- the poll thread's hand-over ----------------------------------------------

namespace {

using clock_type = std::chrono::steady_clock;

/// One delivery report, as librdkafka's callback saw it.
struct report {
  uint64_t id = 0;
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  int32_t partition = -1;
  int64_t offset = -1;
};

/// Written by librdkafka's callbacks (on whichever thread polls), read by
/// the actor. The wake flag makes the poll thread send at most one
/// (delivered_atom) until the actor has taken the reports.
class inbox {
 public:
  void push(report r) {
    std::lock_guard<std::mutex> guard{mtx_};
    reports_.push_back(r);
  }

  std::vector<report> take() {
    std::lock_guard<std::mutex> guard{mtx_};
    std::vector<report> out;
    out.swap(reports_);
    return out;
  }

  void set_fatal(std::string reason) {
    std::lock_guard<std::mutex> guard{mtx_};
    if (!fatal_)
      fatal_ = std::move(reason);
  }

  std::optional<std::string> fatal() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return fatal_;
  }

  bool has_news() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return !reports_.empty() || fatal_.has_value();
  }

  /// True if the caller should send a wake-up (none is pending).
  bool arm() noexcept { return !wake_pending_.exchange(true); }

  /// Called by the actor before it takes the reports, so a report pushed
  /// after `take` always triggers a new wake-up.
  void disarm() noexcept { wake_pending_.store(false); }

 private:
  mutable std::mutex mtx_;
  std::vector<report> reports_;
  std::optional<std::string> fatal_;
  std::atomic<bool> wake_pending_{false};
};

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* msg, void* opaque) {
  report r;
  r.id = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(msg->_private));
  r.err = msg->err;
  r.partition = msg->partition;
  r.offset = msg->offset;
  static_cast<inbox*>(opaque)->push(r);
}

void on_error(rd_kafka_t* rk, int code, const char* reason, void* opaque) {
  auto err = static_cast<rd_kafka_resp_err_t>(code);
  if (err == RD_KAFKA_RESP_ERR__FATAL) {
    char buf[512];
    auto orig = rd_kafka_fatal_error(rk, buf, sizeof(buf));
    static_cast<inbox*>(opaque)->set_fatal(
        std::string{rd_kafka_err2name(orig)} + ": " + buf);
    return;
  }
  // Transport errors repeat on every reconnect attempt and librdkafka logs
  // them itself; other client errors are worth a warning.
  auto lvl = err == RD_KAFKA_RESP_ERR__TRANSPORT ? log::level::debug
                                                 : log::level::warn;
  if (log::enabled(lvl))
    log::write(lvl, "kafka_client_error",
               {{"client", rd_kafka_name(rk)},
                {"error", rd_kafka_err2name(err)},
                {"reason", reason}});
}

/// The producer and what its callbacks write to. The inbox is declared
/// first so it outlives the producer; the topic handles last, so they go
/// before it.
struct producer_handle {
  explicit producer_handle(compression_plan plan) : codecs(std::move(plan)) {}

  inbox box;
  rd_kafka_ptr rk;
  topic_codecs codecs;

  /// Enqueues `rec` with its topic's codec.
  rd_kafka_resp_err_t enqueue(const out_record& rec, void* opaque) {
    return enqueue_record(rk.get(), rec, opaque,
                          codecs.handle(rk.get(), rec.topic));
  }

  /// Destroys the topic handles, then the producer.
  void destroy() {
    codecs.clear();
    rk.reset();
  }
};

// -- actor state --------------------------------------------------------------

/// One record the sink accepted and has not answered yet.
struct pending_record {
  uint64_t request = 0;
  size_t index = 0;
  std::string topic;
  distiller::trace_id trace;
  clock_type::time_point accepted;
  /// Set while the record waits in the backlog (librdkafka's queue was
  /// full); dropped once librdkafka copied it.
  std::optional<out_record> unsent;
};

/// One produce request: a single record or a vector.
struct request_state {
  caf::response_promise rp;
  bool single = true;
  size_t outstanding = 0;
  std::vector<delivery> results;
  caf::error first_error;
};

struct flush_waiter {
  /// Settled when every record id up to this one has settled.
  uint64_t last_id = 0;
  caf::response_promise rp;
};

struct sink_state {
  static inline const char* name = "kafka_sink";

  std::string sink_name;
  sink_config cfg;
  std::shared_ptr<producer_handle> producer;
  inspect::actor_entry_ptr entry;

  std::atomic<bool> stop_polling{false};
  std::thread poller;

  uint64_t next_id = 1;
  uint64_t next_request = 1;
  /// Ordered: the lowest id tells whether a flush is done.
  std::map<uint64_t, pending_record> records;
  std::deque<uint64_t> backlog;
  std::unordered_map<uint64_t, request_state> requests;
  std::vector<flush_waiter> flushes;
  bool retry_scheduled = false;

  uint64_t delivered = 0;
  uint64_t failed = 0;

  prometheus::Family<prometheus::Counter>* produced_family = nullptr;
  prometheus::Family<prometheus::Counter>* errors_family = nullptr;
  prometheus::Histogram* latency = nullptr;
  std::unordered_map<std::string, prometheus::Counter*> produced_by_topic;
  std::unordered_map<std::string, prometheus::Counter*> errors_by_topic;

  sink_state() = default;
  sink_state(const sink_state&) = delete;
  sink_state& operator=(const sink_state&) = delete;

  ~sink_state() {
    stop_poller();
    if (producer && producer->rk) {
      // Nothing is waiting for these any more (shutdown answered them, or
      // the actor died); do not let rd_kafka_destroy linger over them.
      rd_kafka_purge(producer->rk.get(),
                     RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
      producer->destroy();
    }
  }

  void stop_poller() {
    stop_polling.store(true);
    if (poller.joinable())
      poller.join();
  }

  rd_kafka_t* rk() const noexcept { return producer->rk.get(); }

  void count(const std::string& topic, bool ok) {
    if (ok)
      ++delivered;
    else
      ++failed;
    auto family = ok ? produced_family : errors_family;
    if (family == nullptr)
      return;
    auto& cache = ok ? produced_by_topic : errors_by_topic;
    auto i = cache.find(topic);
    if (i == cache.end())
      i = cache
              .emplace(topic,
                       &family->Add({{"sink", sink_name}, {"topic", topic}}))
              .first;
    i->second->Increment();
  }
};

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
