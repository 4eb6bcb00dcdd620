#include "bridges/embedded/kafka_cluster.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "bridges/kafka/catalog.hpp"
#include "bridges/kafka/handles.hpp"
#include "bridges/kafka/metadata.hpp"
#include "runtime/logging/log.hpp"
#include "tests/support/log_capture.hpp"
#include "tests/support/testing.hpp"

using namespace distiller;
using namespace std::chrono_literals;

namespace {

// Consumer-group joins in the mock wait ~3 s (initial rebalance delay), so
// consumption deadlines are generous; they are upper bounds, not sleeps.
constexpr auto consume_deadline = 60s;
constexpr auto metadata_timeout = 10s;

kafka::cluster_metadata metadata_of(const embedded::kafka_cluster& cluster) {
  auto md = kafka::fetch_metadata(cluster.bootstrap(), "embedded-kafka-test",
                                  metadata_timeout);
  if (!md)
    throw std::runtime_error("metadata: " + kafka::error_text(md.error()));
  return std::move(*md);
}

struct delivery_counts {
  std::atomic<int> ok{0};
  std::atomic<int> failed{0};
};

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* msg, void* opaque) {
  auto counts = static_cast<delivery_counts*>(opaque);
  if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR)
    ++counts->ok;
  else
    ++counts->failed;
}

/// Produces `values` to `topic` with an idempotent producer (acks=all), keyed
/// round-robin over 8 keys; returns how many deliveries succeeded.
int produce(const std::string& bootstrap, const std::string& topic,
            const std::vector<std::string>& values) {
  delivery_counts counts;
  auto conf = kafka::make_conf({{"bootstrap.servers", bootstrap},
                                {"client.id", "embedded-kafka-test-producer"},
                                {"enable.idempotence", "true"},
                                {"acks", "all"},
                                {"linger.ms", "5"}});
  rd_kafka_conf_set_dr_msg_cb(conf.get(), on_delivery);
  rd_kafka_conf_set_opaque(conf.get(), &counts);
  auto rk = kafka::make_client(RD_KAFKA_PRODUCER, std::move(conf));
  for (size_t i = 0; i < values.size(); ++i) {
    auto key = "key-" + std::to_string(i % 8);
    auto err = rd_kafka_producev(
        rk.get(), RD_KAFKA_V_TOPIC(topic.c_str()),
        RD_KAFKA_V_KEY(key.data(), key.size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(values[i].data()), values[i].size()),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
      throw std::runtime_error(std::string{"producev: "} +
                               rd_kafka_err2str(err));
  }
  auto err = rd_kafka_flush(rk.get(), 30'000);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    throw std::runtime_error(std::string{"flush: "} + rd_kafka_err2str(err));
  return counts.ok.load();
}

/// Joins `group`, subscribes to `topic` and polls until `count` records
/// arrived or the deadline passed; returns the values received.
std::multiset<std::string> consume(const std::string& bootstrap,
                                   const std::string& group,
                                   const std::string& topic, size_t count) {
  auto conf = kafka::make_conf({{"bootstrap.servers", bootstrap},
                                {"client.id", "embedded-kafka-test-consumer"},
                                {"group.id", group},
                                {"auto.offset.reset", "earliest"},
                                {"enable.auto.commit", "true"}});
  auto rk = kafka::make_client(RD_KAFKA_CONSUMER, std::move(conf));
  rd_kafka_poll_set_consumer(rk.get());
  kafka::topic_partition_list_ptr topics{rd_kafka_topic_partition_list_new(1)};
  rd_kafka_topic_partition_list_add(topics.get(), topic.c_str(),
                                    RD_KAFKA_PARTITION_UA);
  auto err = rd_kafka_subscribe(rk.get(), topics.get());
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    throw std::runtime_error(std::string{"subscribe: "} +
                             rd_kafka_err2str(err));
  std::multiset<std::string> values;
  auto deadline = std::chrono::steady_clock::now() + consume_deadline;
  while (values.size() < count && std::chrono::steady_clock::now() < deadline) {
    kafka::message_ptr msg{rd_kafka_consumer_poll(rk.get(), 100)};
    if (!msg || msg->err != RD_KAFKA_RESP_ERR_NO_ERROR)
      continue;
    values.emplace(static_cast<const char*>(msg->payload), msg->len);
  }
  rd_kafka_consumer_close(rk.get());
  return values;
}

std::vector<std::string> numbered(const std::string& prefix, int n) {
  std::vector<std::string> result;
  for (int i = 0; i < n; ++i)
    result.push_back(prefix + "-" + std::to_string(i));
  return result;
}

using log_capture = distiller::testing::log_capture;

kafka::catalog shipped_catalog() {
  return kafka::load_catalog(
      (distiller::testing::source_dir() / "config" / "topics.toml").string());
}

} // namespace

// -- topics from the catalog
// ---------------------------------------------------

TEST(embedded_kafka, creates_the_catalogs_topics_with_its_partition_counts) {
  log_capture logs;
  embedded::kafka_cluster cluster{3};
  EXPECT_EQ(cluster.broker_count(), 3);
  EXPECT_EQ(cluster.bootstrap().rfind("127.0.0.1:", 0), 0u)
      << cluster.bootstrap();
  auto c = shipped_catalog();
  cluster.create_topics(c);
  auto md = metadata_of(cluster);
  EXPECT_EQ(md.brokers, 3);
  // librdkafka 2.0.2's mock names no real controller: it reports id 0 (a
  // real cluster names one of its brokers, 1..3 here).
  EXPECT_TRUE(md.controller_id >= 0 && md.controller_id <= 3)
      << md.controller_id;
  for (auto& spec : c.topics) {
    auto t = md.find(spec.name);
    ASSERT_NE(t, nullptr) << spec.name;
    EXPECT_EQ(t->partitions, spec.partitions) << spec.name;
    // The mock lists every broker as a replica whatever the factor asked.
    EXPECT_GE(t->replication, std::min(spec.replication, 3)) << spec.name;
    EXPECT_LE(t->replication, 3) << spec.name;
    EXPECT_TRUE(t->error.empty()) << spec.name << ": " << t->error;
  }
  EXPECT_TRUE(kafka::missing_topics(c, md).empty());
  EXPECT_TRUE(logs.contains("event=topic_created topic=chunk-processing "
                            "partitions=12"));
  // The log says the replication `topics describe` shows (the cluster's),
  // not the catalog's (issue 15: "replication 1" in the log, 3 in tools).
  auto chunks = md.find("chunk-processing");
  ASSERT_NE(chunks, nullptr);
  EXPECT_TRUE(logs.contains("topic=chunk-processing partitions=12 "
                            "replication=" +
                            std::to_string(chunks->replication)));
  // Applying the catalog again changes nothing.
  cluster.create_topics(c);
  EXPECT_TRUE(logs.contains("event=topic_exists topic=chunk-processing"));
  EXPECT_TRUE(kafka::missing_topics(c, metadata_of(cluster)).empty());
}

TEST(embedded_kafka, missing_topics_reports_topics_that_are_not_there) {
  embedded::kafka_cluster cluster{1};
  auto c = kafka::parse_catalog(R"(
[topics.present]
partitions = 2
[topics.absent]
partitions = 2
[topics.too-small]
partitions = 8
)");
  cluster.create_topic("present", 2, 1);
  cluster.create_topic("too-small", 3, 1);
  auto md = metadata_of(cluster);
  EXPECT_EQ(kafka::missing_topics(c, md),
            (std::vector<std::string>{"absent", "too-small"}));
  // The probe asked for all topics, so it did not auto-create "absent".
  EXPECT_EQ(metadata_of(cluster).find("absent"), nullptr);
}

TEST(embedded_kafka, create_topic_twice_is_fine) {
  log_capture logs;
  embedded::kafka_cluster cluster{3};
  EXPECT_TRUE(cluster.create_topic("twice", 4, 3));
  EXPECT_FALSE(cluster.create_topic("twice", 4, 3));
  // More partitions cannot be added by the mock: kept, and logged.
  EXPECT_FALSE(cluster.create_topic("twice", 8, 3));
  EXPECT_TRUE(logs.contains("event=topic_partitions_mismatch topic=twice "
                            "partitions=4 wanted=8"));
  // Replication is capped at the broker count.
  EXPECT_TRUE(cluster.create_topic("capped", 2, 10));
  auto md = metadata_of(cluster);
  ASSERT_NE(md.find("twice"), nullptr);
  EXPECT_EQ(md.find("twice")->partitions, 4);
  ASSERT_NE(md.find("capped"), nullptr);
  EXPECT_LE(md.find("capped")->replication, 3);
  // What the mock would accept but Kafka would not is refused up front.
  EXPECT_THROW(cluster.create_topic("bad name", 1, 1), std::invalid_argument);
  EXPECT_THROW(cluster.create_topic("zero", 0, 1), std::invalid_argument);
}

TEST(embedded_kafka, rejects_bad_broker_counts) {
  EXPECT_THROW(embedded::kafka_cluster{0}, std::invalid_argument);
  EXPECT_THROW(embedded::kafka_cluster{17}, std::invalid_argument);
}

// -- records through the cluster
// -----------------------------------------------

TEST(embedded_kafka, produced_records_are_all_consumed_by_a_group) {
  embedded::kafka_cluster cluster{3};
  cluster.create_topic("roundtrip", 6, 3);
  auto values = numbered("record", 1000);
  ASSERT_EQ(produce(cluster.bootstrap(), "roundtrip", values), 1000);
  auto received = consume(cluster.bootstrap(), "roundtrip-group", "roundtrip",
                          values.size());
  EXPECT_EQ(received, std::multiset<std::string>(values.begin(), values.end()));
}

TEST(embedded_kafka, another_thread_reaches_the_cluster_through_the_file) {
  embedded::kafka_cluster cluster{3};
  cluster.create_topic("ping", 3, 3);
  cluster.create_topic("pong", 3, 3);
  distiller::testing::temp_dir dir;
  auto path = (dir / "var" / "nested" / "kafka.bootstrap").string();
  cluster.write_bootstrap_file(path);
  // The rename left no temporary file behind.
  size_t entries = 0;
  for ([[maybe_unused]] auto& entry :
       std::filesystem::directory_iterator{dir / "var" / "nested"})
    ++entries;
  EXPECT_EQ(entries, 1u);
  auto pings = numbered("ping", 50);
  ASSERT_EQ(produce(cluster.bootstrap(), "ping", pings), 50);
  // The peer knows nothing but the file: it reads the address, consumes the
  // pings and answers each with a pong.
  auto peer = std::async(std::launch::async, [path] {
    auto bootstrap = embedded::read_bootstrap_file(path);
    auto received = consume(bootstrap, "peer-group", "ping", 50);
    std::vector<std::string> pongs;
    for (auto& ping : received)
      pongs.push_back("pong-for-" + ping);
    return std::pair{bootstrap, produce(bootstrap, "pong", pongs)};
  });
  auto [peer_bootstrap, answered] = peer.get();
  EXPECT_EQ(peer_bootstrap, cluster.bootstrap());
  ASSERT_EQ(answered, 50);
  auto pongs = consume(cluster.bootstrap(), "main-group", "pong", 50);
  ASSERT_EQ(pongs.size(), 50u);
  for (auto& ping : pings)
    EXPECT_EQ(pongs.count("pong-for-" + ping), 1u) << ping;
  // Rewriting replaces the file in place.
  cluster.write_bootstrap_file(path);
  EXPECT_EQ(embedded::read_bootstrap_file(path), cluster.bootstrap());
}

TEST(embedded_kafka, read_bootstrap_file_reports_missing_files) {
  distiller::testing::temp_dir dir;
  EXPECT_THROW(embedded::read_bootstrap_file((dir / "nope").string()),
               std::runtime_error);
  distiller::testing::write_file(dir / "empty", "\n");
  EXPECT_THROW(embedded::read_bootstrap_file((dir / "empty").string()),
               std::runtime_error);
}

// -- other clients
// -------------------------------------------------------------

TEST(embedded_kafka, kcat_lists_and_reads_the_topics) {
  embedded::kafka_cluster cluster{3};
  auto c = shipped_catalog();
  cluster.create_topics(c);
  auto list = distiller::testing::run_process(
      {"/usr/bin/kcat", "-b", cluster.bootstrap(), "-L", "-m", "10"}, {}, 30s);
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find("3 brokers"), std::string::npos) << list.out;
  for (auto& spec : c.topics)
    EXPECT_NE(list.out.find("topic \"" + spec.name + "\" with " +
                            std::to_string(spec.partitions) + " partitions"),
              std::string::npos)
        << spec.name << "\n"
        << list.out;
  // kcat reads what a librdkafka producer wrote (no group: -o beginning -e).
  auto values = numbered("kcat", 20);
  ASSERT_EQ(produce(cluster.bootstrap(), "job-updates", values), 20);
  auto read = distiller::testing::run_process(
      {"/usr/bin/kcat", "-b", cluster.bootstrap(), "-C", "-t", "job-updates",
       "-o", "beginning", "-e", "-q", "-f", "%s\\n"},
      {}, 30s);
  ASSERT_EQ(read.exit_code, 0) << read.err;
  for (auto& v : values)
    EXPECT_NE(read.out.find(v + "\n"), std::string::npos) << v;
}

// -- fault injection
// -----------------------------------------------------------

TEST(embedded_kafka, metadata_probe_sees_brokers_go_down_and_come_back) {
  embedded::kafka_cluster cluster{1};
  cluster.create_topic("probe", 1, 1);
  kafka::metadata_client probe{cluster.bootstrap(), "probe-test"};
  ASSERT_TRUE(probe.fetch(metadata_timeout).engaged());
  ASSERT_EQ(rd_kafka_mock_broker_set_down(cluster.mock(), 1),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  EXPECT_TRUE(distiller::testing::wait_until(
      [&] { return !probe.fetch(500ms).engaged(); }, 30s));
  ASSERT_EQ(rd_kafka_mock_broker_set_up(cluster.mock(), 1),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  EXPECT_TRUE(distiller::testing::wait_until(
      [&] { return probe.fetch(1s).engaged(); }, 30s));
}
