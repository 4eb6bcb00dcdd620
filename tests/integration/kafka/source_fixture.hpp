#pragma once

/// Shared by the source bridge's integration tests: an embedded Kafka, an
/// actor system with the bridges' error categories, an inspection registry
/// and node metrics to assert on, captured log lines, a producer and readers
/// for topics and committed offsets, and a thread-safe log of what workers
/// processed.

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <caf/all.hpp>
#include <gtest/gtest.h>

#include "bridges/embedded/kafka_cluster.hpp"
#include "bridges/kafka/handles.hpp"
#include "bridges/kafka/in_record.hpp"
#include "bridges/kafka/record_worker.hpp"
#include "bridges/kafka/source_bridge.hpp"
#include "runtime/core/errc.hpp"
#include "runtime/core/type_ids.hpp"
#include "runtime/inspect/registry.hpp"
#include "runtime/inspect/trace_ring.hpp"
#include "runtime/logging/log.hpp"
#include "runtime/metrics/metrics.hpp"
#include "tests/support/testing.hpp"

namespace distiller::kafka::test {

namespace dt = distiller::testing;
using namespace std::chrono_literals;

// -- data
// -----------------------------------------------------------------------

/// A record to produce.
struct test_message {
  int32_t partition = RD_KAFKA_PARTITION_UA;
  std::optional<std::string> key;
  std::string value;
  std::vector<record_header> headers;
};

/// A record read back from a topic.
struct read_record {
  int32_t partition = 0;
  int64_t offset = 0;
  std::optional<std::string> key;
  std::string value;
  std::map<std::string, std::string> headers;
};

/// What a worker saw, in the order workers reported it.
struct seen_record {
  int32_t partition = 0;
  int64_t offset = 0;
  std::string key;
  std::string value;
  int attempt = 0;
  int64_t at_ns = 0;
  std::vector<record_header> headers;
  std::string trace;
};

/// Thread-safe log of processed records.
class record_log {
 public:
  void add(const in_record& r) {
    seen_record s{r.partition,
                  r.offset,
                  r.key.value_or(""),
                  r.value,
                  r.attempt,
                  std::chrono::steady_clock::now().time_since_epoch().count(),
                  r.headers,
                  r.trace.value()};
    std::lock_guard<std::mutex> guard{mtx_};
    done_.insert({r.partition, r.offset});
    items_.push_back(std::move(s));
  }
  std::vector<seen_record> items() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return items_;
  }
  size_t size() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return items_.size();
  }
  /// Distinct (partition, offset) pairs processed.
  size_t distinct() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return done_.size();
  }
  bool contains(int32_t partition, int64_t offset) const {
    std::lock_guard<std::mutex> guard{mtx_};
    return done_.count({partition, offset}) != 0;
  }
  /// True if every offset of `partition` below `offset`, from `from` on,
  /// was processed.
  bool all_below(int32_t partition, int64_t from, int64_t offset) const {
    std::lock_guard<std::mutex> guard{mtx_};
    for (auto o = from; o < offset; ++o)
      if (done_.count({partition, o}) == 0)
        return false;
    return true;
  }

 private:
  mutable std::mutex mtx_;
  std::vector<seen_record> items_;
  std::set<std::pair<int32_t, int64_t>> done_;
};

/// Thread-safe captured log lines.
class line_log {
 public:
  void push(std::string_view line) {
    std::lock_guard<std::mutex> guard{mtx_};
    lines_.emplace_back(line);
  }
  std::vector<std::string>
  matching(const std::vector<std::string>& parts) const {
    std::lock_guard<std::mutex> guard{mtx_};
    std::vector<std::string> out;
    for (auto& l : lines_) {
      bool all = true;
      for (auto& p : parts)
        all = all && l.find(p) != std::string::npos;
      if (all)
        out.push_back(l);
    }
    return out;
  }
  bool contains(const std::vector<std::string>& parts) const {
    return !matching(parts).empty();
  }

 private:
  mutable std::mutex mtx_;
  std::vector<std::string> lines_;
};

/// Value of `key=` in a logfmt line ("" if absent).
inline std::string field_of(const std::string& line, const std::string& key) {
  auto needle = " " + key + "=";
  auto i = line.find(needle);
  if (i == std::string::npos)
    return "";
  i += needle.size();
  if (i < line.size() && line[i] == '"') {
    auto j = line.find('"', i + 1);
    return line.substr(i + 1, j == std::string::npos ? j : j - i - 1);
  }
  auto j = line.find(' ', i);
  return line.substr(i, j == std::string::npos ? j : j - i);
}

// -- fixture
// --------------------------------------------------------------------

class source_fixture : public ::testing::Test {
 protected:
  source_fixture();
  ~source_fixture() override;

  const std::string& brokers() const { return cluster->bootstrap(); }

  /// Creates a topic with a name unique to this test.
  std::string make_topic(const std::string& base, int partitions);

  /// Produces `msgs` (idempotent, acks=all) and waits for every delivery.
  void produce(const std::string& topic, const std::vector<test_message>& msgs);

  /// Reads `count` records of `topic` from the beginning with a fresh group,
  /// or what arrived before `timeout`.
  std::vector<read_record> read_topic(const std::string& topic, size_t count,
                                      std::chrono::milliseconds timeout = 60s);

  /// The offsets `group` committed for `topic` (partitions 0..n-1); -1 when
  /// nothing was committed.
  std::map<int32_t, int64_t> committed(const std::string& group,
                                       const std::string& topic, int n);

  /// The high watermark of each partition.
  std::map<int32_t, int64_t> end_offsets(const std::string& topic, int n);

  /// A binding with test-friendly timings (fast commits, short sessions).
  source_binding make_binding(const std::string& name, const std::string& topic,
                              const std::string& group);

  caf::actor start(source_binding b, commit_observer observer = {});

  /// Orderly stop; returns the bridge's exit reason.
  caf::error stop(const caf::actor& bridge,
                  std::chrono::milliseconds timeout = 60s);

  /// Kills the bridge (a crash) and waits until it is gone.
  void crash(const caf::actor& bridge);

  source_stats stats(const caf::actor& bridge);

  std::shared_ptr<line_log> lines = std::make_shared<line_log>();
  // Registry and metrics outlive the actor system that updates them.
  inspect::registry actors{"test-node"};
  metrics::node_metrics node_metrics{"test-node"};
  std::unique_ptr<embedded::kafka_cluster> cluster;
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::unique_ptr<caf::scoped_actor> self;
  std::vector<caf::actor> bridges;
  /// Passed to the bridges `start` spawns (bridge_deps::trace) when set.
  inspect::trace_ring* trace = nullptr;
};

/// A worker factory that calls `extra` (which may sleep, fail or throw) and
/// records each record it succeeded with in `log`.
inline supervision::child_factory
logging_worker(std::shared_ptr<record_log> log,
               std::function<caf::error(const in_record&)> extra = {}) {
  return record_worker_factory([log, extra](const in_record& r) -> caf::error {
    if (extra)
      if (auto err = extra(r))
        return err;
    log->add(r);
    return caf::none;
  });
}

// -- fixture implementation
// -------------------------------------------------------

namespace detail {

struct delivery_count {
  std::atomic<int> ok{0};
  std::atomic<int> failed{0};
};

inline void count_delivery(rd_kafka_t*, const rd_kafka_message_t* m,
                           void* opaque) {
  auto* c = static_cast<delivery_count*>(opaque);
  if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR)
    ++c->ok;
  else
    ++c->failed;
}

inline int test_serial() {
  static std::atomic<int> n{0};
  return ++n;
}

} // namespace detail

inline source_fixture::source_fixture() {
  log::set_sink([l = lines](std::string_view line) {
    l->push(line);
    if (std::getenv("DISTILLER_TEST_VERBOSE") != nullptr)
      std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()),
                   line.data());
  });
  cluster = std::make_unique<embedded::kafka_cluster>(1);
  add_runtime_error_category(cfg);
  add_kafka_error_category(cfg);
  add_record_error_category(cfg);
  cfg.set("scheduler.max-threads", 2);
  sys = std::make_unique<caf::actor_system>(cfg);
  self = std::make_unique<caf::scoped_actor>(*sys);
}

inline source_fixture::~source_fixture() {
  for (auto& b : bridges)
    caf::anon_send_exit(b, caf::exit_reason::user_shutdown);
  bridges.clear();
  self.reset();
  // Waits for every actor (bridges drain and close their consumers).
  sys.reset();
  cluster.reset();
  log::set_sink({});
}

inline std::string source_fixture::make_topic(const std::string& base,
                                              int partitions) {
  auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = base + "-" + (info ? info->name() : "t") + "-" +
                     std::to_string(detail::test_serial());
  for (auto& c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.'))
      c = '-';
  cluster->create_topic(name, partitions, 1);
  return name;
}

inline void source_fixture::produce(const std::string& topic,
                                    const std::vector<test_message>& msgs) {
  detail::delivery_count counts;
  auto conf = make_conf({{"bootstrap.servers", brokers()},
                         {"client.id", "source-test-producer"},
                         {"enable.idempotence", "true"},
                         {"acks", "all"},
                         {"linger.ms", "5"},
                         {"queue.buffering.max.messages", "1000000"}});
  rd_kafka_conf_set_dr_msg_cb(conf.get(), detail::count_delivery);
  rd_kafka_conf_set_opaque(conf.get(), &counts);
  auto rk = make_client(RD_KAFKA_PRODUCER, std::move(conf));
  for (auto& m : msgs) {
    rd_kafka_headers_t* hdrs = nullptr;
    if (!m.headers.empty()) {
      hdrs = rd_kafka_headers_new(m.headers.size());
      for (auto& h : m.headers)
        rd_kafka_header_add(hdrs, h.key.data(),
                            static_cast<ssize_t>(h.key.size()), h.value.data(),
                            static_cast<ssize_t>(h.value.size()));
    }
    const void* key = m.key ? m.key->data() : nullptr;
    size_t key_len = m.key ? m.key->size() : 0;
    rd_kafka_resp_err_t err;
    do {
      err = rd_kafka_producev(
          rk.get(), RD_KAFKA_V_TOPIC(topic.c_str()),
          RD_KAFKA_V_PARTITION(m.partition), RD_KAFKA_V_KEY(key, key_len),
          RD_KAFKA_V_VALUE(const_cast<char*>(m.value.data()), m.value.size()),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(hdrs),
          RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL)
        rd_kafka_poll(rk.get(), 10);
    } while (err == RD_KAFKA_RESP_ERR__QUEUE_FULL);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (hdrs != nullptr)
        rd_kafka_headers_destroy(hdrs);
      throw std::runtime_error(std::string{"producev: "} +
                               rd_kafka_err2str(err));
    }
  }
  if (auto err = rd_kafka_flush(rk.get(), 60'000))
    throw std::runtime_error(std::string{"flush: "} + rd_kafka_err2str(err));
  if (counts.failed != 0 || counts.ok != static_cast<int>(msgs.size()))
    throw std::runtime_error(
        "produce: " + std::to_string(counts.failed.load()) +
        " deliveries failed");
}

inline std::vector<read_record>
source_fixture::read_topic(const std::string& topic, size_t count,
                           std::chrono::milliseconds timeout) {
  auto conf =
      make_conf({{"bootstrap.servers", brokers()},
                 {"client.id", "source-test-reader"},
                 {"group.id", "reader-" + topic + "-" +
                                  std::to_string(detail::test_serial())},
                 {"auto.offset.reset", "earliest"},
                 {"enable.auto.commit", "false"}});
  auto rk = make_client(RD_KAFKA_CONSUMER, std::move(conf));
  rd_kafka_poll_set_consumer(rk.get());
  topic_partition_list_ptr topics{rd_kafka_topic_partition_list_new(1)};
  rd_kafka_topic_partition_list_add(topics.get(), topic.c_str(),
                                    RD_KAFKA_PARTITION_UA);
  rd_kafka_subscribe(rk.get(), topics.get());
  std::vector<read_record> out;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (out.size() < count && std::chrono::steady_clock::now() < deadline) {
    message_ptr m{rd_kafka_consumer_poll(rk.get(), 100)};
    if (!m || m->err != RD_KAFKA_RESP_ERR_NO_ERROR)
      continue;
    read_record r;
    r.partition = m->partition;
    r.offset = m->offset;
    if (m->key != nullptr)
      r.key.emplace(static_cast<const char*>(m->key), m->key_len);
    if (m->payload != nullptr)
      r.value.assign(static_cast<const char*>(m->payload), m->len);
    rd_kafka_headers_t* hdrs = nullptr;
    if (rd_kafka_message_headers(m.get(), &hdrs) ==
        RD_KAFKA_RESP_ERR_NO_ERROR) {
      const char* name;
      const void* val;
      size_t size;
      for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &val, &size) ==
                         RD_KAFKA_RESP_ERR_NO_ERROR;
           ++i)
        r.headers[name] = val != nullptr
                              ? std::string{static_cast<const char*>(val), size}
                              : std::string{};
    }
    out.push_back(std::move(r));
  }
  rd_kafka_consumer_close(rk.get());
  return out;
}

inline std::map<int32_t, int64_t>
source_fixture::committed(const std::string& group, const std::string& topic,
                          int n) {
  auto conf = make_conf({{"bootstrap.servers", brokers()},
                         {"client.id", "source-test-offsets"},
                         {"group.id", group}});
  auto rk = make_client(RD_KAFKA_CONSUMER, std::move(conf));
  topic_partition_list_ptr l{rd_kafka_topic_partition_list_new(n)};
  for (int p = 0; p < n; ++p)
    rd_kafka_topic_partition_list_add(l.get(), topic.c_str(), p);
  std::map<int32_t, int64_t> out;
  if (auto err = rd_kafka_committed(rk.get(), l.get(), 10'000))
    throw std::runtime_error(std::string{"committed: "} +
                             rd_kafka_err2str(err));
  for (int i = 0; i < l->cnt; ++i)
    out[l->elems[i].partition] = l->elems[i].offset;
  rd_kafka_destroy_flags(rk.release(), RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
  return out;
}

inline std::map<int32_t, int64_t>
source_fixture::end_offsets(const std::string& topic, int n) {
  auto conf = make_conf({{"bootstrap.servers", brokers()},
                         {"client.id", "source-test-watermarks"}});
  auto rk = make_client(RD_KAFKA_PRODUCER, std::move(conf));
  std::map<int32_t, int64_t> out;
  for (int p = 0; p < n; ++p) {
    int64_t lo = 0;
    int64_t hi = 0;
    if (auto err = rd_kafka_query_watermark_offsets(rk.get(), topic.c_str(), p,
                                                    &lo, &hi, 10'000))
      throw std::runtime_error(std::string{"watermarks: "} +
                               rd_kafka_err2str(err));
    out[p] = hi;
  }
  return out;
}

inline source_binding source_fixture::make_binding(const std::string& name,
                                                   const std::string& topic,
                                                   const std::string& group) {
  source_binding b;
  b.name = name;
  b.topic = topic;
  b.group = group;
  b.commit_interval = 200ms;
  b.drain_timeout = 10s;
  b.retry = backoff_policy{3, 20ms, 2.0, 1s, 0.0};
  b.consumer_properties = {{"session.timeout.ms", "6000"},
                           {"heartbeat.interval.ms", "500"}};
  return b;
}

inline caf::actor source_fixture::start(source_binding b,
                                        commit_observer observer) {
  bridge_deps deps;
  deps.actors = &actors;
  deps.metrics = &node_metrics;
  deps.on_commit = std::move(observer);
  deps.trace = trace;
  auto bridge = spawn_source_bridge(*sys, brokers(), std::move(b), deps);
  bridges.push_back(bridge);
  return bridge;
}

inline caf::error source_fixture::stop(const caf::actor& bridge,
                                       std::chrono::milliseconds timeout) {
  (*self)->monitor(bridge);
  (*self)->send_exit(bridge, caf::exit_reason::user_shutdown);
  caf::error reason = caf::make_error(caf::sec::request_timeout);
  bool done = false;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done && std::chrono::steady_clock::now() < deadline)
    (*self)->receive(
        [&](caf::down_msg& dm) {
          if (dm.source == bridge.address()) {
            reason = dm.reason;
            done = true;
          }
        },
        caf::after(100ms) >> [] {});
  return reason;
}

inline void source_fixture::crash(const caf::actor& bridge) {
  (*self)->monitor(bridge);
  (*self)->send_exit(bridge, caf::exit_reason::kill);
  bool done = false;
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (!done && std::chrono::steady_clock::now() < deadline)
    (*self)->receive(
        [&](caf::down_msg& dm) { done = dm.source == bridge.address(); },
        caf::after(100ms) >> [] {});
}

inline source_stats source_fixture::stats(const caf::actor& bridge) {
  source_stats result;
  (*self)
      ->request(bridge, 10s, atoms::stats_atom_v)
      .receive([&](source_stats& s) { result = std::move(s); },
               [](caf::error&) {});
  return result;
}

} // namespace distiller::kafka::test
