#include "actors/node/services.hpp"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <thread>

#include <boost/json.hpp>

#include "actors/node/node.hpp"
#include "actors/node/pg_keeper.hpp"
#include "bridges/embedded/kafka_cluster.hpp"
#include "bridges/embedded/pg_cluster.hpp"
#include "bridges/kafka/catalog.hpp"
#include "bridges/postgres/connection.hpp"
#include "bridges/postgres/migrations.hpp"
#include "runtime/core/data_dir_lock.hpp"
#include "runtime/core/time.hpp"
#include "runtime/logging/log.hpp"

namespace distiller::node {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

constexpr const char* bootstrap_name = "kafka.bootstrap";
constexpr const char* dsn_name = "postgres.dsn";
constexpr const char* info_name = "services.json";

/// Writes `text` to `path` through a temporary file and a rename, so a
/// reader never sees half of it.
void write_atomically(const fs::path& path, const std::string& text) {
  auto tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out{tmp};
    out << text;
    if (!out)
      throw std::runtime_error("cannot write " + tmp.string());
  }
  fs::rename(tmp, path);
}

std::string first_line(const fs::path& path) {
  std::ifstream in{path};
  std::string line;
  std::getline(in, line);
  return line;
}

std::string start_hint(const std::string& dir) {
  return "; start them with `distiller services up --data-dir " + dir +
         "` (scripts/cluster up does)";
}

} // namespace

std::variant<service_endpoints, std::string>
read_services(const std::string& dir) {
  std::error_code ec;
  auto bootstrap = fs::path{dir} / bootstrap_name;
  auto dsn = fs::path{dir} / dsn_name;
  if (!fs::exists(bootstrap, ec) || !fs::exists(dsn, ec))
    return "no services running in " + dir + " (no " + bootstrap_name +
           " and " + dsn_name + ")" + start_hint(dir);
  // A services process killed hard leaves its files behind; the lock says
  // whether it still runs.
  if (probe_data_dir_lock(dir) == lock_state::free) {
    auto pid = read_lock_owner(dir).pid;
    return "no services running in " + dir +
           ": its files are left from a "
           "process that stopped (pid " +
           (pid > 0 ? std::to_string(pid) : std::string{"unknown"}) + ")" +
           start_hint(dir);
  }
  service_endpoints out;
  out.kafka_bootstrap = first_line(bootstrap);
  out.postgres_dsn = first_line(dsn);
  if (out.kafka_bootstrap.empty() || out.postgres_dsn.empty())
    return "the services in " + dir + " are still starting (empty " +
           (out.kafka_bootstrap.empty() ? bootstrap_name : dsn_name) + ")";
  return out;
}

void apply_services(node_config& cfg) {
  auto& dir = cfg.runtime.node.services_dir;
  if (dir.empty() || (!cfg.kafka.brokers.empty() && !cfg.postgres.dsn.empty()))
    return;
  // The services may be starting next to us (scripts/cluster starts them
  // first, but a supervisor may not): wait a little for the files.
  auto deadline = std::chrono::steady_clock::now() + 30s;
  for (;;) {
    auto found = read_services(dir);
    if (auto* e = std::get_if<service_endpoints>(&found)) {
      if (cfg.kafka.brokers.empty()) {
        cfg.kafka.brokers = e->kafka_bootstrap;
        // The services' Kafka is the embedded one (its group timing).
        cfg.kafka.embedded = true;
      }
      if (cfg.postgres.dsn.empty())
        cfg.postgres.dsn = e->postgres_dsn;
      log::info("services_found",
                {{"services_dir", dir},
                 {"kafka_bootstrap", cfg.kafka.brokers},
                 {"postgres", postgres::redact_dsn(cfg.postgres.dsn)}});
      return;
    }
    if (std::chrono::steady_clock::now() >= deadline)
      throw std::runtime_error(std::get<std::string>(found));
    std::this_thread::sleep_for(200ms);
  }
}

int run_services(node_config cfg, bool banner) {
  block_stop_signals();
  auto& dir = cfg.runtime.node.data_dir;
  std::optional<data_dir_lock> lock;
  try {
    lock.emplace(dir, "services");
    report_lock_taken(*lock);
  } catch (const data_dir_busy& e) {
    report_busy(e);
    return exit_data_dir_busy;
  }
  std::unique_ptr<embedded::kafka_cluster> kafka;
  std::unique_ptr<embedded::pg_cluster> pg;
  std::unique_ptr<pg_keeper> keeper;
  auto remove_files = [&] {
    std::error_code ec;
    for (auto* name : {info_name, bootstrap_name, dsn_name})
      fs::remove(fs::path{dir} / name, ec);
  };
  auto stop_all = [&] {
    remove_files();
    kafka.reset();
    // The keeper first: a server being stopped must not be started again.
    keeper.reset();
    if (pg) {
      pg->stop();
      pg.reset();
    }
  };
  std::string dsn;
  try {
    // Files left by a process killed hard go first: nobody must read them
    // while we start.
    remove_files();
    auto topics = kafka::load_catalog(cfg.kafka.catalog);
    kafka =
        std::make_unique<embedded::kafka_cluster>(cfg.kafka.embedded_brokers);
    kafka->create_topics(topics);
    pg = std::make_unique<embedded::pg_cluster>(cfg.postgres);
    pg->start();
    dsn = pg->dsn();
    // The schema once here, so the nodes that start together do not queue
    // on the migration lock.
    auto conn = postgres::connect(dsn, cfg.postgres.start_timeout);
    auto applied = postgres::migrate(*conn);
    conn.reset();
    // The nodes outlive a crash of this PostgreSQL: start it again.
    if (cfg.postgres.restart)
      keeper = std::make_unique<pg_keeper>(*pg, pg_keeper_settings{}, nullptr);
    write_atomically(fs::path{dir} / dsn_name, dsn + "\n");
    kafka->write_bootstrap_file((fs::path{dir} / bootstrap_name).string());
    boost::json::object info{{"pid", static_cast<int64_t>(::getpid())},
                             {"kafka_bootstrap", kafka->bootstrap()},
                             {"postgres_dsn", dsn},
                             {"started_at", us_to_rfc3339(now_us())}};
    write_atomically(fs::path{dir} / info_name,
                     boost::json::serialize(info) + "\n");
    log::info("services_started", {{"data_dir", dir},
                                   {"kafka_bootstrap", kafka->bootstrap()},
                                   {"topics", topics.topics.size()},
                                   {"postgres", postgres::redact_dsn(dsn)},
                                   {"migrations_applied", applied}});
  } catch (const std::exception& e) {
    log::error("services_start_failed", {{"error", e.what()}});
    std::fprintf(stderr, "distiller: services did not start: %s\n", e.what());
    try {
      stop_all();
    } catch (const std::exception& e2) {
      log::error("services_stop_failed", {{"error", e2.what()}});
    }
    return 1;
  }
  if (banner) {
    auto abs = fs::absolute(dir).string();
    std::printf("\nDistiller services are up in %s.\n"
                "  kafka      %s (embedded mock; %s/%s)\n"
                "  postgres   %s (%s/%s)\n"
                "Nodes use them with --set node.services_dir=%s\n"
                "Press Ctrl-C to stop.\n\n",
                abs.c_str(), kafka->bootstrap().c_str(), abs.c_str(),
                bootstrap_name, postgres::redact_dsn(dsn).c_str(), abs.c_str(),
                dsn_name, abs.c_str());
    std::fflush(stdout);
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int sig = 0;
  sigwait(&set, &sig);
  log::info("services_stopping",
            {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"}});
  try {
    stop_all();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "distiller: stopping the services failed: %s\n",
                 e.what());
    return 1;
  }
  log::info("services_stopped", {{"data_dir", dir}});
  return 0;
}

} // namespace distiller::node
