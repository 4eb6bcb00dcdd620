// The steps of a node's start (node_impl.hpp), in the order node::impl::start
// runs them.

#include <boost/json.hpp>
#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <pqxx/pqxx>
#include <signal.h>
#include <sys/resource.h>
#include <thread>

#include "actors/node/node_impl.hpp"

namespace distiller::node {

using detail::ms_since;

namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

/// The Kafka probe: a metadata request; up when the brokers answer and every
/// catalog topic exists with its partitions.
health::check_fn kafka_check(std::string brokers, std::string client_id,
                             std::shared_ptr<kafka::catalog> topics,
                             bool outbox) {
  return [=](std::string& detail) {
    auto md = kafka::fetch_metadata(brokers, client_id, 3s);
    if (!md) {
      detail = kafka::error_text(md.error());
      if (outbox)
        detail += "; uploads and thoughts are accepted and kept in the "
                  "outbox until Kafka is back";
      return health::state::down;
    }
    auto& meta = *md;
    auto missing = kafka::missing_topics(*topics, meta);
    detail = std::to_string(meta.brokers) + " brokers, " +
             std::to_string(meta.topics.size()) + " topics";
    if (!missing.empty()) {
      detail += "; missing:";
      for (auto& t : missing)
        detail += " " + t;
      return health::state::degraded;
    }
    return health::state::up;
  };
}

/// The PostgreSQL probe: `SELECT 1` on a connection of its own, reconnecting
/// after a failure.
health::check_fn postgres_check(std::string dsn) {
  auto conn = std::make_shared<std::unique_ptr<pqxx::connection>>();
  return [dsn, conn](std::string& detail) {
    try {
      if (!*conn || !(*conn)->is_open())
        *conn = postgres::connect(dsn, 2s);
      std::string version;
      {
        pqxx::nontransaction tx{**conn};
        version = tx.exec1("SELECT current_setting('server_version')")[0]
                      .as<std::string>();
      }
      detail = "PostgreSQL " + version + ", schema version " +
               std::to_string(postgres::schema_version(**conn));
      return health::state::up;
    } catch (const std::exception& e) {
      conn->reset();
      detail = e.what();
      return health::state::down;
    }
  };
}

} // namespace

void node::impl::start_shared() {
  if (runs_relay()) {
    outbox_pool = std::make_unique<postgres::connection_pool>(
        "outbox", dsn, 2, std::chrono::milliseconds{5000},
        postgres::prepare_outbox_statements);
    outbox = std::make_unique<postgres::outbox_store>(*outbox_pool);
  }
  if (has_role(cfg, "api"))
    broadcaster = std::make_shared<broadcast::broadcaster>(*sys, cfg.sse,
                                                           &metrics, &actors);
}

void node::impl::start_thoughts() {
  thoughts::pipeline_roles roles;
  roles.api = has_role(cfg, "api");
  roles.thoughts = has_role(cfg, "thoughts");
  if (!roles.api && !roles.thoughts)
    return;
  thoughts::pipeline_deps deps;
  deps.brokers = bootstrap;
  deps.dsn = dsn;
  deps.node_name = cfg.runtime.node.name;
  deps.actors = &actors;
  deps.metrics = &metrics;
  deps.roles = roles;
  deps.broadcaster = broadcaster;
  deps.sink = sink;
  auto waker = relay;
  deps.wake_relay = [waker] {
    waker->wake();
  };
  deps.embedded_kafka = kafka_mock != nullptr;
  deps.make_agent = hooks.make_agent;
  deps.codecs = codecs();
  deps.trace = &traces;
  deps.consumer_properties = kafka::group_properties(cfg.kafka);
  deps.delivery_timeout = cfg.kafka.delivery_timeout;
  thoughts = std::make_unique<thoughts::pipeline>(*sys, cfg.thoughts, deps);
  thoughts->prepare();
}

void node::impl::start_actor_system() {
  sys_cfg = std::make_unique<caf::actor_system_config>();
  sys_cfg->add_message_types<caf::id_block::distiller_runtime>();
  sys_cfg->add_message_types<caf::id_block::distiller_bridges>();
  add_runtime_error_category(*sys_cfg);
  kafka::add_kafka_error_category(*sys_cfg);
  kafka::add_record_error_category(*sys_cfg);
  if (cfg.runtime.node.scheduler_threads > 0)
    sys_cfg->set("scheduler.max-threads",
                 static_cast<size_t>(cfg.runtime.node.scheduler_threads));
  // Connections between nodes (the cluster's middleman) carry heartbeats
  // and drop a silent peer, so a request to a dead node fails instead of
  // waiting; CAF ships both off.
  sys_cfg->set("middleman.heartbeat-interval", caf::timespan{1s});
  sys_cfg->set("middleman.connection-timeout",
               caf::timespan{cfg.cluster.down_after});
  // Idle cost: after each job, CAF 0.17's work-stealing workers poll their
  // queue 500 times 50 µs apart before sleeping on a condition variable,
  // then wake every 10 ms to steal; with the node's timers (commit ticks,
  // stream polls, probes) that alone kept ~4 % of a core busy on an idle
  // node. A job sent to a sleeping worker wakes it at once either way; only
  // stealing between idle workers is slower.
  sys_cfg->set("work-stealing.moderate-poll-attempts", size_t{50});
  sys_cfg->set("work-stealing.relaxed-sleep-duration", caf::timespan{100ms});
  sys_cfg->load<caf::io::middleman>();
  sys = std::make_unique<caf::actor_system>(*sys_cfg);
}

void node::impl::start_kafka() {
  auto t0 = steady::now();
  topics =
      std::make_shared<kafka::catalog>(kafka::load_catalog(cfg.kafka.catalog));
  // A node that takes uploads and thoughts keeps doing so while Kafka is
  // away (the outbox holds them): degraded, not down.
  board.declare("kafka", true, has_role(cfg, "api"));
  if (cfg.kafka.brokers.empty()) {
    kafka_mock =
        std::make_unique<embedded::kafka_cluster>(cfg.kafka.embedded_brokers);
    kafka_mock->create_topics(*topics);
    cfg.kafka.embedded = true;
    bootstrap = kafka_mock->bootstrap();
    if (!cfg.kafka.bootstrap_file.empty())
      kafka_mock->write_bootstrap_file(cfg.kafka.bootstrap_file);
    log::info("kafka_embedded_started",
              {{"bootstrap", bootstrap},
               {"brokers", cfg.kafka.embedded_brokers},
               {"topics", topics->topics.size()},
               {"bootstrap_file", cfg.kafka.bootstrap_file},
               {"duration_ms", ms_since(t0)}});
    return;
  }
  bootstrap = cfg.kafka.brokers;
  // A real cluster may still be starting (seed 002 retries 30 times); the
  // node starts anyway after the retries, reports Kafka down and keeps
  // probing, because uploads are accepted through the outbox meanwhile.
  for (int attempt = 1; attempt <= cfg.kafka.connect_retries; ++attempt) {
    auto md = kafka::fetch_metadata(bootstrap, cfg.kafka.client_id, 5s);
    if (md) {
      log::info("kafka_connected", {{"bootstrap", bootstrap},
                                    {"attempt", attempt},
                                    {"duration_ms", ms_since(t0)}});
      return;
    }
    log::warn("kafka_unreachable", {{"bootstrap", bootstrap},
                                    {"attempt", attempt},
                                    {"max_attempts", cfg.kafka.connect_retries},
                                    {"error", kafka::error_text(md.error())}});
    if (stop_requested)
      return;
    if (attempt < cfg.kafka.connect_retries)
      std::this_thread::sleep_for(cfg.kafka.connect_retry_delay);
  }
}

void node::impl::start_postgres() {
  auto t0 = steady::now();
  board.declare("postgres");
  if (cfg.postgres.dsn.empty()) {
    pg = std::make_unique<embedded::pg_cluster>(cfg.postgres);
    pg->start();
    dsn = pg->dsn();
  } else {
    dsn = cfg.postgres.dsn;
  }
  auto conn = postgres::connect(dsn, cfg.postgres.start_timeout);
  auto applied = postgres::migrate(*conn);
  if (pg && cfg.postgres.restart)
    pg_keep = std::make_unique<pg_keeper>(*pg, pg_keeper_settings{}, &metrics);
  log::info("postgres_ready",
            {{"embedded", pg != nullptr},
             {"migrations_applied", applied},
             {"schema_version", postgres::schema_version(*conn)},
             {"duration_ms", ms_since(t0)}});
}

void node::impl::start_documents() {
  documents::pipeline_roles roles;
  roles.api = has_role(cfg, "api");
  roles.ingest = has_role(cfg, "ingest");
  roles.embed = has_role(cfg, "embed");
  roles.index = has_role(cfg, "index");
  if (!roles.api && !roles.ingest && !roles.embed && !roles.index)
    return;
  documents::pipeline_deps deps;
  deps.brokers = bootstrap;
  deps.dsn = dsn;
  deps.node_name = cfg.runtime.node.name;
  deps.actors = &actors;
  deps.metrics = &metrics;
  deps.roles = roles;
  auto waker = relay;
  deps.wake_relay = [waker] {
    waker->wake();
  };
  deps.broadcaster = broadcaster;
  deps.codecs = codecs();
  deps.trace = &traces;
  deps.consumer_properties = kafka::group_properties(cfg.kafka);
  deps.delivery_timeout = cfg.kafka.delivery_timeout;
  deps.embedded_kafka = kafka_mock != nullptr;
  deps.index_dir = std::filesystem::path{cfg.runtime.node.data_dir} / "index";
  docs = std::make_unique<documents::pipeline>(*sys, cfg.documents, deps);
  docs->prepare();
}

void node::impl::start_supervisor() {
  std::vector<supervision::child_spec> children;
  auto probe_child = [this](std::string component,
                            std::chrono::milliseconds every,
                            health::check_fn check) {
    return supervision::child_spec{
        "probe-" + component, "probe",
        [this, component, every, check](caf::actor_system& s,
                                        inspect::actor_entry_ptr entry) {
          return caf::actor_cast<caf::actor>(health::spawn_probe(
              s, {component, every, check}, board, std::move(entry)));
        }};
  };
  children.push_back(probe_child(
      "kafka", 5s,
      kafka_check(bootstrap, cfg.kafka.client_id, topics, outbox != nullptr)));
  // Every second: /health follows PostgreSQL's return within a second.
  children.push_back(probe_child("postgres", 1s, postgres_check(dsn)));
  kafka::sink_config sc;
  sc.brokers = bootstrap;
  sc.client_id = cfg.runtime.node.name + "-node";
  sc.codecs = codecs();
  sc.delivery_timeout = cfg.kafka.delivery_timeout;
  auto node_sink = sink;
  auto* m = &metrics;
  children.push_back({"node-sink", "sink",
                      [node_sink, sc, m](caf::actor_system& s,
                                         inspect::actor_entry_ptr entry) {
                        auto a = kafka::spawn_sink(s, "node-sink", sc, m,
                                                   std::move(entry));
                        node_sink->set(a);
                        return caf::actor_cast<caf::actor>(a);
                      }});
  if (outbox) {
    outbox::relay_config rc;
    rc.batch = cfg.documents.relay_batch;
    rc.interval = cfg.documents.relay_interval;
    rc.produce_timeout = kafka::produce_wait(cfg.kafka.delivery_timeout);
    outbox::relay_deps rd{outbox.get(), sink};
    auto waker = relay;
    children.push_back(
        {"outbox-relay", "relay",
         [rc, rd, waker](caf::actor_system& s, inspect::actor_entry_ptr entry) {
           auto a = outbox::spawn_outbox_relay(s, rc, rd, std::move(entry));
           waker->set(a);
           return caf::actor_cast<caf::actor>(a);
         }});
  }
  if (docs)
    for (auto& child : docs->children())
      children.push_back(std::move(child));
  if (thoughts)
    for (auto& child : thoughts->children())
      children.push_back(std::move(child));
  supervision::restart_policy policy{cfg.runtime.supervision.max_restarts,
                                     cfg.runtime.supervision.window};
  auto r = supervision::spawn_supervisor(
      *sys, "root", policy, std::move(children), {&actors, &metrics});
  std::lock_guard<std::mutex> guard{root_mtx};
  root = caf::actor_cast<caf::actor>(std::move(r));
}

void node::impl::prepare_cluster() {
  cluster::cluster_deps deps;
  deps.dsn = dsn;
  deps.node_name = cfg.runtime.node.name;
  deps.roles = cfg.runtime.node.roles;
  deps.version = DISTILLER_VERSION;
  deps.actors = &actors;
  deps.metrics = &metrics;
  deps.trace = &traces;
  deps.broadcaster = broadcaster;
  deps.root = [this] {
    return root_actor();
  };
  cluster = std::make_shared<cluster::cluster_node>(*sys, cfg.cluster,
                                                    cfg.shell, deps);
}

void node::impl::start_cluster() {
  cluster->start("http://" + cfg.http.host + ":" + std::to_string(port));
  caf::scoped_actor self{*sys};
  std::string failure;
  self->request(root_actor(), 10s, atoms::add_child_atom_v,
                cluster->membership_child())
      .receive([](const caf::actor&) {},
               [&](const caf::error& e) { failure = sys->render(e); });
  if (!failure.empty())
    throw std::runtime_error("cluster: membership did not start: " + failure);
}

void node::impl::start_http() {
  board.declare("http");
  routes = std::make_shared<http::router>();
  http::add_node_routes(*routes, {cfg.runtime.node.name, DISTILLER_VERSION,
                                  &board, &actors, &metrics});
  auto api =
      std::make_shared<http::openapi_spec>("Distiller", DISTILLER_VERSION);
  http::describe_node_routes(*api);
  web::add_web_routes(*routes, api);
  if (auto service = docs ? docs->service() : nullptr) {
    documents::document_routes_config rc;
    rc.api_docs = api;
    rc.supported_extensions = docs->supported_extensions();
    rc.max_file_bytes = cfg.documents.max_upload_bytes;
    rc.max_question_chars =
        static_cast<size_t>(cfg.documents.max_question_chars);
    rc.max_question_terms =
        static_cast<size_t>(cfg.documents.max_question_terms);
    documents::add_document_routes(*routes, service, rc);
  }
  if (auto service = thoughts ? thoughts->service() : nullptr)
    thoughts::add_thought_routes(*routes, service, {api});
  cluster_routes = cluster::add_cluster_routes(
      *routes, {cluster, broadcaster, sys.get(), &actors, api});
  http::add_openapi_routes(*routes, api);
  web = std::make_unique<http::server>(cfg.http, routes, &metrics, &traces);
  port = web->start();
  board.set("http", health::state::up,
            "listening on " + cfg.http.host + ":" + std::to_string(port));
  if (dir_lock && !dir_lock->set_http_url("http://" + cfg.http.host + ":" +
                                          std::to_string(port)))
    log::warn("data_dir_lock_write_failed", {{"path", dir_lock->path()}});
  log::info("http_listening",
            {{"address", cfg.http.host}, {"port", static_cast<int>(port)}});
}

} // namespace distiller::node
