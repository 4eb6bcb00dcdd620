#include "actors/node/node.hpp"
#include "actors/node/node_impl.hpp"

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

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;
using detail::ms_since;

// -- node::impl
// ------------------------------------------------------------------

void node::impl::write_node_file() {
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

void node::impl::start() {
  auto t0 = steady::now();
  log::info("node_starting",
            {{"node", cfg.runtime.node.name}, {"version", DISTILLER_VERSION}});
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

void node::impl::stop() {
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
