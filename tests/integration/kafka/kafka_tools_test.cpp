// The Kafka tools as users run them: the `distiller` binary against an
// embedded (mock) cluster started in this process and passed with --brokers,
// so no test depends on a running node. Consumer-group joins on the mock
// take ~3 s; every wait below is a deadline, not a sleep.

#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <caf/atom.hpp>

#include "bridges/embedded/kafka_cluster.hpp"
#include "bridges/kafka/handles.hpp"
#include "bridges/kafka_tools/consumer.hpp"
#include "bridges/kafka_tools/producer.hpp"
#include "bridges/kafka_tools/session.hpp"
#include "tests/support/testing.hpp"

namespace {

using namespace std::chrono_literals;
namespace dt = distiller::testing;
namespace fs = std::filesystem;

constexpr auto run_timeout = 120s;

/// How often `needle` occurs in `text`.
size_t count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (auto pos = text.find(needle); pos != std::string::npos;
       pos = text.find(needle, pos + needle.size()))
    ++n;
  return n;
}

bool contains(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

/// The partitions a consumer's output says it owns last ("now owns t[0,2]").
std::set<int> owned(const std::string& out, const std::string& topic) {
  std::set<int> result;
  auto pos = out.rfind("(now owns ");
  if (pos == std::string::npos)
    return result;
  auto line = out.substr(pos, out.find('\n', pos) - pos);
  auto start = line.find(topic + "[");
  if (start == std::string::npos)
    return result;
  std::stringstream in{line.substr(start + topic.size() + 1)};
  int p;
  char sep;
  while (in >> p) {
    result.insert(p);
    if (!(in >> sep) || sep != ',')
      break;
  }
  return result;
}

/// A record to produce; nullopt keys, values and header values stay null.
struct test_record {
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;
};

/// Produces `records` to partition 0 of `topic`, in order, and waits until
/// every one was delivered.
void produce_records(const std::string& brokers, const std::string& topic,
                     const std::vector<test_record>& records) {
  namespace kafka = distiller::kafka;
  auto rk = kafka::make_client(
      RD_KAFKA_PRODUCER,
      kafka::make_conf({{"bootstrap.servers", brokers},
                        {"client.id", "kafka-tools-test-producer"},
                        {"enable.idempotence", "true"}}));
  for (auto& r : records) {
    auto* hdrs = rd_kafka_headers_new(r.headers.size());
    for (auto& [name, value] : r.headers)
      rd_kafka_header_add(hdrs, name.data(), static_cast<ssize_t>(name.size()),
                          value ? value->data() : nullptr,
                          value ? static_cast<ssize_t>(value->size()) : 0);
    // The macros cast their arguments unparenthesized: pass plain names.
    const void* key = r.key ? r.key->data() : nullptr;
    size_t key_size = r.key ? r.key->size() : 0;
    void* value = r.value ? const_cast<char*>(r.value->data()) : nullptr;
    size_t value_size = r.value ? r.value->size() : 0;
    auto err = rd_kafka_producev(
        rk.get(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(0),
        RD_KAFKA_V_KEY(key, key_size), RD_KAFKA_V_VALUE(value, value_size),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(hdrs),
        RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_headers_destroy(hdrs);
      FAIL() << "producev: " << rd_kafka_err2str(err);
    }
  }
  ASSERT_EQ(rd_kafka_flush(rk.get(), 30'000), RD_KAFKA_RESP_ERR_NO_ERROR);
}

class KafkaTools : public ::testing::Test {
 protected:
  distiller::embedded::kafka_cluster cluster{3};
  dt::temp_dir dir{"distiller-kafka-tools"};

  /// `distiller <args…> --brokers <cluster> --data-dir <dir>`.
  std::vector<std::string> cmd(std::vector<std::string> args,
                               bool brokers = true) const {
    std::vector<std::string> argv{dt::distiller_binary()};
    argv.insert(argv.end(), args.begin(), args.end());
    if (brokers) {
      argv.push_back("--brokers");
      argv.push_back(cluster.bootstrap());
    }
    argv.push_back("--data-dir");
    argv.push_back(dir.path().string());
    return argv;
  }

  dt::process_result run(std::vector<std::string> args, bool brokers = true) {
    return dt::run_process(cmd(std::move(args), brokers), {}, run_timeout);
  }

  /// A catalog of three topics in the test directory.
  std::string write_catalog() {
    auto path = dir / "topics.toml";
    dt::write_file(path, R"(
[defaults]
partitions = 3

[topics.tools-ingest]
partitions = 6

[topics.tools-chunks]
partitions = 4

[topics."tools-ingest.dlq"]
)");
    return "kafka.catalog=" + path.string();
  }
};

// -- topics
// ----------------------------------------------------------------------

TEST_F(KafkaTools, TopicsVerifyNamesTheMissingTopicAndExitsNonZero) {
  auto catalog = write_catalog();
  cluster.create_topic("tools-ingest", 6, 1);
  cluster.create_topic("tools-ingest.dlq", 3, 1);

  auto r = run({"topics", "verify", "--set", catalog});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(contains(r.out, "Missing topic: tools-chunks")) << r.out;
  EXPECT_TRUE(contains(r.out, "✅ tools-ingest (6 partitions)")) << r.out;
  EXPECT_FALSE(contains(r.out, "Missing topic: tools-ingest\n")) << r.out;

  // apply cannot create it on the mock: it says why and fails too.
  auto apply = run({"topics", "apply", "--set", catalog});
  EXPECT_EQ(apply.exit_code, 1) << apply.out << apply.err;
  EXPECT_TRUE(contains(apply.out, "no admin API")) << apply.out;
  EXPECT_TRUE(contains(apply.out, "✅ exists: tools-ingest")) << apply.out;
  EXPECT_TRUE(contains(apply.out, "❌ missing: tools-chunks")) << apply.out;
  EXPECT_TRUE(contains(apply.out, "restart the node")) << apply.out;

  // Once the topic exists everything passes.
  cluster.create_topic("tools-chunks", 4, 1);
  auto ok = run({"topics", "verify", "--set", catalog});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_TRUE(contains(ok.out, "All 3 topics of the catalog exist")) << ok.out;
  auto applied = run({"topics", "apply", "--set", catalog});
  EXPECT_EQ(applied.exit_code, 0) << applied.out << applied.err;
}

TEST_F(KafkaTools, TopicsVerifyReportsPartitionShortfalls) {
  auto catalog = write_catalog();
  cluster.create_topic("tools-ingest", 2, 1);
  cluster.create_topic("tools-chunks", 4, 1);
  cluster.create_topic("tools-ingest.dlq", 3, 1);
  auto r = run({"topics", "verify", "--set", catalog});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(contains(r.out, "tools-ingest: has 2 partitions, the catalog "
                              "declares 6"))
      << r.out;
}

TEST_F(KafkaTools, TopicsListDescribeAndDeleteOnTheMock) {
  auto catalog = write_catalog();
  cluster.create_topic("tools-ingest", 6, 1);
  cluster.create_topic("other", 2, 1);

  auto list = run({"topics", "list", "--set", catalog});
  EXPECT_EQ(list.exit_code, 0) << list.err;
  EXPECT_TRUE(std::regex_search(list.out, std::regex{"tools-ingest +6 "}))
      << list.out;
  EXPECT_TRUE(std::regex_search(list.out, std::regex{"other +2 +[0-9]+ +-"}))
      << list.out;

  auto produce = run(
      {"produce", "-t", "other", "-n", "10", "--partitioner", "round-robin"});
  ASSERT_EQ(produce.exit_code, 0) << produce.out << produce.err;

  auto describe = run({"topics", "describe", "other", "--set", catalog});
  EXPECT_EQ(describe.exit_code, 0) << describe.err;
  EXPECT_TRUE(contains(describe.out, "Topic: other  partitions=2"))
      << describe.out;
  // Round-robin put 5 records in each partition: low 0, high 5.
  EXPECT_TRUE(std::regex_search(describe.out,
                                std::regex{"\n  0 +[0-9]+ +[0-9,]+ +[0-9,]+ +"
                                           "0 +5 +5\n"}))
      << describe.out;
  EXPECT_TRUE(contains(describe.out, "10 records retained")) << describe.out;

  auto unknown = run({"topics", "describe", "nope", "--set", catalog});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_TRUE(contains(unknown.out, "Unknown topic: nope")) << unknown.out;

  auto del = run({"topics", "delete", "other", "--set", catalog});
  EXPECT_EQ(del.exit_code, 1);
  EXPECT_TRUE(contains(del.out, "the embedded cluster cannot delete topics "
                                "(librdkafka mock); restart the node to "
                                "reset it"))
      << del.out;
}

TEST_F(KafkaTools, WithoutBrokersOrNodeItSaysWhereItLooked) {
  auto sentence = "no Kafka configured and no running node found at " +
                  (dir / "kafka.bootstrap").string() +
                  "; start one with scripts/run or pass --brokers\n";
  auto r = run({"topics", "verify"}, false);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err, "distiller: " + sentence)) << r.err;

  // kafka e2e --use-node prints the same sentence in its report.
  auto e2e = run({"kafka", "e2e", "--use-node"}, false);
  EXPECT_EQ(e2e.exit_code, 1);
  EXPECT_TRUE(contains(e2e.out, "\n❌ " + sentence)) << e2e.out;
}

TEST_F(KafkaTools, UnreachableBrokersNameTheAddressAndTheAttempts) {
  // Nothing listens on port 1: every attempt fails at once.
  auto r = run({"groups", "lag", "G", "--brokers", "127.0.0.1:1", "--set",
                "kafka.connect_retries=2", "--set",
                "kafka.connect_retry_delay=100ms"},
               false);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(count(r.err, "event=kafka_unreachable bootstrap=127.0.0.1:1 "
                         "source=kafka.brokers attempt="),
            2u)
      << r.err;
  EXPECT_TRUE(contains(r.err, "max_attempts=2 error=\"metadata from "
                              "127.0.0.1:1: Local: Broker transport "
                              "failure\"\n"))
      << r.err;
  EXPECT_TRUE(contains(r.err, "\ndistiller: cannot reach Kafka at 127.0.0.1:1 "
                              "(kafka.brokers) after 2 attempts: metadata "
                              "from 127.0.0.1:1: Local: Broker transport "
                              "failure\n"))
      << r.err;
}

// -- produce / consume
// -------------------------------------------------------------

TEST_F(KafkaTools, ProducePrintsEachMessageAndTheSummary) {
  cluster.create_topic("doc-ingest-requests", 3, 1);
  auto r = run({"produce", "-t", "doc-ingest-requests", "-n", "5",
                "--key-pattern", "job-{i}", "--compression", "snappy"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  // Seed 000: "✅ Message 1/5 sent: job_id=abc-123, partition=0, offset=0",
  // in record order.
  std::regex line{"✅ Message ([0-9])/5 sent: job_id=job-([0-9]), "
                  "partition=[0-2], offset=[0-9]+"};
  int expected = 1;
  for (std::sregex_iterator i{r.out.begin(), r.out.end(), line}, end; i != end;
       ++i, ++expected) {
    EXPECT_EQ(std::stoi((*i)[1]), expected);
    EXPECT_EQ((*i)[2], (*i)[1]);
  }
  EXPECT_EQ(expected, 6) << r.out;
  EXPECT_TRUE(contains(r.out, "Total messages: 5")) << r.out;
  EXPECT_TRUE(contains(r.out, "Delivered: 5, Failed: 0")) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex{"Duration: [0-9.]+ seconds"}))
      << r.out;
  EXPECT_TRUE(std::regex_search(
      r.out,
      std::regex{"Throughput: [0-9.]+ messages/second \\([0-9.]+ MB/s\\)"}))
      << r.out;
  EXPECT_TRUE(std::regex_search(
      r.out, std::regex{"Delivery latency: p50=[0-9.]+ ms, p99=[0-9.]+ ms"}))
      << r.out;

  // Above 20 messages only the summary (seed's performance test).
  auto many = run({"produce", "-t", "doc-ingest-requests", "-n", "50", "--acks",
                   "1", "--partitioner", "sticky"});
  ASSERT_EQ(many.exit_code, 0) << many.out << many.err;
  EXPECT_EQ(count(many.out, "sent: job_id="), 0u) << many.out;
  EXPECT_TRUE(contains(many.out, "Total messages: 50")) << many.out;
  EXPECT_TRUE(contains(many.out, "idempotence=off")) << many.out;
}

TEST_F(KafkaTools, ConsumePrintsEveryRecordAsTheSeedDid) {
  cluster.create_topic("pin-a", 1, 1);
  cluster.create_topic("pin-b", 1, 1);
  produce_records(cluster.bootstrap(), "pin-a",
                  {{"job-1",
                    R"({"job_id":"job-1","filename":"a.pdf","file_size":2048})",
                    {{"x-trace-id", "t-1"}, {"origin", "test"}}},
                   {std::nullopt, "plain\ttext", {{"empty", std::nullopt}}},
                   {"long", std::string(90, 'x'), {}},
                   {"tomb", std::nullopt, {}}});
  produce_records(cluster.bootstrap(), "pin-b", {{"k", "v", {}}});
  const std::string dashes(70, '-');

  auto one = run({"consume", "-t", "pin-a", "-g", "pin-1", "--from-beginning",
                  "--max", "4", "--timeout", "60"});
  ASSERT_EQ(one.exit_code, 0) << one.out << one.err;
  EXPECT_TRUE(contains(one.out, "📥 Received message:\n"
                                "  Partition: 0, Offset: 0\n"
                                "  Key: job-1\n"
                                "  Job ID: job-1\n"
                                "  Filename: a.pdf\n"
                                "  File size: 2048 bytes\n"
                                "  Headers: x-trace-id=t-1 origin=test\n"
                                "✅ Processed message from partition 0, "
                                "offset 0\n"
                                "📊 Stats: Processed=1, Errors=0\n" +
                                    dashes +
                                    "\n"
                                    "📥 Received message:\n"
                                    "  Partition: 0, Offset: 1\n"
                                    "  Key: (none)\n"
                                    "  Value: plain.text (10 bytes)\n"
                                    "  Headers: empty=\n"
                                    "✅ Processed message from partition 0, "
                                    "offset 1\n"
                                    "📊 Stats: Processed=2, Errors=0\n" +
                                    dashes +
                                    "\n"
                                    "📥 Received message:\n"
                                    "  Partition: 0, Offset: 2\n"
                                    "  Key: long\n"
                                    "  Value: " +
                                    std::string(80, 'x') +
                                    "… (90 bytes)\n"
                                    "✅ Processed message from partition 0, "
                                    "offset 2\n"
                                    "📊 Stats: Processed=3, Errors=0\n" +
                                    dashes +
                                    "\n"
                                    "📥 Received message:\n"
                                    "  Partition: 0, Offset: 3\n"
                                    "  Key: tomb\n"
                                    "  Value:  (0 bytes)\n"
                                    "✅ Processed message from partition 0, "
                                    "offset 3\n"
                                    "📊 Stats: Processed=4, Errors=0\n" +
                                    dashes + "\n"))
      << one.out;
  EXPECT_TRUE(contains(one.out, "  Processed: 4, Errors: 0\n"
                                "  Per partition: 0=4\n"))
      << one.out;

  // With several topics each record names its topic.
  auto two = run({"consume", "-t", "pin-a", "-t", "pin-b", "-g", "pin-2",
                  "--from-beginning", "--max", "5", "--timeout", "60"});
  ASSERT_EQ(two.exit_code, 0) << two.out << two.err;
  EXPECT_TRUE(contains(two.out, "📥 Received message:\n"
                                "  Topic: pin-b, Partition: 0, Offset: 0\n"
                                "  Key: k\n"
                                "  Value: v (1 bytes)\n"
                                "✅ Processed message from partition 0, "
                                "offset 0\n"))
      << two.out;
  EXPECT_TRUE(contains(two.out, "  Processed: 5, Errors: 0\n"
                                "  Per partition: pin-a/0=4 pin-b/0=1\n"))
      << two.out;
}

TEST_F(KafkaTools, RoundRobinToATopicNotYetMadeSaysWhyAndExitsOne) {
  auto r = run({"produce", "-t", "never-made", "-n", "3", "--partitioner",
                "round-robin"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(contains(r.out, "❌ --partitioner round-robin needs the "
                              "partition count of never-made, which is not "
                              "in the cluster; create it first (distiller "
                              "topics apply)"))
      << r.out;
  // The run never started: no producer, nothing sent, no crash report.
  EXPECT_FALSE(contains(r.out, "Kafka producer created")) << r.out;
  EXPECT_FALSE(contains(r.out, "Sending")) << r.out;
  EXPECT_EQ(r.err.find("distiller:"), std::string::npos) << r.err;
  auto json = run({"produce", "-t", "never-made", "--partitioner",
                   "round-robin", "--json"});
  EXPECT_EQ(json.exit_code, 1) << json.out << json.err;
  EXPECT_TRUE(contains(json.out, "{\"event\":\"error\",\"topic\":"
                                 "\"never-made\",\"error\":\"--partitioner "
                                 "round-robin needs"))
      << json.out;
}

TEST_F(KafkaTools, ARejectedPropertyFailsTheRunWithItsName) {
  namespace tools = distiller::kafka::tools;
  cluster.create_topic("tools-rejected", 2, 1);
  distiller::kafka::kafka_config cfg;
  tools::connect_settings how;
  how.attempts = 3;
  how.delay = 100ms;
  auto s = tools::open_session({cluster.bootstrap(), "test", false}, cfg, how);
  ASSERT_TRUE(s) << distiller::kafka::error_text(s.error());
  auto is_invalid_config = [](const caf::error& e) {
    return e.category() == caf::atom("kafka") &&
           e.code() ==
               static_cast<uint8_t>(distiller::kafka::errc::invalid_config);
  };

  tools::produce_options po;
  po.topic = "tools-rejected";
  po.count = 5;
  po.properties["no.such.property"] = "1";
  int deliveries = 0;
  bool created = false;
  auto produced = tools::producer_run(
      **s, po, [&](const tools::delivery&) { ++deliveries; }, nullptr,
      [&] { created = true; });
  ASSERT_FALSE(produced);
  EXPECT_TRUE(is_invalid_config(produced.error()));
  EXPECT_TRUE(contains(distiller::kafka::error_text(produced.error()),
                       "librdkafka property 'no.such.property'"))
      << distiller::kafka::error_text(produced.error());
  EXPECT_FALSE(created);
  EXPECT_EQ(deliveries, 0);

  tools::consume_options co;
  co.topics = {"tools-rejected"};
  co.group = "tools-rejected-group";
  co.idle_timeout = 1s;
  co.properties["fetch.wait.max.ms"] = "not a number";
  tools::consume_callbacks cb;
  bool subscribed = false;
  cb.on_subscribed = [&] {
    subscribed = true;
  };
  auto consumed = tools::consumer_run(**s, co, cb);
  ASSERT_FALSE(consumed);
  EXPECT_TRUE(is_invalid_config(consumed.error()));
  EXPECT_TRUE(contains(distiller::kafka::error_text(consumed.error()),
                       "librdkafka property 'fetch.wait.max.ms'"))
      << distiller::kafka::error_text(consumed.error());
  EXPECT_FALSE(subscribed);

  // The same session still works: the failures cost nothing else.
  po.properties.clear();
  auto again = tools::producer_run(
      **s, po, [&](const tools::delivery&) { ++deliveries; }, nullptr,
      [&] { created = true; });
  ASSERT_TRUE(again) << distiller::kafka::error_text(again.error());
  EXPECT_EQ(again->delivered, 5);
  EXPECT_TRUE(created);
}

TEST_F(KafkaTools, GroupsLagOfAnUnknownTopicSaysSo) {
  auto r = run({"groups", "lag", "G", "--topic", "nope"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "❌ unknown topic nope\n") << r.err;
}

TEST_F(KafkaTools, BadOptionsExitTwoNamingTheOption) {
  auto acks = run({"produce", "-t", "x", "--acks", "2"}, false);
  EXPECT_EQ(acks.exit_code, 2);
  EXPECT_TRUE(contains(acks.err, "--acks")) << acks.err;
  auto codec = run({"produce", "-t", "x", "--compression", "brotli"}, false);
  EXPECT_EQ(codec.exit_code, 2);
  EXPECT_TRUE(contains(codec.err, "--compression")) << codec.err;
  EXPECT_TRUE(contains(codec.err, "zstd")) << codec.err;
  auto key = run({"produce", "-t", "x", "--key-pattern", "{nope}"}, false);
  EXPECT_EQ(key.exit_code, 2);
  EXPECT_TRUE(contains(key.err, "--key-pattern")) << key.err;
  auto idem = run({"produce", "-t", "x", "--acks", "0", "--idempotent"});
  EXPECT_EQ(idem.exit_code, 2);
  EXPECT_TRUE(contains(idem.err, "--idempotent: requires --acks all"))
      << idem.err;
  auto commit = run({"consume", "-t", "x", "--commit", "sometimes"}, false);
  EXPECT_EQ(commit.exit_code, 2);
  EXPECT_TRUE(contains(commit.err, "--commit")) << commit.err;
  auto strategy = run({"consume", "-t", "x", "--assignment", "sticky"}, false);
  EXPECT_EQ(strategy.exit_code, 2);
  EXPECT_TRUE(contains(strategy.err, "--assignment")) << strategy.err;
}

// -- groups
// --------------------------------------------------------------------------

TEST_F(KafkaTools, GroupsLagShowsWhatAStoppedConsumerLeft) {
  cluster.create_topic("lag-topic", 4, 1);
  auto produced = run({"produce", "-t", "lag-topic", "-n", "100"});
  ASSERT_EQ(produced.exit_code, 0) << produced.out << produced.err;

  auto consumed =
      run({"consume", "-t", "lag-topic", "-g", "G", "--from-beginning", "--max",
           "40", "--commit", "manual", "--timeout", "60", "-q"});
  ASSERT_EQ(consumed.exit_code, 0) << consumed.out << consumed.err;
  EXPECT_TRUE(contains(consumed.out, "Processed: 40, Errors: 0"))
      << consumed.out;
  EXPECT_TRUE(contains(consumed.out, "Stopped: reached --max 40"))
      << consumed.out;

  auto lag = run({"groups", "lag", "G"});
  ASSERT_EQ(lag.exit_code, 0) << lag.out << lag.err;
  EXPECT_TRUE(contains(lag.out, "Total lag of group G: 60")) << lag.out;
  EXPECT_TRUE(contains(lag.out, "CURRENT-OFFSET")) << lag.out;

  // Auto commit (the default) commits what was processed when it stops.
  auto automatic = run({"consume", "-t", "lag-topic", "-g", "G-auto",
                        "--from-beginning", "--max", "25", "-q"});
  ASSERT_EQ(automatic.exit_code, 0) << automatic.out << automatic.err;
  auto auto_lag = run({"groups", "lag", "G-auto"});
  EXPECT_TRUE(contains(auto_lag.out, "Total lag of group G-auto: 75"))
      << auto_lag.out;

  // The dry run prints the plan and changes nothing.
  auto plan = run({"groups", "reset-offsets", "G", "--topic", "lag-topic",
                   "--to-earliest"});
  ASSERT_EQ(plan.exit_code, 0) << plan.out << plan.err;
  EXPECT_TRUE(contains(plan.out, "NEW-OFFSET")) << plan.out;
  EXPECT_TRUE(contains(plan.out, "Dry run")) << plan.out;
  EXPECT_TRUE(
      contains(run({"groups", "lag", "G"}).out, "Total lag of group G: 60"));

  auto reset = run({"groups", "reset-offsets", "G", "--topic", "lag-topic",
                    "--to-earliest", "--execute"});
  ASSERT_EQ(reset.exit_code, 0) << reset.out << reset.err;
  auto after = run({"groups", "lag", "G", "--topic", "lag-topic"});
  EXPECT_TRUE(contains(after.out, "Total lag of group G: 100")) << after.out;

  // ListGroups is not there on the mock; the message says what works.
  auto list = run({"groups", "list"});
  EXPECT_EQ(list.exit_code, 1);
  EXPECT_TRUE(contains(list.out, "does not support ListGroups")) << list.out;
}

TEST_F(KafkaTools, TwoConsumersInOneGroupSplitThePartitions) {
  // Seed 000's demo: two terminals, one group, disjoint partitions.
  cluster.create_topic("demo-topic", 4, 1);
  auto consumer = [&](const std::string& id) {
    // --from-beginning: a fresh member resolves "latest" only after its
    // assignment is reported, which could miss records produced right then.
    return cmd({"consume", "-t", "demo-topic", "-g", "datadistiller-workers",
                "--id", id, "--timeout", "120", "--from-beginning"});
  };
  // Terminal 1 first: worker-1 owns everything…
  dt::child_process w1{consumer("worker-1"), {}, dir.path()};
  ASSERT_TRUE(dt::wait_until(
      [&] { return owned(w1.out(), "demo-topic").size() == 4; }, 60s, 100ms))
      << w1.out() << w1.err();
  // …then terminal 2 joins and the group rebalances (on the mock after about
  // the session timeout, 10 s by default).
  dt::child_process w2{consumer("worker-2"), {}, dir.path()};

  bool split = dt::wait_until(
      [&] {
        auto a = owned(w1.out(), "demo-topic");
        auto b = owned(w2.out(), "demo-topic");
        if (a.empty() || b.empty() || a.size() + b.size() != 4)
          return false;
        for (auto p : a)
          if (b.count(p))
            return false;
        return true;
      },
      90s, 100ms);
  ASSERT_TRUE(split) << "worker-1:\n"
                     << w1.out() << "\nworker-2:\n"
                     << w2.out() << w1.err() << w2.err();
  EXPECT_TRUE(contains(w1.out(), "worker-1: partitions revoked")) << w1.out();

  // Records produced now go to both workers, each exactly once.
  auto produced = run(
      {"produce", "-t", "demo-topic", "-n", "20", "--key-pattern", "job-{i}"});
  ASSERT_EQ(produced.exit_code, 0) << produced.out << produced.err;
  ASSERT_TRUE(dt::wait_until(
      [&] {
        return count(w1.out(), "📥 Received message:") +
                   count(w2.out(), "📥 Received message:") ==
               20;
      },
      60s, 100ms))
      << w1.out() << w2.out();
  EXPECT_GT(count(w1.out(), "📥 Received message:"), 0u);
  EXPECT_GT(count(w2.out(), "📥 Received message:"), 0u);
  EXPECT_TRUE(contains(w1.out() + w2.out(), "📊 Stats: Processed="));

  // Ctrl-C: each prints its summary and exits 0.
  w1.signal(SIGINT);
  w2.signal(SIGINT);
  EXPECT_EQ(w1.wait(60s), 0) << w1.err();
  EXPECT_EQ(w2.wait(60s), 0) << w2.err();
  EXPECT_TRUE(contains(w1.out(), "Consumer summary for 'worker-1'"));
  EXPECT_TRUE(contains(w2.out(), "Stopped: interrupted"));
}

// -- end to end
// --------------------------------------------------------------------

TEST_F(KafkaTools, EndToEndSelfContained) {
  // No --brokers: the command starts its own in-process cluster.
  auto r =
      run({"kafka", "e2e", "--partitions", "3", "--messages", "100"}, false);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(contains(r.out, "✅ Topic created with 3 partitions")) << r.out;
  EXPECT_TRUE(contains(r.out, "✅ 100 messages produced and consumed")) << r.out;
  EXPECT_TRUE(contains(r.out, "✅ Consumer group coordination working"))
      << r.out;
  EXPECT_TRUE(contains(r.out, "✅ Offsets committed successfully")) << r.out;
  EXPECT_TRUE(contains(r.out, "✅ Topic cleanup")) << r.out;
  EXPECT_TRUE(contains(r.out, "END-TO-END TEST PASSED")) << r.out;
}

TEST_F(KafkaTools, EndToEndAgainstAGivenCluster) {
  // A mock reached over the network has no CreateTopics or DeleteTopics: a
  // topic that exists is used, and cleanup is explained, not faked.
  cluster.create_topic("e2e-given", 3, 1);
  auto r = run({"kafka", "e2e", "--partitions", "3", "--messages", "60",
                "--topic", "e2e-given", "--cleanup"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(contains(r.out, "Topic exists with 3 partitions")) << r.out;
  EXPECT_TRUE(contains(r.out, "✅ 60 messages produced and consumed")) << r.out;
  EXPECT_TRUE(contains(r.out, "cannot delete topics")) << r.out;

  // A second run over the same topic skips the first run's records.
  auto again =
      run({"kafka", "e2e", "--messages", "30", "--topic", "e2e-given"});
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_TRUE(contains(again.out, "✅ 30 messages produced and consumed"))
      << again.out;
  EXPECT_TRUE(contains(again.out, "Skipped 60 records of earlier runs"))
      << again.out;
}

} // namespace
