#include "bridges/embedded/kafka_cluster.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <system_error>
#include <variant>

#include "bridges/kafka/metadata.hpp"
#include "runtime/logging/log.hpp"

namespace distiller::embedded {

namespace {

constexpr int max_brokers = 16;
constexpr int max_partitions = 1024;

/// Partitions of `name` as the running cluster reports them; -1 if unknown.
int partitions_of(const std::string& bootstrap, const std::string& name) {
  auto md = kafka::fetch_metadata(bootstrap, "distiller-embedded-kafka",
                                  std::chrono::seconds{5});
  if (auto* ok = std::get_if<kafka::cluster_metadata>(&md))
    if (auto* t = ok->find(name))
      return t->partitions;
  return -1;
}

} // namespace

kafka_cluster::kafka_cluster(int brokers) : brokers_(brokers) {
  if (brokers < 1 || brokers > max_brokers)
    throw std::invalid_argument("embedded Kafka: brokers must be 1.." +
                                std::to_string(max_brokers) + ", got " +
                                std::to_string(brokers));
  // The bookkeeping producer has no bootstrap.servers on purpose; its
  // "no bootstrap.servers" warning and any other chatter go to debug.
  auto conf = kafka::make_conf({{"client.id", "distiller-embedded-kafka"}});
  kafka::forward_logs(conf.get(), true);
  rk_ = kafka::make_client(RD_KAFKA_PRODUCER, std::move(conf));
  mock_.reset(rd_kafka_mock_cluster_new(rk_.get(), brokers));
  if (!mock_)
    throw std::runtime_error("embedded Kafka: rd_kafka_mock_cluster_new "
                             "failed for " +
                             std::to_string(brokers) + " brokers");
  bootstrap_ = rd_kafka_mock_cluster_bootstraps(mock_.get());
  // The owner (the node) logs the start with its own context.
  log::debug("embedded_kafka_started",
             {{"brokers", brokers}, {"bootstrap", bootstrap_}});
}

kafka_cluster::~kafka_cluster() {
  mock_.reset();
  rk_.reset();
  log::info("embedded_kafka_stopped", {{"bootstrap", bootstrap_}});
}

bool kafka_cluster::create_topic(const std::string& name, int partitions,
                                 int replication) {
  // The mock accepts anything, including names Kafka forbids and 0
  // partitions, which would only fail later in clients.
  if (!kafka::valid_topic_name(name))
    throw std::invalid_argument("embedded Kafka: invalid topic name \"" + name +
                                "\"");
  if (partitions < 1 || partitions > max_partitions)
    throw std::invalid_argument(
        "embedded Kafka: topic " + name + ": partitions must be 1.." +
        std::to_string(max_partitions) + ", got " + std::to_string(partitions));
  replication = std::clamp(replication, 1, brokers_);
  std::lock_guard<std::mutex> guard{mtx_};
  auto err = rd_kafka_mock_topic_create(mock_.get(), name.c_str(), partitions,
                                        replication);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    created_[name] = partitions;
    return true;
  }
  if (err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
    throw std::runtime_error("embedded Kafka: cannot create topic " + name +
                             ": " + rd_kafka_err2str(err));
  // librdkafka 2.0.2's mock answers TOPIC_ALREADY_EXISTS and keeps the old
  // partition count. Topics we created are known; others were auto-created
  // by a client's Metadata request (4 partitions), so ask the cluster.
  int existing = -1;
  if (auto i = created_.find(name); i != created_.end())
    existing = i->second;
  else
    existing = partitions_of(bootstrap_, name);
  if (existing >= 0 && existing < partitions)
    log::warn("topic_partitions_mismatch",
              {{"topic", name},
               {"partitions", existing},
               {"wanted", partitions},
               {"reason", "the mock cluster cannot add partitions; create "
                          "topics before clients use them"}});
  return false;
}

void kafka_cluster::create_topics(const kafka::catalog& c) {
  std::vector<std::pair<const kafka::topic_spec*, bool>> done;
  for (auto& t : c.topics)
    done.emplace_back(&t, create_topic(t.name, t.partitions, t.replication));
  // The mock places every partition on every broker, whatever the catalog
  // asks: log the replication the cluster reports (what `distiller topics
  // describe` shows), and the catalog's when it differs.
  std::optional<kafka::cluster_metadata> md;
  if (!done.empty()) {
    auto got = kafka::fetch_metadata(bootstrap_, "distiller-embedded-kafka",
                                     std::chrono::seconds{5});
    if (auto* ok = std::get_if<kafka::cluster_metadata>(&got))
      md = std::move(*ok);
  }
  for (auto& [t, created] : done) {
    const kafka::topic_metadata* seen = md ? md->find(t->name) : nullptr;
    int replication =
        seen ? seen->replication : std::min(t->replication, brokers_);
    auto event = created ? "topic_created" : "topic_exists";
    if (replication == t->replication)
      log::info(event, {{"topic", t->name},
                        {"partitions", t->partitions},
                        {"replication", replication}});
    else
      log::info(event, {{"topic", t->name},
                        {"partitions", t->partitions},
                        {"replication", replication},
                        {"catalog_replication", t->replication}});
  }
}

void kafka_cluster::write_bootstrap_file(const std::string& path) const {
  namespace fs = std::filesystem;
  fs::path target{path};
  std::error_code ec;
  if (target.has_parent_path()) {
    fs::create_directories(target.parent_path(), ec);
    if (ec)
      throw std::runtime_error("cannot create " +
                               target.parent_path().string() + ": " +
                               ec.message());
  }
  // Readers (other processes polling for the file) never see a partial
  // address: write a sibling and rename it over the target.
  auto tmp = target;
  tmp += ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out{tmp, std::ios::binary | std::ios::trunc};
    out << bootstrap_ << '\n';
    out.flush();
    if (!out) {
      fs::remove(tmp, ec);
      throw std::runtime_error("cannot write " + tmp.string());
    }
  }
  fs::rename(tmp, target, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw std::runtime_error("cannot rename " + tmp.string() + " to " + path +
                             ": " + ec.message());
  }
  log::info("bootstrap_file_written", {{"path", path}});
}

std::string read_bootstrap_file(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  if (!in)
    throw std::runtime_error("cannot read bootstrap file " + path);
  std::string line;
  std::getline(in, line);
  auto blank = [](char c) {
    return c == ' ' || c == '\t' || c == '\r';
  };
  while (!line.empty() && blank(line.back()))
    line.pop_back();
  while (!line.empty() && blank(line.front()))
    line.erase(line.begin());
  if (line.empty())
    throw std::runtime_error("bootstrap file " + path + " is empty");
  return line;
}

} // namespace distiller::embedded
