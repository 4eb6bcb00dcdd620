#include "actors/documents/pipeline.hpp"

#include <chrono>

#include <caf/all.hpp>
#include <prometheus/gauge.h>

#include "actors/documents/hashing_embedder.hpp"
#include "actors/documents/http_embedder.hpp"
#include "actors/documents/pipeline_state.hpp"
#include "actors/documents/records.hpp"
#include "actors/documents/text/extract.hpp"
#include "bridges/kafka/record_worker.hpp"
#include "bridges/kafka/sink.hpp"
#include "bridges/kafka/source_binding.hpp"
#include "bridges/kafka/source_bridge.hpp"
#include "runtime/core/ids.hpp"
#include "runtime/logging/log.hpp"

namespace distiller::documents {

namespace {

using namespace std::chrono_literals;

using stage_fn = caf::error (*)(pipeline_state&, const kafka::in_record&);

/// A source bridge for one stage, as a child of the node's root supervisor.
supervision::child_spec bridge_child(std::shared_ptr<pipeline_state> st,
                                     std::string name, std::string topic,
                                     std::string group, kafka::ordering mode,
                                     int pool, stage_fn stage,
                                     std::string offset_reset = "earliest") {
  kafka::source_binding b;
  b.name = name;
  b.topic = std::move(topic);
  b.group = std::move(group);
  b.mode = mode;
  b.pool_size = pool;
  b.retry = backoff_policy{st->cfg.max_attempts, 200ms, 2.0, 10s, 0.2};
  b.auto_offset_reset = std::move(offset_reset);
  b.commit_interval = 500ms;
  // Stages block on PostgreSQL and on the sink's acknowledgements; a
  // generous timeout counts a stuck call as a failure, not a hang.
  b.worker_timeout = 120s;
  b.max_in_flight = 200;
  b.max_in_flight_per_partition = 100;
  b.max_batch = 16;
  kafka::record_worker_options opts;
  opts.trace = st->deps.trace;
  auto factory = kafka::record_worker_factory(
      [st, stage](const kafka::in_record& rec) { return stage(*st, rec); },
      opts);
  b.worker = [st, name, factory](caf::actor_system& sys,
                                 inspect::actor_entry_ptr entry) {
    auto key = entry ? entry->name() : name;
    auto worker = factory(sys, std::move(entry));
    std::lock_guard<std::mutex> guard{st->workers_mtx};
    st->workers[name][key] = worker;
    return worker;
  };
  return supervision::child_spec{
      name + "-bridge", "bridge",
      [st, b](caf::actor_system& sys, inspect::actor_entry_ptr) {
        kafka::bridge_deps deps;
        deps.actors = st->deps.actors;
        deps.metrics = st->deps.metrics;
        deps.codecs = st->deps.codecs;
        deps.trace = st->deps.trace;
        auto bound = b;
        for (auto& [k, v] : st->deps.consumer_properties)
          bound.consumer_properties.emplace(k, v);
        return caf::actor_cast<caf::actor>(
            kafka::spawn_source_bridge(sys, st->deps.brokers, bound, deps));
      }};
}

} // namespace

pipeline::pipeline(caf::actor_system& sys, documents_config cfg,
                   pipeline_deps deps)
    : state_(std::make_shared<pipeline_state>(sys, std::move(cfg),
                                              std::move(deps))) {}

pipeline::~pipeline() {
  stop();
}

void pipeline::prepare() {
  auto& st = *state_;
  store_config sc;
  sc.dsn = st.deps.dsn;
  sc.pool_size = st.cfg.pg_pool;
  st.store = std::make_shared<document_store>(sc);
  if (st.cfg.embedder_kind == "http") {
    http_embedder_config ec;
    ec.url = st.cfg.embedder_url;
    ec.model = st.cfg.embedder_model;
    ec.api_key = st.cfg.embedder_api_key;
    ec.dimension = static_cast<size_t>(st.cfg.embedder_dimension);
    ec.timeout = st.cfg.embedder_timeout;
    st.model = std::make_shared<http_embedder>(ec);
  } else {
    hashing_embedder_config ec;
    ec.dimension = static_cast<size_t>(st.cfg.embedder_dimension);
    st.model = std::make_shared<hashing_embedder>(ec);
  }
  if (st.deps.roles.index) {
    if (auto* m = st.deps.metrics) {
      auto& family = prometheus::BuildGauge()
                         .Name("distiller_index_entries")
                         .Help("Chunks in this node's indexes (dense: FAISS "
                               "vectors, sparse: BM25 documents)")
                         .Register(m->registry());
      st.dense_entries = &family.Add({{"index", "dense"}});
      st.sparse_entries = &family.Add({{"index", "sparse"}});
    }
    if (st.cfg.index_snapshots)
      st.snapshots.dir = st.deps.index_dir;
    open_indexes(st);
  }
  if (st.deps.roles.ingest && st.deps.embedded_kafka) {
    // What the embedded Kafka held died with the last process: publish
    // every unfinished job's work again now, not after stuck_after.
    if (auto n = redrive_unfinished(st))
      log::info("jobs_redriven", {{"jobs", n}, {"reason", "start"}});
  }
  if (st.deps.roles.api) {
    auto* reg = st.deps.actors;
    int n = st.cfg.api_workers;
    st.uploads = std::make_unique<tasks::task_pool>(st.sys, "uploader",
                                                    "uploader", n, reg);
    st.reads =
        std::make_unique<tasks::task_pool>(st.sys, "reader", "reader", n, reg);
    // Bounded: a burst of questions gets 503s instead of a queue whose
    // tail waits longer than any client does.
    st.queries = std::make_unique<tasks::task_pool>(
        st.sys, "query", "query", n, reg,
        static_cast<size_t>(st.cfg.max_queued_queries));
  }
}

std::vector<supervision::child_spec> pipeline::children() {
  auto st = state_;
  auto& roles = st->deps.roles;
  std::vector<supervision::child_spec> out;
  kafka::sink_config sc;
  sc.brokers = st->deps.brokers;
  sc.client_id = st->deps.node_name + "-documents";
  sc.codecs = st->deps.codecs;
  sc.delivery_timeout = st->deps.delivery_timeout;
  out.push_back(
      {"documents-sink", "sink",
       [st, sc](caf::actor_system& sys, inspect::actor_entry_ptr entry) {
         auto sink = kafka::spawn_sink(sys, "documents-sink", sc,
                                       st->deps.metrics, std::move(entry));
         st->set_sink(sink);
         return caf::actor_cast<caf::actor>(sink);
       }});
  if (roles.ingest) {
    out.push_back({"reconciler", "reconciler",
                   [st](caf::actor_system& sys, inspect::actor_entry_ptr e) {
                     return caf::actor_cast<caf::actor>(
                         spawn_reconciler(sys, st, std::move(e)));
                   }});
    out.push_back(bridge_child(st, "chunker", topics::ingest,
                               "distiller-chunker", kafka::ordering::key,
                               st->cfg.chunker_pool, handle_ingest));
  }
  if (roles.embed)
    out.push_back(bridge_child(st, "embedder", topics::chunks,
                               "distiller-embedder", kafka::ordering::unordered,
                               st->cfg.embedder_pool, handle_chunk));
  if (roles.index) {
    // Every query-serving node keeps a full replica: a group of its own.
    out.push_back(bridge_child(st, "indexer", topics::embedded,
                               "distiller-indexer-" + st->deps.node_name,
                               kafka::ordering::unordered, 1, handle_embedded));
    if (!st->snapshots.dir.empty())
      out.push_back({"index-snapshotter", "snapshotter",
                     [st](caf::actor_system& sys, inspect::actor_entry_ptr e) {
                       return caf::actor_cast<caf::actor>(
                           spawn_index_snapshotter(sys, st, std::move(e)));
                     }});
  }
  if (roles.api) {
    // Every API node sees every job's updates: a fresh group of its own
    // from the latest offset (the job watcher covers the time before its
    // first assignment).
    out.push_back(bridge_child(st, "job-follower", topics::job_updates,
                               "distiller-job-updates-" + st->deps.node_name +
                                   "-" + make_uuid().substr(0, 8),
                               kafka::ordering::key, 1, handle_job_update,
                               "latest"));
    out.push_back({"job-watcher", "watcher",
                   [st](caf::actor_system& sys, inspect::actor_entry_ptr e) {
                     return caf::actor_cast<caf::actor>(
                         spawn_job_watcher(sys, st, std::move(e)));
                   }});
  }
  return out;
}

std::shared_ptr<document_service> pipeline::service() {
  if (!state_->deps.roles.api)
    return nullptr;
  return make_service(state_);
}

std::vector<std::string> pipeline::supported_extensions() const {
  return documents::supported_extensions();
}

size_t pipeline::kill_stage_workers(const std::string& stage) {
  std::vector<kafka::record_worker_actor> victims;
  {
    std::lock_guard<std::mutex> guard{state_->workers_mtx};
    if (auto i = state_->workers.find(stage); i != state_->workers.end())
      for (auto& [name, worker] : i->second)
        victims.push_back(worker);
  }
  for (auto& w : victims)
    caf::anon_send_exit(w, caf::exit_reason::kill);
  log::warn("stage_workers_killed",
            {{"stage", stage}, {"workers", victims.size()}});
  return victims.size();
}

size_t pipeline::index_size() const {
  return state_->index ? state_->index->size() : 0;
}

size_t pipeline::sparse_size() const {
  return state_->sparse ? state_->sparse->size() : 0;
}

bool pipeline::snapshot_indexes() {
  return documents::snapshot_indexes(*state_, "request");
}

void pipeline::release_actors() {
  auto& st = *state_;
  st.set_sink(kafka::sink_actor{});
  {
    std::lock_guard<std::mutex> guard{st.workers_mtx};
    st.workers.clear();
  }
  st.uploads.reset();
  st.reads.reset();
  st.queries.reset();
}

void pipeline::stop() {
  if (stopped_)
    return;
  stopped_ = true;
  // Before the actors stop and while PostgreSQL is up: the catch-up reads
  // it. Records the indexer takes after this are in PostgreSQL too.
  documents::snapshot_indexes(*state_, "stop");
  if (state_->uploads)
    state_->uploads->stop();
  if (state_->reads)
    state_->reads->stop();
  if (state_->queries)
    state_->queries->stop();
}

} // namespace distiller::documents
