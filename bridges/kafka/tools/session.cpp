#include "bridges/kafka/tools/session.hpp"

#include <signal.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <boost/json.hpp>

#include "bridges/embedded/kafka_cluster.hpp"
#include "runtime/logging/log.hpp"

namespace distiller::kafka::tools {

namespace {

namespace fs = std::filesystem;

/// The pid in `<data_dir>/node.json` if that node advertised `bootstrap`,
/// else 0.
long node_pid_for(const std::string& data_dir, const std::string& bootstrap) {
  std::ifstream in{fs::path{data_dir} / "node.json"};
  if (!in)
    return 0;
  std::stringstream buf;
  buf << in.rdbuf();
  boost::system::error_code ec;
  auto doc = boost::json::parse(buf.str(), ec);
  if (ec || !doc.is_object())
    return 0;
  auto& obj = doc.as_object();
  auto* pid = obj.if_contains("pid");
  auto* bs = obj.if_contains("kafka_bootstrap");
  if (pid == nullptr || !pid->is_int64() || bs == nullptr || !bs->is_string() ||
      bs->as_string() != bootstrap)
    return 0;
  return static_cast<long>(pid->as_int64());
}

bool process_gone(long pid) {
  return pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

} // namespace

std::variant<cluster_target, std::string>
locate_cluster(const kafka_config& cfg, const std::string& data_dir) {
  if (!cfg.brokers.empty())
    return cluster_target{cfg.brokers, "kafka.brokers", false};
  auto file = cfg.bootstrap_file.empty()
                  ? (fs::path{data_dir} / "kafka.bootstrap").string()
                  : cfg.bootstrap_file;
  std::error_code ec;
  if (!fs::exists(file, ec))
    return "no Kafka configured and no running node found at " + file +
           "; start one with scripts/run or pass --brokers";
  std::string bootstrap;
  try {
    bootstrap = embedded::read_bootstrap_file(file);
  } catch (const std::exception& e) {
    return std::string{e.what()} +
           "; start a node with scripts/run or pass --brokers";
  }
  // The node does not remove the file when it stops; node.json tells
  // whether the process that wrote it is still there.
  if (auto pid = node_pid_for(data_dir, bootstrap); process_gone(pid))
    return "no running node found: " + file + " was written by pid " +
           std::to_string(pid) +
           ", which has exited; start one with scripts/run or pass --brokers";
  return cluster_target{bootstrap, file, true};
}

std::string session::refresh(std::chrono::milliseconds timeout) {
  auto md = client->describe(timeout);
  if (auto* err = std::get_if<std::string>(&md))
    return *err;
  info = std::get<cluster_info>(std::move(md));
  return {};
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

std::variant<std::unique_ptr<session>, std::string>
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
    return std::string{e.what()};
  }
  std::string last_error;
  int attempts = std::max(how.attempts, 1);
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    last_error = s->refresh(how.timeout);
    if (last_error.empty()) {
      log::debug("kafka_connected", {{"bootstrap", target.bootstrap},
                                     {"source", target.source},
                                     {"attempt", attempt}});
      return s;
    }
    log::warn("kafka_unreachable", {{"bootstrap", target.bootstrap},
                                    {"source", target.source},
                                    {"attempt", attempt},
                                    {"max_attempts", attempts},
                                    {"error", last_error}});
    if (attempt == attempts || (how.stop != nullptr && how.stop->load()))
      break;
    std::this_thread::sleep_for(how.delay);
  }
  return "cannot reach Kafka at " + target.bootstrap + " (" + target.source +
         ") after " + std::to_string(attempts) + " attempt" +
         (attempts == 1 ? "" : "s") + ": " + last_error;
}

} // namespace distiller::kafka::tools
