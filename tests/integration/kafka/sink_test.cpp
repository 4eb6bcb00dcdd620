#include "bridges/kafka/sink.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <caf/all.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include "bridges/embedded/kafka_cluster.hpp"
#include "bridges/kafka/handles.hpp"
#include "bridges/kafka/record.hpp"
#include "bridges/kafka/type_ids.hpp"
#include "runtime/core/type_ids.hpp"
#include "runtime/metrics/metrics.hpp"
#include "tests/support/kafka_reader.hpp"
#include "tests/support/testing.hpp"

using namespace distiller;
using namespace std::chrono_literals;
namespace dt = distiller::testing;

namespace {

// Upper bounds, not sleeps: deliveries take milliseconds, but a loaded CI
// machine (or ASan) may be slow.
constexpr auto reply_timeout = 60s;
constexpr auto read_deadline = 60s;

using dt::read_back;

/// The high watermark of one partition right now.
int64_t high_watermark(rd_kafka_t* rk, const std::string& topic,
                       int32_t partition) {
  int64_t low = -1;
  int64_t high = -1;
  auto err = rd_kafka_query_watermark_offsets(rk, topic.c_str(), partition,
                                              &low, &high, 10000);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    throw std::runtime_error(std::string{"watermarks: "} +
                             rd_kafka_err2str(err));
  return high;
}

kafka::out_record numbered_record(const std::string& topic, int i) {
  kafka::out_record r;
  r.topic = topic;
  r.key = "key-" + std::to_string(i % 17);
  r.value = "value-" + std::to_string(i);
  r.headers = {{"x-index", std::to_string(i)}, {"x-origin", "sink-test"}};
  r.trace = trace_id{"trace-" + std::to_string(i)};
  return r;
}

/// A CAF system with the runtime's and the bridges' types, and a cluster;
/// sinks spawned through `spawn` are stopped (and awaited) before the
/// cluster goes.
class sink_fixture : public ::testing::Test {
 protected:
  sink_fixture() : cluster{3} {
    cfg.add_message_types<caf::id_block::distiller_runtime>();
    cfg.add_message_types<caf::id_block::distiller_bridges>();
    kafka::add_kafka_error_category(cfg);
    sys = std::make_unique<caf::actor_system>(cfg);
  }

  ~sink_fixture() override {
    for (auto& sink : sinks)
      stop(sink);
    // A detached actor's thread ends only once the last handle is gone,
    // and the system waits for that thread.
    sinks.clear();
    sys.reset();
  }

  kafka::sink_config config() {
    kafka::sink_config c;
    c.brokers = cluster.bootstrap();
    c.client_id = "sink-test";
    return c;
  }

  kafka::sink_actor spawn(std::string name, kafka::sink_config c,
                          metrics::node_metrics* m = nullptr) {
    auto sink = kafka::spawn_sink(*sys, std::move(name), std::move(c), m);
    sinks.push_back(sink);
    return sink;
  }

  /// Stops `sink` and waits for it to be gone.
  void stop(const kafka::sink_actor& sink) {
    caf::scoped_actor self{*sys};
    self->monitor(sink);
    self->send_exit(sink, caf::exit_reason::user_shutdown);
    self->receive([](const caf::down_msg&) {});
  }

  /// Produces one record; the reply or the error.
  caf::expected<kafka::delivery> produce(const kafka::sink_actor& sink,
                                         kafka::out_record rec) {
    caf::scoped_actor self{*sys};
    caf::expected<kafka::delivery> result{caf::sec::request_timeout};
    self->request(sink, reply_timeout, atoms::produce_atom_v, std::move(rec))
        .receive([&](kafka::delivery& d) { result = std::move(d); },
                 [&](caf::error& e) { result = std::move(e); });
    return result;
  }

  std::string render(const caf::error& e) { return sys->render(e); }

  caf::actor_system_config cfg;
  embedded::kafka_cluster cluster;
  std::unique_ptr<caf::actor_system> sys;
  std::vector<kafka::sink_actor> sinks;
};

} // namespace

// -- configuration mapping (no cluster needed) --------------------------------

TEST(sink_config, maps_codecs_and_partitioners_to_librdkafka_properties) {
  kafka::sink_config c;
  c.brokers = "127.0.0.1:9092";
  auto props = kafka::producer_properties(c);
  EXPECT_EQ(props["enable.idempotence"], "true");
  EXPECT_EQ(props["acks"], "all");
  // Seed 002's codec unless the plan says otherwise.
  EXPECT_EQ(props["compression.codec"], "snappy");
  EXPECT_EQ(props["partitioner"], "murmur2_random");
  EXPECT_EQ(props["linger.ms"], "5");
  EXPECT_EQ(props["delivery.timeout.ms"], "30000");
  EXPECT_EQ(props["batch.size"], "1000000");
  EXPECT_EQ(props.count("sticky.partitioning.linger.ms"), 0u);
  for (auto codec : {"none", "gzip", "snappy", "lz4", "zstd"}) {
    c.codecs.fallback = *kafka::compression_from_name(codec);
    EXPECT_EQ(kafka::producer_properties(c)["compression.codec"], codec);
  }
  c.codecs.fallback = kafka::compression::lz4;
  for (auto name : {"random", "consistent", "consistent_random", "murmur2",
                    "murmur2_random", "fnv1a", "fnv1a_random"}) {
    c.partitioner = *kafka::partitioner_from_name(name);
    EXPECT_EQ(kafka::producer_properties(c)["partitioner"], name);
    EXPECT_EQ(kafka::to_string(c.partitioner), name);
  }
  EXPECT_FALSE(kafka::partitioner_from_name("hash"));
  EXPECT_EQ(kafka::partitioner_from_name("round-robin"),
            kafka::partitioner::round_robin);
  c.partitioner = kafka::partitioner::sticky;
  c.linger = 20ms;
  props = kafka::producer_properties(c);
  EXPECT_EQ(props["partitioner"], "murmur2_random");
  EXPECT_EQ(props["sticky.partitioning.linger.ms"], "40");
  c.linger = 0ms; // sticky for at least 1 ms
  c.partitioner = kafka::partitioner::sticky;
  EXPECT_EQ(kafka::producer_properties(c)["sticky.partitioning.linger.ms"],
            "1");
  c.partitioner = kafka::partitioner::round_robin;
  props = kafka::producer_properties(c);
  EXPECT_EQ(props["partitioner"], "random");
  EXPECT_EQ(props["sticky.partitioning.linger.ms"], "0");
  // Every property the function builds is one librdkafka accepts.
  EXPECT_NO_THROW(kafka::make_conf(props));
  c.extra = {{"queue.buffering.max.messages", "50"}};
  EXPECT_EQ(kafka::producer_properties(c)["queue.buffering.max.messages"],
            "50");
}

TEST(sink_config, rejects_bad_names_naming_the_option) {
  auto expect_throw = [](kafka::sink_config c, const std::string& fragment) {
    c.brokers = c.brokers.empty() ? "127.0.0.1:9092" : c.brokers;
    try {
      kafka::producer_properties(c);
      ADD_FAILURE() << "no exception for " << fragment;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string{e.what()}.find(fragment), std::string::npos)
          << e.what();
    }
  };
  // A fresh configuration per case, changed in one field.
  auto with = [](auto change) {
    kafka::sink_config c;
    change(c);
    return c;
  };
  expect_throw(with([](auto& c) { c.batch_size = 0; }), "sink.batch_size");
  expect_throw(with([](auto& c) { c.delivery_timeout = 0ms; }),
               "sink.delivery_timeout");
  expect_throw(with([](auto& c) {
                 c.extra = {{"acks", "1"}};
               }),
               "sink.extra.acks");
  expect_throw(with([](auto& c) {
                 c.extra = {{"enable.idempotence", "false"}};
               }),
               "sink.extra.enable.idempotence");
  expect_throw(with([](auto& c) {
                 c.extra = {{"delivery.report.only.error", "true"}};
               }),
               "sink.extra.delivery.report.only.error");
  expect_throw(with([](auto& c) {
                 c.extra = {{"transactional.id", "x"}};
               }),
               "sink.extra.transactional.id");
  kafka::sink_config empty;
  EXPECT_THROW(kafka::producer_properties(empty), std::invalid_argument);
}

// -- message types ------------------------------------------------------------

TEST(sink_records, out_records_and_deliveries_serialize) {
  caf::actor_system_config cfg;
  cfg.add_message_types<caf::id_block::distiller_runtime>();
  cfg.add_message_types<caf::id_block::distiller_bridges>();
  caf::actor_system sys{cfg};
  std::vector<kafka::out_record> sent(2);
  sent[0] = numbered_record("t", 1);
  sent[0].partition = 3;
  sent[1].topic = "other"; // null key, no partition, no trace
  sent[1].value = std::string{"\0binary\xff", 8};
  kafka::delivery d{"t", 2, 42};
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  ASSERT_FALSE(sink(sent, d));
  std::vector<kafka::out_record> got;
  kafka::delivery got_d;
  caf::binary_deserializer source{sys, buf};
  ASSERT_FALSE(source(got, got_d));
  EXPECT_EQ(got, sent);
  EXPECT_EQ(got_d, d);
  EXPECT_FALSE(got[1].key.has_value());
  EXPECT_FALSE(got[1].partition.has_value());
  EXPECT_EQ(got[0].partition, std::optional<int32_t>{3});
  // The types carry IDs of the bridges' block.
  using block = caf::id_block::distiller_bridges;
  EXPECT_EQ(block::begin, caf::first_custom_type_id + 100);
  for (auto id : {caf::type_id<kafka::out_record>::value,
                  caf::type_id<kafka::delivery>::value,
                  caf::type_id<std::vector<kafka::out_record>>::value,
                  caf::type_id<std::vector<kafka::delivery>>::value}) {
    EXPECT_GE(id, block::begin);
    EXPECT_LT(id, block::end);
  }
  EXPECT_NE(caf::to_string(caf::make_message(sent[0])).find("value-1"),
            std::string::npos);
}

// -- producing ----------------------------------------------------------------

TEST_F(sink_fixture, produces_1000_records_each_reply_names_where_it_landed) {
  cluster.create_topic("sink-out", 6, 3);
  auto sink = spawn("sink-a", config());
  caf::scoped_actor self{*sys};
  // All 1000 requests in flight at once; each is answered on its own.
  using handle_type = decltype(self->request(
      sink, reply_timeout, atoms::produce_atom_v, kafka::out_record{}));
  std::vector<handle_type> handles;
  for (int i = 0; i < 1000; ++i)
    handles.push_back(self->request(sink, reply_timeout, atoms::produce_atom_v,
                                    numbered_record("sink-out", i)));
  std::map<std::string, kafka::delivery> where; // value -> delivery
  for (int i = 0; i < 1000; ++i)
    handles[i].receive(
        [&](kafka::delivery& d) {
          EXPECT_EQ(d.topic, "sink-out");
          EXPECT_GE(d.partition, 0);
          EXPECT_LT(d.partition, 6);
          EXPECT_GE(d.offset, 0);
          where["value-" + std::to_string(i)] = d;
        },
        [&](caf::error& e) { ADD_FAILURE() << i << ": " << render(e); });
  ASSERT_EQ(where.size(), 1000u);
  std::set<std::pair<int32_t, int64_t>> positions;
  for (auto& [value, d] : where)
    positions.emplace(d.partition, d.offset);
  EXPECT_EQ(positions.size(), 1000u) << "two replies name the same offset";
  auto read = read_back(cluster.bootstrap(), "sink-out", 6, 1000);
  ASSERT_EQ(read.size(), 1000u);
  for (auto& r : read) {
    auto i = where.find(r.value);
    ASSERT_NE(i, where.end()) << r.value;
    EXPECT_EQ(r.partition, i->second.partition) << r.value;
    EXPECT_EQ(r.offset, i->second.offset) << r.value;
    auto index = r.value.substr(6);
    EXPECT_EQ(r.key, "key-" + std::to_string(std::stoi(index) % 17));
    EXPECT_EQ(r.header("x-index"), index);
    EXPECT_EQ(r.header("x-origin"), "sink-test");
    EXPECT_EQ(r.header(trace_header), "trace-" + index);
    EXPECT_EQ(r.trace.value(), "trace-" + index);
  }
  // Same key, same partition (murmur2).
  std::map<std::string, std::set<int32_t>> partitions_of_key;
  for (auto& r : read)
    partitions_of_key[r.key.value_or("")].insert(r.partition);
  for (auto& [key, ps] : partitions_of_key)
    EXPECT_EQ(ps.size(), 1u) << key;
}

TEST_F(sink_fixture, vector_produce_replies_only_when_all_are_durable) {
  cluster.create_topic("sink-batch", 3, 3);
  auto c = config();
  // Long linger: without waiting for deliveries the reply would come first.
  c.linger = 200ms;
  auto sink = spawn("sink-b", c);
  std::vector<kafka::out_record> batch;
  for (int i = 0; i < 300; ++i)
    batch.push_back(numbered_record("sink-batch", i));
  auto watcher = kafka::make_client(
      RD_KAFKA_PRODUCER,
      kafka::make_conf({{"bootstrap.servers", cluster.bootstrap()}}));
  caf::scoped_actor self{*sys};
  std::vector<kafka::delivery> replies;
  self->request(sink, reply_timeout, atoms::produce_atom_v, batch)
      .receive([&](std::vector<kafka::delivery>& ds) { replies = ds; },
               [&](caf::error& e) { FAIL() << render(e); });
  ASSERT_EQ(replies.size(), 300u);
  // At the moment of the reply every record is below its partition's high
  // watermark: written, and (acks=all) replicated.
  std::map<int32_t, int64_t> highest;
  for (auto& d : replies)
    highest[d.partition] = std::max(highest[d.partition], d.offset);
  for (auto& [partition, offset] : highest)
    EXPECT_GT(high_watermark(watcher.get(), "sink-batch", partition), offset)
        << "partition " << partition;
  // Replies are in request order: reply i is record i.
  auto read = read_back(cluster.bootstrap(), "sink-batch", 3, 300);
  ASSERT_EQ(read.size(), 300u);
  std::map<std::pair<int32_t, int64_t>, std::string> at;
  for (auto& r : read)
    at[{r.partition, r.offset}] = r.value;
  for (size_t i = 0; i < replies.size(); ++i)
    EXPECT_EQ((at[{replies[i].partition, replies[i].offset}]),
              "value-" + std::to_string(i));
  // An empty vector is answered at once with no deliveries.
  self->request(sink, reply_timeout, atoms::produce_atom_v,
                std::vector<kafka::out_record>{})
      .receive(
          [&](std::vector<kafka::delivery>& ds) { EXPECT_TRUE(ds.empty()); },
          [&](caf::error& e) { FAIL() << render(e); });
}

TEST_F(sink_fixture, a_full_librdkafka_queue_waits_instead_of_failing) {
  cluster.create_topic("sink-full", 3, 3);
  auto c = config();
  // Room for 20 records: the other 1980 wait in the sink's backlog.
  c.extra = {{"queue.buffering.max.messages", "20"}};
  auto sink = spawn("sink-full", c);
  std::vector<kafka::out_record> batch;
  for (int i = 0; i < 2000; ++i)
    batch.push_back(numbered_record("sink-full", i));
  caf::scoped_actor self{*sys};
  self->request(sink, reply_timeout, atoms::produce_atom_v, batch)
      .receive(
          [&](std::vector<kafka::delivery>& ds) {
            EXPECT_EQ(ds.size(), 2000u);
            // Records of one key keep their order through the backlog.
            std::map<std::string, std::pair<int32_t, int64_t>> last;
            for (size_t i = 0; i < ds.size(); ++i) {
              auto key = *batch[i].key;
              auto pos = std::pair{ds[i].partition, ds[i].offset};
              if (last.count(key)) {
                EXPECT_LT(last[key], pos) << key;
              }
              last[key] = pos;
            }
          },
          [&](caf::error& e) { FAIL() << render(e); });
}

TEST_F(sink_fixture, flush_replies_after_outstanding_deliveries) {
  cluster.create_topic("sink-flush", 2, 3);
  auto c = config();
  c.linger = 300ms;
  auto sink = spawn("sink-flush", c);
  caf::scoped_actor self{*sys};
  for (int i = 0; i < 50; ++i)
    self->send(sink, atoms::produce_atom_v, numbered_record("sink-flush", i));
  // The reply is empty (caf::unit).
  self->request(sink, reply_timeout, caf::flush_atom_v)
      .receive([] {}, [&](caf::error& e) { FAIL() << render(e); });
  // The 50 replies were sent before the flush's (the sink answers records
  // as they settle and the flush only after the last of them).
  int replies = 0;
  self->receive_for(replies, 50)([](kafka::delivery&) {});
  EXPECT_EQ(replies, 50);
  auto watcher = kafka::make_client(
      RD_KAFKA_PRODUCER,
      kafka::make_conf({{"bootstrap.servers", cluster.bootstrap()}}));
  EXPECT_EQ(high_watermark(watcher.get(), "sink-flush", 0) +
                high_watermark(watcher.get(), "sink-flush", 1),
            50);
}

TEST_F(sink_fixture, every_codec_and_partitioner_produces) {
  cluster.create_topic("sink-codecs", 4, 3);
  int n = 0;
  for (auto codec : {"none", "gzip", "snappy", "lz4", "zstd"}) {
    auto c = config();
    c.codecs.fallback = *kafka::compression_from_name(codec);
    c.partitioner = n % 2 == 0 ? kafka::partitioner::round_robin
                               : kafka::partitioner::sticky;
    auto sink = spawn(std::string{"sink-"} + codec, c);
    std::vector<kafka::out_record> batch;
    for (int i = 0; i < 20; ++i) {
      auto r = numbered_record("sink-codecs", n * 100 + i);
      r.value += std::string(200, 'x'); // something to compress
      batch.push_back(std::move(r));
    }
    caf::scoped_actor self{*sys};
    self->request(sink, reply_timeout, atoms::produce_atom_v, batch)
        .receive(
            [&](std::vector<kafka::delivery>& ds) {
              EXPECT_EQ(ds.size(), 20u) << codec;
            },
            [&](caf::error& e) {
              ADD_FAILURE() << codec << ": " << render(e);
            });
    ++n;
  }
  auto read = read_back(cluster.bootstrap(), "sink-codecs", 4, 100);
  EXPECT_EQ(read.size(), 100u);
  for (auto& r : read)
    EXPECT_EQ(r.value.size(), r.value.find('x') + 200) << r.value;
}

TEST_F(sink_fixture, bad_records_fail_alone) {
  cluster.create_topic("sink-bad", 2, 3);
  auto sink = spawn("sink-bad", config());
  auto rec = numbered_record("sink-bad", 1);
  rec.partition = 7; // the topic has 2
  auto result = produce(sink, rec);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().category(), caf::atom("kafka"));
  EXPECT_EQ(result.error(), kafka::errc::unknown_topic)
      << render(result.error());
  rec.topic.clear();
  result = produce(sink, rec);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error(), kafka::errc::invalid_request);
  // The sink carries on.
  EXPECT_TRUE(produce(sink, numbered_record("sink-bad", 2)));
}

// -- failures -----------------------------------------------------------------

TEST_F(sink_fixture, brokers_down_yields_an_error_then_recovers) {
  cluster.create_topic("sink-down", 3, 3);
  auto c = config();
  c.delivery_timeout = 2000ms;
  auto sink = spawn("sink-down", c);
  ASSERT_TRUE(produce(sink, numbered_record("sink-down", 0)));
  for (int b = 1; b <= cluster.broker_count(); ++b)
    ASSERT_EQ(rd_kafka_mock_broker_set_down(cluster.mock(), b),
              RD_KAFKA_RESP_ERR_NO_ERROR);
  auto started = std::chrono::steady_clock::now();
  auto result = produce(sink, numbered_record("sink-down", 1));
  auto took = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(result) << "delivered with every broker down";
  EXPECT_EQ(result.error().category(), caf::atom("kafka"));
  EXPECT_NE(result.error(), caf::sec::request_timeout) << "the sink hung";
  EXPECT_EQ(result.error(), kafka::errc::timeout) << render(result.error());
  // librdkafka notices the timeout when the partition's broker thread wakes
  // from its reconnect backoff (reconnect.backoff.max.ms, 10 s).
  EXPECT_LT(took, 30s);
  for (int b = 1; b <= cluster.broker_count(); ++b)
    ASSERT_EQ(rd_kafka_mock_broker_set_up(cluster.mock(), b),
              RD_KAFKA_RESP_ERR_NO_ERROR);
  // Reconnecting takes a moment; a new record goes through then.
  EXPECT_TRUE(dt::wait_until(
      [&] {
        return static_cast<bool>(
            produce(sink, numbered_record("sink-down", 2)));
      },
      60s, 100ms));
}

TEST_F(sink_fixture, shutdown_answers_outstanding_requests_within_its_bound) {
  cluster.create_topic("sink-stop", 1, 3);
  auto c = config();
  c.delivery_timeout = 60s;
  c.shutdown_timeout = 500ms;
  auto sink = spawn("sink-stop", c);
  ASSERT_TRUE(produce(sink, numbered_record("sink-stop", 0)));
  for (int b = 1; b <= cluster.broker_count(); ++b)
    ASSERT_EQ(rd_kafka_mock_broker_set_down(cluster.mock(), b),
              RD_KAFKA_RESP_ERR_NO_ERROR);
  caf::scoped_actor self{*sys};
  auto handle = self->request(sink, reply_timeout, atoms::produce_atom_v,
                              numbered_record("sink-stop", 1));
  auto started = std::chrono::steady_clock::now();
  stop(sink);
  bool failed = false;
  handle.receive([](kafka::delivery&) {},
                 [&](caf::error& e) {
                   failed = true;
                   EXPECT_EQ(e.category(), caf::atom("kafka")) << render(e);
                 });
  EXPECT_TRUE(failed) << "delivered with every broker down";
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
  for (int b = 1; b <= cluster.broker_count(); ++b)
    ASSERT_EQ(rd_kafka_mock_broker_set_up(cluster.mock(), b),
              RD_KAFKA_RESP_ERR_NO_ERROR);
}

// -- metrics ------------------------------------------------------------------

TEST_F(sink_fixture, metrics_count_deliveries_errors_and_latency) {
  cluster.create_topic("sink-metrics", 2, 3);
  metrics::node_metrics m{"node-test"};
  auto sink = spawn("sink-m", config(), &m);
  std::vector<kafka::out_record> batch;
  for (int i = 0; i < 25; ++i)
    batch.push_back(numbered_record("sink-metrics", i));
  caf::scoped_actor self{*sys};
  self->request(sink, reply_timeout, atoms::produce_atom_v, batch)
      .receive([](std::vector<kafka::delivery>&) {},
               [&](caf::error& e) { FAIL() << render(e); });
  auto bad = numbered_record("sink-metrics", 99);
  bad.partition = 5;
  EXPECT_FALSE(produce(sink, bad));
  auto text = m.render();
  EXPECT_NE(text.find("distiller_kafka_produced_total{sink=\"sink-m\",topic="
                      "\"sink-metrics\"} 25"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("distiller_kafka_produce_errors_total{sink=\"sink-m\","
                      "topic=\"sink-metrics\"} 1"),
            std::string::npos)
      << text;
  EXPECT_NE(
      text.find("distiller_kafka_produce_latency_seconds_count{sink=\"sink-m\"}"
                " 26"),
      std::string::npos)
      << text;
}
