// Per-topic compression as other clients see it (issue 10, item 7): the sink,
// the dead-letter producer and `distiller produce` compress each topic with
// its catalog codec on the embedded mock, and Debian's kafka-python 2.0.2
// (python3-kafka) and confluent-kafka read every catalog topic. The mock
// stores record batches as the producer sent them, and kafka-python's batch
// parser shows each batch's codec attribute, so the codec is checked
// directly (read_topics.py beside this file).

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <caf/all.hpp>

#include "bridges/embedded/kafka_cluster.hpp"
#include "bridges/kafka/catalog.hpp"
#include "bridges/kafka/compression.hpp"
#include "bridges/kafka/kafka_config.hpp"
#include "bridges/kafka/sink.hpp"
#include "bridges/kafka/source_dead_letter.hpp"
#include "bridges/kafka/type_ids.hpp"
#include "runtime/core/type_ids.hpp"
#include "tests/support/testing.hpp"

using namespace distiller;
using namespace std::chrono_literals;
namespace dt = distiller::testing;
namespace fs = std::filesystem;

namespace {

constexpr auto reply_timeout = 60s;

/// Debian's interpreter: python3-kafka and python3-confluent-kafka are
/// installed for it (scripts/deps), not for whatever python3 is first on
/// the PATH.
constexpr const char* debian_python = "/usr/bin/python3";

/// What read_topics.py reported for one topic.
struct read_result {
  int64_t records = 0;
  std::set<std::string> codecs;
  std::string error;
};

/// Runs read_topics.py with `client` ("kafka-python", "confluent-kafka")
/// on `topics` (name → records expected); `allowed` are the codecs whose
/// optional kafka-python modules stay importable.
std::map<std::string, read_result>
read_topics(const std::string& client, const std::string& bootstrap,
            const std::map<std::string, int>& topics,
            const std::set<std::string>& allowed = {}) {
  std::vector<std::string> argv{
      debian_python,
      (dt::source_dir() / "tests/integration/kafka/read_topics.py").string(),
      "--client",
      client,
      "--bootstrap",
      bootstrap,
      "--timeout",
      "30"};
  for (auto& [name, n] : topics) {
    argv.push_back("--topic");
    argv.push_back(name + "=" + std::to_string(n));
  }
  for (auto& codec : allowed) {
    argv.push_back("--allow-codec");
    argv.push_back(codec);
  }
  auto r = dt::run_process(argv, {}, 180s);
  std::map<std::string, read_result> out;
  std::istringstream lines{r.out};
  std::string line;
  while (std::getline(lines, line)) {
    boost::system::error_code ec;
    auto doc = boost::json::parse(line, ec);
    if (ec || !doc.is_object())
      continue;
    auto& o = doc.as_object();
    read_result x;
    x.records = o.at("records").as_int64();
    for (auto& c : o.at("codecs").as_array())
      x.codecs.insert(std::string{c.as_string()});
    if (o.at("error").is_string())
      x.error = std::string{o.at("error").as_string()};
    out[std::string{o.at("topic").as_string()}] = x;
  }
  EXPECT_EQ(out.size(), topics.size())
      << "read_topics.py (" << client << ") exited " << r.exit_code
      << "; install python3-kafka and python3-confluent-kafka "
         "(scripts/deps)\nstdout:\n"
      << r.out << "\nstderr:\n"
      << r.err;
  return out;
}

/// The optional kafka-python modules a plan's codecs need (python-snappy
/// for snappy …): the test allows exactly these and blocks the others.
std::set<std::string> modules_needed(const kafka::catalog& c,
                                     const kafka::compression_plan& plan) {
  std::set<std::string> out;
  for (auto& t : c.topics) {
    auto codec = plan.codec_of(t.name);
    if (codec != kafka::compression::none && codec != kafka::compression::gzip)
      out.insert(kafka::to_string(codec));
  }
  return out;
}

/// A compressible value of ~1 KiB (librdkafka sends a batch uncompressed
/// when compressing would not make it smaller).
std::string value_of(const std::string& topic, int i) {
  std::string v = "{\"topic\":\"" + topic + "\",\"i\":" + std::to_string(i) +
                  ",\"text\":\"";
  for (int k = 0; k < 40; ++k)
    v += "starfish open mussels ";
  return v + "\"}";
}

class compression_interop : public ::testing::Test {
 protected:
  compression_interop() : cluster{3} {
    cfg.add_message_types<caf::id_block::distiller_runtime>();
    cfg.add_message_types<caf::id_block::distiller_bridges>();
    kafka::add_kafka_error_category(cfg);
    sys = std::make_unique<caf::actor_system>(cfg);
  }

  ~compression_interop() override {
    for (auto& sink : sinks) {
      caf::scoped_actor self{*sys};
      self->monitor(sink);
      self->send_exit(sink, caf::exit_reason::user_shutdown);
      self->receive([](const caf::down_msg&) {});
    }
    sinks.clear();
    sys.reset();
  }

  /// Produces `n` records to each topic through a sink following `plan`
  /// and waits until the brokers acknowledged all of them.
  void produce(const kafka::compression_plan& plan,
               const std::vector<std::string>& topics, int n) {
    kafka::sink_config c;
    c.brokers = cluster.bootstrap();
    c.client_id = "compression-test";
    c.codecs = plan;
    auto sink = kafka::spawn_sink(*sys, "compression-sink", c);
    sinks.push_back(sink);
    std::vector<kafka::out_record> batch;
    for (auto& t : topics)
      for (int i = 0; i < n; ++i) {
        kafka::out_record r;
        r.topic = t;
        r.key = "key-" + std::to_string(i);
        r.value = value_of(t, i);
        batch.push_back(std::move(r));
      }
    caf::scoped_actor self{*sys};
    self->request(sink, reply_timeout, atoms::produce_atom_v, batch)
        .receive(
            [&](std::vector<kafka::delivery>& ds) {
              EXPECT_EQ(ds.size(), batch.size());
            },
            [&](caf::error& e) { FAIL() << sys->render(e); });
  }

  caf::actor_system_config cfg;
  embedded::kafka_cluster cluster;
  std::unique_ptr<caf::actor_system> sys;
  std::vector<kafka::sink_actor> sinks;
};

const char* two_codecs_catalog = R"(
[defaults]
partitions = 2
compression = "snappy"

[topics.interop-gzip]
compression = "gzip"

[topics.interop-snappy]

[topics.interop-producer]
compression = "producer"
)";

} // namespace

TEST_F(compression_interop, sink_compresses_each_topic_with_its_catalog_codec) {
  auto topics = kafka::parse_catalog(two_codecs_catalog);
  cluster.create_topics(topics);
  cluster.create_topic("interop-unlisted", 2, 1);
  kafka::kafka_config kc;
  kc.compression = "none";
  auto plan = kafka::plan_from_catalog(topics, kafka::default_compression(kc));
  produce(plan,
          {"interop-gzip", "interop-snappy", "interop-producer",
           "interop-unlisted"},
          5);

  auto seen = read_topics("kafka-python", cluster.bootstrap(),
                          {{"interop-gzip", 5},
                           {"interop-snappy", 5},
                           {"interop-producer", 5},
                           {"interop-unlisted", 5}},
                          {"snappy"});
  EXPECT_EQ(seen["interop-gzip"].codecs, std::set<std::string>{"gzip"});
  EXPECT_EQ(seen["interop-snappy"].codecs, std::set<std::string>{"snappy"});
  // "producer" and topics the catalog does not list: kafka.compression.
  EXPECT_EQ(seen["interop-producer"].codecs, std::set<std::string>{"none"});
  EXPECT_EQ(seen["interop-unlisted"].codecs, std::set<std::string>{"none"});
  for (auto& [topic, r] : seen) {
    EXPECT_EQ(r.records, 5) << topic;
    EXPECT_EQ(r.error, "") << topic;
  }

  // kafka-python with no optional module at all reads gzip and uncompressed
  // topics; snappy needs python-snappy (what docs/kafka-bridge.md says).
  auto bare = read_topics(
      "kafka-python", cluster.bootstrap(),
      {{"interop-gzip", 5}, {"interop-producer", 5}, {"interop-snappy", 5}});
  EXPECT_EQ(bare["interop-gzip"].records, 5) << bare["interop-gzip"].error;
  EXPECT_EQ(bare["interop-producer"].records, 5)
      << bare["interop-producer"].error;
  EXPECT_NE(bare["interop-snappy"].error.find("UnsupportedCodecError"),
            std::string::npos)
      << bare["interop-snappy"].error;
}

TEST_F(compression_interop, dead_letters_follow_the_catalog_codec) {
  auto topics = kafka::parse_catalog(two_codecs_catalog);
  cluster.create_topics(topics);
  std::atomic<int> delivered{0};
  std::atomic<int> failed{0};
  {
    kafka::dead_letter_producer dlq{
        cluster.bootstrap(),
        "compression-dlq",
        {},
        [&](uint64_t, caf::error err) { ++(err ? failed : delivered); },
        5s,
        kafka::plan_from_catalog(topics, kafka::compression::none)};
    for (auto topic : {"interop-gzip", "interop-snappy", "interop-producer"})
      for (int i = 0; i < 3; ++i) {
        kafka::dead_letter letter;
        letter.topic = topic;
        letter.key = "k";
        letter.value = value_of(topic, i);
        letter.headers = {{"x-error", "test"}};
        ASSERT_FALSE(dlq.write(static_cast<uint64_t>(i), letter));
      }
    ASSERT_TRUE(dt::wait_until([&] { return delivered + failed == 9; }, 30s));
  }
  EXPECT_EQ(failed, 0);
  auto seen = read_topics(
      "kafka-python", cluster.bootstrap(),
      {{"interop-gzip", 3}, {"interop-snappy", 3}, {"interop-producer", 3}},
      {"snappy"});
  EXPECT_EQ(seen["interop-gzip"].codecs, std::set<std::string>{"gzip"});
  EXPECT_EQ(seen["interop-snappy"].codecs, std::set<std::string>{"snappy"});
  EXPECT_EQ(seen["interop-producer"].codecs, std::set<std::string>{"none"});
}

TEST_F(compression_interop, produce_tool_uses_the_catalog_unless_told) {
  auto topics = kafka::parse_catalog(two_codecs_catalog);
  cluster.create_topics(topics);
  cluster.create_topic("interop-unlisted", 2, 1);
  dt::temp_dir dir{"distiller-compression"};
  auto catalog_file = dir / "topics.toml";
  dt::write_file(catalog_file, two_codecs_catalog);
  auto produce = [&](std::vector<std::string> args) {
    std::vector<std::string> argv{dt::distiller_binary(),
                                  "produce",
                                  "-n",
                                  "3",
                                  "--value-size",
                                  "2KiB",
                                  "--brokers",
                                  cluster.bootstrap(),
                                  "--data-dir",
                                  dir.path().string(),
                                  "--set",
                                  "kafka.catalog=" + catalog_file.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = dt::run_process(argv, {}, 120s);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    return r.out;
  };
  // The catalog's codec; the explicit flag wins; kafka.compression for a
  // topic the catalog does not list.
  EXPECT_NE(produce({"-t", "interop-gzip"}).find("compression=gzip"),
            std::string::npos);
  EXPECT_NE(produce({"-t", "interop-snappy", "--compression", "gzip"})
                .find("compression=gzip"),
            std::string::npos);
  EXPECT_NE(
      produce({"-t", "interop-unlisted", "--set", "kafka.compression=none"})
          .find("compression=none"),
      std::string::npos);
  auto seen = read_topics(
      "kafka-python", cluster.bootstrap(),
      {{"interop-gzip", 3}, {"interop-snappy", 3}, {"interop-unlisted", 3}},
      {"snappy"});
  EXPECT_EQ(seen["interop-gzip"].codecs, std::set<std::string>{"gzip"});
  EXPECT_EQ(seen["interop-snappy"].codecs, std::set<std::string>{"gzip"});
  EXPECT_EQ(seen["interop-unlisted"].codecs, std::set<std::string>{"none"});
}

// The acceptance test of item 7: a record on every topic of the shipped
// catalog, produced the way the node produces (its sink, with the plan the
// node builds from the catalog and kafka.compression's default), read back
// by kafka-python 2.0.2 with no optional codec module except those the
// catalog's own codecs require (python-snappy for seed 002's snappy) and by
// confluent-kafka.
TEST_F(compression_interop, seed_clients_read_every_catalog_topic) {
  auto topics = kafka::load_catalog(
      (dt::source_dir() / "config" / "topics.toml").string());
  ASSERT_FALSE(topics.topics.empty());
  cluster.create_topics(topics);
  auto plan = kafka::plan_from_catalog(
      topics, kafka::default_compression(kafka::kafka_config{}));
  std::vector<std::string> names;
  std::map<std::string, int> expected;
  for (auto& t : topics.topics) {
    names.push_back(t.name);
    expected[t.name] = 1;
  }
  produce(plan, names, 1);

  auto allowed = modules_needed(topics, plan);
  auto python =
      read_topics("kafka-python", cluster.bootstrap(), expected, allowed);
  for (auto& t : topics.topics) {
    auto& r = python[t.name];
    EXPECT_EQ(r.error, "") << t.name;
    EXPECT_EQ(r.records, 1) << t.name;
    EXPECT_EQ(r.codecs,
              std::set<std::string>{kafka::to_string(plan.codec_of(t.name))})
        << t.name;
  }
  auto confluent =
      read_topics("confluent-kafka", cluster.bootstrap(), expected);
  for (auto& t : topics.topics) {
    EXPECT_EQ(confluent[t.name].error, "") << t.name;
    EXPECT_EQ(confluent[t.name].records, 1) << t.name;
  }
}

// What the node did before per-topic compression (lz4 for every topic):
// kafka-python without the lz4 module cannot read it. Shows the check above
// would catch a producer that ignores the catalog.
TEST_F(compression_interop, kafka_python_cannot_read_lz4_without_its_module) {
  cluster.create_topic("interop-lz4", 2, 1);
  kafka::compression_plan lz4_everywhere;
  lz4_everywhere.fallback = kafka::compression::lz4;
  produce(lz4_everywhere, {"interop-lz4"}, 2);
  auto seen = read_topics("kafka-python", cluster.bootstrap(),
                          {{"interop-lz4", 2}}, {"snappy"});
  EXPECT_EQ(seen["interop-lz4"].codecs, std::set<std::string>{"lz4"});
  EXPECT_NE(seen["interop-lz4"].error.find("UnsupportedCodecError"),
            std::string::npos)
      << seen["interop-lz4"].error;
}
