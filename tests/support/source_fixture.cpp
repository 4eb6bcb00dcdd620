#include "tests/support/source_fixture.hpp"

#include <atomic>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include "bridges/kafka/fetched_record.hpp"
#include "bridges/kafka/handles.hpp"
#include "runtime/core/errc.hpp"
#include "runtime/logging/log.hpp"

namespace distiller::kafka::test {

namespace {

struct delivery_count {
  std::atomic<int> ok{0};
  std::atomic<int> failed{0};
};

void count_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* c = static_cast<delivery_count*>(opaque);
  if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR)
    ++c->ok;
  else
    ++c->failed;
}

int test_serial() {
  static std::atomic<int> n{0};
  return ++n;
}

} // namespace

source_fixture::source_fixture() {
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

source_fixture::~source_fixture() {
  for (auto& b : bridges)
    caf::anon_send_exit(b, caf::exit_reason::user_shutdown);
  bridges.clear();
  self.reset();
  // Waits for every actor (bridges drain and close their consumers).
  sys.reset();
  cluster.reset();
  log::set_sink({});
}

std::string source_fixture::make_topic(const std::string& base,
                                       int partitions) {
  auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = base + "-" + (info ? info->name() : "t") + "-" +
                     std::to_string(test_serial());
  for (auto& c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.'))
      c = '-';
  cluster->create_topic(name, partitions, 1);
  return name;
}

void source_fixture::produce(const std::string& topic,
                             const std::vector<test_message>& msgs) {
  delivery_count counts;
  auto conf = make_conf({{"bootstrap.servers", brokers()},
                         {"client.id", "source-test-producer"},
                         {"enable.idempotence", "true"},
                         {"acks", "all"},
                         {"linger.ms", "5"},
                         {"queue.buffering.max.messages", "1000000"}});
  rd_kafka_conf_set_dr_msg_cb(conf.get(), count_delivery);
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

std::vector<in_record>
source_fixture::read_topic(const std::string& topic, size_t count,
                           std::chrono::milliseconds timeout) {
  auto conf = make_conf(
      {{"bootstrap.servers", brokers()},
       {"client.id", "source-test-reader"},
       {"group.id", "reader-" + topic + "-" + std::to_string(test_serial())},
       {"auto.offset.reset", "earliest"},
       {"enable.auto.commit", "false"}});
  auto rk = make_client(RD_KAFKA_CONSUMER, std::move(conf));
  rd_kafka_poll_set_consumer(rk.get());
  topic_partition_list_ptr topics{rd_kafka_topic_partition_list_new(1)};
  rd_kafka_topic_partition_list_add(topics.get(), topic.c_str(),
                                    RD_KAFKA_PARTITION_UA);
  rd_kafka_subscribe(rk.get(), topics.get());
  std::vector<in_record> out;
  auto hash = topic_hash(topic);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (out.size() < count && std::chrono::steady_clock::now() < deadline) {
    message_ptr m{rd_kafka_consumer_poll(rk.get(), 100)};
    if (!m || m->err != RD_KAFKA_RESP_ERR_NO_ERROR)
      continue;
    fill_record(out.emplace_back(), topic, hash, m.get());
  }
  rd_kafka_consumer_close(rk.get());
  return out;
}

std::map<int32_t, int64_t> source_fixture::committed(const std::string& group,
                                                     const std::string& topic,
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

std::map<int32_t, int64_t> source_fixture::end_offsets(const std::string& topic,
                                                       int n) {
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

source_binding source_fixture::make_binding(const std::string& name,
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

caf::actor source_fixture::start(source_binding b, commit_observer observer) {
  bridge_deps deps;
  deps.actors = &actors;
  deps.metrics = &node_metrics;
  deps.on_commit = std::move(observer);
  deps.trace = trace;
  // Tests talk to the bridge through the dynamic handle, as the shell and
  // other nodes do.
  auto bridge = caf::actor_cast<caf::actor>(
      spawn_source_bridge(*sys, brokers(), std::move(b), deps));
  bridges.push_back(bridge);
  return bridge;
}

caf::error source_fixture::stop(const caf::actor& bridge,
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

void source_fixture::crash(const caf::actor& bridge) {
  (*self)->monitor(bridge);
  (*self)->send_exit(bridge, caf::exit_reason::kill);
  bool done = false;
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (!done && std::chrono::steady_clock::now() < deadline)
    (*self)->receive(
        [&](caf::down_msg& dm) { done = dm.source == bridge.address(); },
        caf::after(100ms) >> [] {});
}

source_stats source_fixture::stats(const caf::actor& bridge) {
  source_stats result;
  (*self)
      ->request(bridge, 10s, atoms::stats_atom_v)
      .receive([&](source_stats& s) { result = std::move(s); },
               [](caf::error&) {});
  return result;
}

} // namespace distiller::kafka::test
