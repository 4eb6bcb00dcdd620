#include "bridges/embedded/kafka_cluster.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <system_error>
#include <thread>
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
  if (md)
    if (auto* t = md->find(name))
      return t->partitions;
  return -1;
}

/// Keeps the mock cluster's thread awake while this thread waits on one of
/// its commands. librdkafka 2.0.2's mock sometimes misses the wakeup of a
/// command queued for its thread (rd_kafka_mock_topic_create and the other
/// commands wait for the answer); the thread then serves it only when its
/// I/O poll times out — 1 s, several times over: node starts took 1–3 s
/// longer in about one start of four. Network activity on a broker's
/// listener ends the poll, so while a command waits, a connection is
/// opened and closed there every 10 ms (the mock accepts it and sees it
/// close). Measured with the raw mock: 1 slow run in 120 without it, none
/// in 180 with it.
class mock_waker {
 public:
  explicit mock_waker(const std::string& bootstrap) {
    auto first = bootstrap.substr(0, bootstrap.find(','));
    auto colon = first.rfind(':');
    if (colon == std::string::npos)
      return;
    addr_.sin_family = AF_INET;
    addr_.sin_port =
        htons(static_cast<uint16_t>(std::atoi(first.c_str() + colon + 1)));
    if (::inet_pton(AF_INET, first.substr(0, colon).c_str(), &addr_.sin_addr) !=
        1)
      return;
    thread_ = std::thread{[this] {
      run();
    }};
  }

  ~mock_waker() {
    {
      std::lock_guard<std::mutex> guard{mtx_};
      done_ = true;
    }
    cv_.notify_one();
    if (thread_.joinable())
      thread_.join();
  }

  mock_waker(const mock_waker&) = delete;
  mock_waker& operator=(const mock_waker&) = delete;

 private:
  void run() {
    std::unique_lock<std::mutex> lock{mtx_};
    while (!cv_.wait_for(lock, std::chrono::milliseconds{10},
                         [this] { return done_; })) {
      int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (fd < 0)
        continue;
      ::connect(fd, reinterpret_cast<const sockaddr*>(&addr_), sizeof(addr_));
      ::close(fd);
    }
  }

  sockaddr_in addr_{};
  std::mutex mtx_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

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
  mock_waker waker{bootstrap_};
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
  // asks (rdkafka_mock.c assigns each partition all brokers as replicas):
  // log that replication (what `distiller topics describe` shows), and the
  // catalog's when it differs. It is not asked of the cluster: a metadata
  // client's set-up and teardown cost the node's start about 3 s.
  for (auto& [t, created] : done) {
    int replication = brokers_;
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
