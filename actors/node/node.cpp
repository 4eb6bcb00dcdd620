#include "actors/node/node.hpp"

#include <signal.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <thread>

#include <boost/json.hpp>
#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <pqxx/pqxx>

#include "actors/broadcast/broadcaster.hpp"
#include "actors/cluster/cluster_node.hpp"
#include "actors/cluster/cluster_routes.hpp"
#include "actors/documents/document_routes.hpp"
#include "actors/documents/pipeline.hpp"
#include "actors/node/pg_keeper.hpp"
#include "actors/node/services.hpp"
#include "actors/thoughts/pipeline.hpp"
#include "actors/thoughts/thought_routes.hpp"
#include "actors/web/web_routes.hpp"
#include "bridges/embedded/kafka_cluster.hpp"
#include "bridges/embedded/pg_cluster.hpp"
#include "bridges/http/openapi.hpp"
#include "bridges/http/router.hpp"
#include "bridges/http/server.hpp"
#include "bridges/kafka/catalog.hpp"
#include "bridges/kafka/compression.hpp"
#include "bridges/kafka/handles.hpp"
#include "bridges/kafka/in_record.hpp"
#include "bridges/kafka/metadata.hpp"
#include "bridges/kafka/sink.hpp"
#include "bridges/kafka/sink_ref.hpp"
#include "bridges/kafka/type_ids.hpp"
#include "bridges/outbox/relay.hpp"
#include "bridges/postgres/connection.hpp"
#include "bridges/postgres/migrations.hpp"
#include "bridges/postgres/outbox.hpp"
#include "bridges/postgres/pool.hpp"
#include "runtime/core/data_dir_lock.hpp"
#include "runtime/core/errc.hpp"
#include "runtime/core/type_ids.hpp"
#include "runtime/health/health_board.hpp"
#include "runtime/health/probe.hpp"
#include "runtime/inspect/registry.hpp"
#include "runtime/inspect/trace_ring.hpp"
#include "runtime/logging/log.hpp"
#include "runtime/metrics/metrics.hpp"
#include "runtime/supervision/supervisor.hpp"

namespace distiller::node {

namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

long long ms_since(steady::time_point t0) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() -
                                                               t0)
      .count();
}

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

// -- node::impl
// ------------------------------------------------------------------

struct node::impl {
  node_config cfg;
  node_hooks hooks;
  health::health_board board;
  inspect::registry actors;
  /// What happened to each trace id lately (shell's `trace`); borrowed by
  /// the HTTP server, the bridges and their workers, so it outlives them.
  inspect::trace_ring traces;
  metrics::node_metrics metrics;
  std::unique_ptr<caf::actor_system_config> sys_cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::unique_ptr<embedded::kafka_cluster> kafka_mock;
  std::unique_ptr<embedded::pg_cluster> pg;
  /// Restarts `pg` when it exits (only for a server this node started).
  std::unique_ptr<pg_keeper> pg_keep;
  std::shared_ptr<kafka::catalog> topics;
  std::string bootstrap;
  std::string dsn;
  /// The root supervisor; read by the cluster agent's threads, hence the
  /// lock.
  mutable std::mutex root_mtx;
  caf::actor root;
  /// One node per data directory; taken before anything else, released
  /// last.
  std::optional<data_dir_lock> dir_lock;
  /// The node's own sink (outbox relay, thought events) and relay.
  std::shared_ptr<kafka::sink_ref> sink = std::make_shared<kafka::sink_ref>();
  std::shared_ptr<outbox::relay_waker> relay =
      std::make_shared<outbox::relay_waker>();
  std::unique_ptr<postgres::connection_pool> outbox_pool;
  std::unique_ptr<postgres::outbox_store> outbox;
  std::shared_ptr<broadcast::broadcaster> broadcaster;
  std::unique_ptr<documents::pipeline> docs;
  std::unique_ptr<thoughts::pipeline> thoughts;
  std::shared_ptr<cluster::cluster_node> cluster;
  std::shared_ptr<void> cluster_routes;
  std::shared_ptr<http::router> routes;
  std::unique_ptr<http::server> web;
  uint16_t port = 0;
  std::atomic<bool> stop_requested{false};
  bool started = false;
  bool stopped = false;

  impl(node_config c, node_hooks h)
      : cfg(std::move(c)), hooks(std::move(h)), actors(cfg.runtime.node.name),
        metrics(cfg.runtime.node.name) {}

  /// The codec of each topic for every producer of this node: the
  /// catalog's, else kafka.compression.
  kafka::compression_plan codecs() const {
    return kafka::plan_from_catalog(*topics,
                                    kafka::default_compression(cfg.kafka));
  }

  /// Whether this node publishes the outbox: every role that writes to it.
  bool runs_relay() const {
    return has_role(cfg, "relay") || has_role(cfg, "api") ||
           has_role(cfg, "ingest") || has_role(cfg, "thoughts");
  }

  /// The outbox's pool and the SSE broadcaster, shared by both pipelines.
  void start_shared() {
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

  void start_thoughts() {
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
    thoughts = std::make_unique<thoughts::pipeline>(*sys, cfg.thoughts, deps);
    thoughts->prepare();
  }

  void start_actor_system() {
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

  void start_kafka() {
    auto t0 = steady::now();
    topics = std::make_shared<kafka::catalog>(
        kafka::load_catalog(cfg.kafka.catalog));
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
      log::warn("kafka_unreachable",
                {{"bootstrap", bootstrap},
                 {"attempt", attempt},
                 {"max_attempts", cfg.kafka.connect_retries},
                 {"error", kafka::error_text(md.error())}});
      if (stop_requested)
        return;
      if (attempt < cfg.kafka.connect_retries)
        std::this_thread::sleep_for(cfg.kafka.connect_retry_delay);
    }
  }

  void start_postgres() {
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
      pg_keep =
          std::make_unique<pg_keeper>(*pg, pg_keeper_settings{}, &metrics);
    log::info("postgres_ready",
              {{"embedded", pg != nullptr},
               {"migrations_applied", applied},
               {"schema_version", postgres::schema_version(*conn)},
               {"duration_ms", ms_since(t0)}});
  }

  /// The document pipeline's shared state (store, embedder, index rebuilt
  /// from PostgreSQL) for the roles this node runs.
  void start_documents() {
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
    deps.embedded_kafka = kafka_mock != nullptr;
    deps.index_dir = std::filesystem::path{cfg.runtime.node.data_dir} / "index";
    docs = std::make_unique<documents::pipeline>(*sys, cfg.documents, deps);
    docs->prepare();
  }

  void start_supervisor() {
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
    children.push_back(probe_child("kafka", 5s,
                                   kafka_check(bootstrap, cfg.kafka.client_id,
                                               topics, outbox != nullptr)));
    // Every second: /health follows PostgreSQL's return within a second.
    children.push_back(probe_child("postgres", 1s, postgres_check(dsn)));
    kafka::sink_config sc;
    sc.brokers = bootstrap;
    sc.client_id = cfg.runtime.node.name + "-node";
    sc.codecs = codecs();
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
      outbox::relay_deps rd{outbox.get(), sink};
      auto waker = relay;
      children.push_back({"outbox-relay", "relay",
                          [rc, rd, waker](caf::actor_system& s,
                                          inspect::actor_entry_ptr entry) {
                            auto a = outbox::spawn_outbox_relay(
                                s, rc, rd, std::move(entry));
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

  caf::actor root_actor() const {
    std::lock_guard<std::mutex> guard{root_mtx};
    return root;
  }

  /// This node's membership and cluster port (docs/cluster.md); its
  /// routes go in before HTTP starts, the port opens once HTTP listens.
  void prepare_cluster() {
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

  void start_cluster() {
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

  void start_http() {
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

  void write_node_file() {
    namespace fs = std::filesystem;
    boost::json::object info{{"node", cfg.runtime.node.name},
                             {"pid", static_cast<int64_t>(::getpid())},
                             {"http_host", cfg.http.host},
                             {"http_port", port},
                             {"cluster_port", cluster ? cluster->port() : 0},
                             {"kafka_bootstrap", bootstrap},
                             {"embedded_kafka", kafka_mock != nullptr},
                             {"embedded_postgres", pg != nullptr}};
    std::error_code ec;
    fs::create_directories(cfg.runtime.node.data_dir, ec);
    // Written to a temporary file and renamed, so a reader (a script, the
    // shell, a test) never sees half a file.
    auto path = fs::path{cfg.runtime.node.data_dir} / "node.json";
    auto tmp = path;
    tmp += ".tmp";
    {
      std::ofstream out{tmp};
      out << boost::json::serialize(info) << "\n";
    }
    fs::rename(tmp, path, ec);
    if (ec)
      log::warn("node_file_failed",
                {{"path", path.string()}, {"error", ec.message()}});
  }

  void start() {
    auto t0 = steady::now();
    log::info("node_starting", {{"node", cfg.runtime.node.name},
                                {"version", DISTILLER_VERSION}});
    apply_services(cfg);
    start_actor_system();
    start_kafka();
    start_postgres();
    start_shared();
    start_documents();
    start_thoughts();
    start_supervisor();
    prepare_cluster();
    start_http();
    start_cluster();
    write_node_file();
    started = true;
    log::info("node_started", {{"node", cfg.runtime.node.name},
                               {"http_port", static_cast<int>(port)},
                               {"duration_ms", ms_since(t0)}});
  }

  void stop() {
    // Without the lock nothing was started (or a busy directory refused
    // the start): there is nothing to stop and nothing to log.
    if (stopped || !dir_lock)
      return;
    stopped = true;
    auto t0 = steady::now();
    log::info("node_stopping", {{"node", cfg.runtime.node.name}});
    // Reverse start order: leave the cluster (the others see member_left
    // at once, not down after a timeout), end the event streams (each
    // client learns why), stop taking requests, stop actors, close Kafka,
    // then stop the PostgreSQL we started.
    if (cluster)
      cluster->stop();
    if (broadcaster)
      broadcaster->stop();
    if (web) {
      web->stop();
      board.set("http", health::state::stopped);
    }
    // No request comes in any more: the cluster routes' workers may go.
    cluster_routes.reset();
    if (docs)
      docs->stop();
    if (thoughts)
      thoughts->stop();
    if (auto r = root_actor()) {
      caf::anon_send_exit(r, caf::exit_reason::user_shutdown);
      std::lock_guard<std::mutex> guard{root_mtx};
      root = nullptr;
    }
    if (sys) {
      sys->await_all_actors_done();
      // The pipeline's state (store connections, index) outlives its
      // actors; the handles it and the routes keep go before the actor
      // system, whose destructor waits for every detached actor's thread.
      if (docs)
        docs->release_actors();
      if (thoughts)
        thoughts->release_actors();
      sink->reset();
      relay->reset();
      // The server keeps the router, whose routes keep pools of detached
      // actors: both go before the actor system waits for their threads.
      web.reset();
      routes.reset();
      cluster_routes.reset();
      cluster.reset();
      docs.reset();
      thoughts.reset();
      broadcaster.reset();
      outbox.reset();
      outbox_pool.reset();
      sys.reset();
    }
    web.reset();
    // The files that tell other processes where this node listens go first,
    // so no tool connects to a cluster that is about to vanish.
    if (started) {
      std::error_code ec;
      std::filesystem::remove(
          std::filesystem::path{cfg.runtime.node.data_dir} / "node.json", ec);
      if (kafka_mock && !cfg.kafka.bootstrap_file.empty())
        std::filesystem::remove(cfg.kafka.bootstrap_file, ec);
    }
    if (kafka_mock) {
      kafka_mock.reset();
      board.set("kafka", health::state::stopped);
    }
    // The keeper first: a server being stopped must not be started again.
    pg_keep.reset();
    if (pg) {
      pg->stop();
      pg.reset();
      board.set("postgres", health::state::stopped);
    }
    log::info("node_stopped",
              {{"node", cfg.runtime.node.name}, {"duration_ms", ms_since(t0)}});
    // Last: the next node may start once our PostgreSQL is down.
    dir_lock.reset();
  }
};

// -- node
// ------------------------------------------------------------------------

node::node(node_config cfg, node_hooks hooks)
    : impl_(std::make_unique<impl>(std::move(cfg), std::move(hooks))) {}

node::~node() {
  try {
    stop();
  } catch (const std::exception& e) {
    log::error("node_stop_failed", {{"error", e.what()}});
  }
}

void node::start() {
  // Before anything touches the data directory; a busy directory throws
  // data_dir_busy with nothing to undo.
  impl_->dir_lock.emplace(impl_->cfg.runtime.node.data_dir,
                          impl_->cfg.runtime.node.name);
  report_lock_taken(*impl_->dir_lock);
  try {
    impl_->start();
  } catch (const std::exception& e) {
    log::error("node_start_failed", {{"error", e.what()}});
    try {
      impl_->stop();
    } catch (const std::exception& e2) {
      log::error("node_stop_failed", {{"error", e2.what()}});
    }
    throw;
  } catch (...) {
    // Undo what started (a private PostgreSQL above all) before reporting.
    try {
      impl_->stop();
    } catch (const std::exception& e) {
      log::error("node_stop_failed", {{"error", e.what()}});
    }
    throw;
  }
}

void node::wait() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  timespec timeout{0, 200'000'000};
  while (!impl_->stop_requested) {
    int sig = sigtimedwait(&set, nullptr, &timeout);
    if (sig == SIGINT || sig == SIGTERM) {
      log::info("signal_received",
                {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"}});
      return;
    }
  }
}

void node::request_stop() {
  impl_->stop_requested = true;
}

void node::stop() {
  impl_->stop();
}

const node_config& node::config() const noexcept {
  return impl_->cfg;
}

uint16_t node::http_port() const noexcept {
  return impl_->port;
}

const std::string& node::kafka_bootstrap() const noexcept {
  return impl_->bootstrap;
}

documents::pipeline* node::documents() noexcept {
  return impl_->docs.get();
}

thoughts::pipeline* node::thoughts() noexcept {
  return impl_->thoughts.get();
}

embedded::kafka_cluster* node::kafka_mock() noexcept {
  return impl_->kafka_mock.get();
}

cluster::cluster_node* node::cluster() noexcept {
  return impl_->cluster.get();
}

const std::string& node::pg_dsn() const noexcept {
  return impl_->dsn;
}

health::health_board& node::health() noexcept {
  return impl_->board;
}

inspect::registry& node::actors() noexcept {
  return impl_->actors;
}

void report_lock_taken(const data_dir_lock& lock) {
  if (auto& t = lock.taken_over()) {
    if (!t->pid_alive)
      log::warn("data_dir_lock_taken_over", {{"path", lock.path()},
                                             {"old_pid", t->previous.pid},
                                             {"old_node", t->previous.node}});
    else
      log::info("data_dir_lock_taken_over", {{"path", lock.path()},
                                             {"old_pid", t->previous.pid},
                                             {"old_node", t->previous.node},
                                             {"pid_reused", true}});
  }
  if (!lock.owner_written())
    log::warn("data_dir_lock_write_failed", {{"path", lock.path()}});
}

void report_busy(const data_dir_busy& e) {
  auto& o = e.owner();
  std::string who = o.pid > 0 ? "pid " + std::to_string(o.pid) : "pid unknown";
  if (!o.node.empty())
    who = "node '" + o.node + "', " + who;
  who += o.http_url.empty() ? ", still starting" : ", " + o.http_url;
  log::error("data_dir_locked", {{"data_dir", e.dir()},
                                 {"lock", e.lock_path()},
                                 {"owner_pid", o.pid},
                                 {"owner_node", o.node},
                                 {"owner_url", o.http_url}});
  std::fprintf(stderr,
               "distiller: another node already runs in %s (%s); %s is "
               "locked. Stop that node first, or give this one another "
               "--data-dir.\n",
               e.dir().c_str(), who.c_str(), e.lock_path().c_str());
}

void block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

/// Every event stream, PostgreSQL connection and Kafka socket is a file
/// descriptor: the default soft limit (1024) is below sse.max_connections
/// plus the rest, so the node raises it to the hard limit.
void raise_descriptor_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max)
    return;
  auto before = rl.rlim_cur;
  rl.rlim_cur = rl.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
    log::debug("descriptor_limit_raised",
               {{"from", static_cast<uint64_t>(before)},
                {"to", static_cast<uint64_t>(rl.rlim_cur)}});
}

int run(node_config cfg, bool banner) {
  block_stop_signals();
  raise_descriptor_limit();
  node n{std::move(cfg)};
  try {
    n.start();
  } catch (const data_dir_busy& e) {
    report_busy(e);
    return exit_data_dir_busy;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "distiller: start-up failed: %s\n", e.what());
    return 1;
  }
  if (banner) {
    auto& c = n.config();
    auto base = "http://" + c.http.host + ":" + std::to_string(n.http_port());
    std::string kafka = n.kafka_bootstrap();
    if (c.kafka.brokers.empty())
      kafka += " (embedded; bootstrap in " + c.kafka.bootstrap_file + ")";
    auto tokens = std::to_string(c.http.auth.tokens.size()) + " token" +
                  (c.http.auth.tokens.size() == 1 ? "" : "s");
    std::string auth =
        http::auth_required(c.http)
            ? "API token required (" + tokens + " in auth.tokens)"
            : "API token optional on loopback (" + tokens +
                  "; auth.required = true to require one)";
    std::printf("\nDistiller node '%s' is up.\n"
                "  web page   %s/\n"
                "  API docs   %s/docs\n"
                "  health     %s/health\n"
                "  metrics    %s/metrics\n"
                "  inspect    %s/inspect\n"
                "  kafka      %s\n"
                "  postgres   %s\n"
                "  auth       %s\n"
                "Press Ctrl-C to stop.\n\n",
                c.runtime.node.name.c_str(), base.c_str(), base.c_str(),
                base.c_str(), base.c_str(), base.c_str(), kafka.c_str(),
                postgres::redact_dsn(n.pg_dsn()).c_str(), auth.c_str());
    std::fflush(stdout);
  }
  n.wait();
  try {
    n.stop();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "distiller: stop failed: %s\n", e.what());
    return 1;
  }
  return 0;
}

} // namespace distiller::node
