#include "bridges/kafka_tools/session.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <boost/json.hpp>

#include "bridges/embedded/kafka_cluster.hpp"
#include "runtime/core/data_dir_lock.hpp"
#include "runtime/logging/log.hpp"

namespace distiller::kafka::tools {

namespace {

namespace fs = std::filesystem;

/// The pid `<data_dir>/node.json` names, or 0.
long node_file_pid(const std::string& data_dir) {
  std::ifstream in{fs::path{data_dir} / "node.json"};
  if (!in)
    return 0;
  std::stringstream buf;
  buf << in.rdbuf();
  boost::system::error_code ec;
  auto doc = boost::json::parse(buf.str(), ec);
  if (ec || !doc.is_object())
    return 0;
  auto* pid = doc.as_object().if_contains("pid");
  return pid != nullptr && pid->is_int64() ? static_cast<long>(pid->as_int64())
                                           : 0;
}

/// Whether the node that wrote the bootstrap file is gone, and its pid (0 if
/// nobody said). The data directory's lock decides when it can be probed;
/// otherwise the pid of node.lock or node.json must name a live process.
std::pair<bool, long> writer_gone(const std::string& data_dir) {
  auto pid = read_lock_owner(data_dir).pid;
  if (pid <= 0)
    pid = node_file_pid(data_dir);
  switch (probe_data_dir_lock(data_dir)) {
  case lock_state::held:
    return {false, pid};
  case lock_state::free:
    return {true, pid};
  case lock_state::unknown:
    break;
  }
  return {pid > 0 && !process_alive(pid), pid};
}

} // namespace

caf::expected<cluster_target> locate_cluster(const kafka_config& cfg,
                                             const std::string& data_dir) {
  if (!cfg.brokers.empty())
    return cluster_target{cfg.brokers, "kafka.brokers", false};
  auto file = cfg.bootstrap_file.empty()
                  ? (fs::path{data_dir} / "kafka.bootstrap").string()
                  : cfg.bootstrap_file;
  std::error_code ec;
  if (!fs::exists(file, ec))
    return caf::make_error(
        errc::no_cluster, "no Kafka configured and no running node found at " +
                              file +
                              "; start one with scripts/run or pass --brokers");
  std::string bootstrap;
  try {
    bootstrap = embedded::read_bootstrap_file(file);
  } catch (const std::exception& e) {
    return caf::make_error(errc::no_cluster,
                           std::string{e.what()} +
                               "; start a node with scripts/run or pass "
                               "--brokers");
  }
  // The embedded cluster lives only as long as its node, and a node killed
  // hard leaves the file behind: retrying its address would only time out.
  if (auto [gone, pid] = writer_gone(data_dir); gone)
    return caf::make_error(
        errc::no_cluster,
        "no running node in " + data_dir + ": " + file +
            " is left from a node that stopped (pid " +
            (pid > 0 ? std::to_string(pid) : std::string{"unknown"}) +
            "); start one with scripts/run or pass --brokers");
  return cluster_target{bootstrap, file, true};
}

caf::error session::refresh(std::chrono::milliseconds timeout) {
  auto md = client->describe(timeout);
  if (!md)
    return std::move(md.error());
  info = std::move(*md);
  return caf::none;
}

std::map<std::string, std::string>
session::client_properties(const std::string& role) const {
  auto props = properties;
  props["bootstrap.servers"] = target.bootstrap;
  props["client.id"] = role.empty() ? client_id : client_id + "-" + role;
  return props;
}

connect_settings settings_of(const kafka_config& cfg) {
  connect_settings how;
  how.attempts = cfg.connect_retries;
  how.delay = cfg.connect_retry_delay;
  return how;
}

caf::expected<std::unique_ptr<session>>
open_session(const cluster_target& target, const kafka_config& cfg,
             const connect_settings& how) {
  auto s = std::make_unique<session>();
  s->target = target;
  s->client_id = cfg.client_id + "-tools";
  s->properties["security.protocol"] = cfg.security_protocol;
  try {
    s->client = std::make_unique<cluster_client>(target.bootstrap, s->client_id,
                                                 s->properties);
  } catch (const std::exception& e) {
    return caf::make_error(errc::invalid_config, std::string{e.what()});
  }
  caf::error last_error;
  int attempts = std::max(how.attempts, 1);
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    last_error = s->refresh(how.timeout);
    if (!last_error) {
      log::debug("kafka_connected", {{"bootstrap", target.bootstrap},
                                     {"source", target.source},
                                     {"attempt", attempt}});
      return s;
    }
    log::warn("kafka_unreachable", {{"bootstrap", target.bootstrap},
                                    {"source", target.source},
                                    {"attempt", attempt},
                                    {"max_attempts", attempts},
                                    {"error", error_text(last_error)}});
    if (attempt == attempts || (how.stop != nullptr && how.stop->load()))
      break;
    std::this_thread::sleep_for(how.delay);
  }
  return caf::make_error(
      static_cast<errc>(last_error.code()),
      "cannot reach Kafka at " + target.bootstrap + " (" + target.source +
          ") after " + std::to_string(attempts) + " attempt" +
          (attempts == 1 ? "" : "s") + ": " + error_text(last_error));
}

} // namespace distiller::kafka::tools
