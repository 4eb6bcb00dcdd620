#include "bridges/kafka/catalog.hpp"

#include <gtest/gtest.h>

#include <string>

#include "runtime/config/schema.hpp"
#include "tests/support/testing.hpp"

using namespace distiller;
using namespace std::chrono_literals;

namespace {

/// Parses `text` expecting a config_error whose key is `key` and whose
/// message contains `fragment`.
void expect_error(const std::string& text, const std::string& key,
                  const std::string& fragment) {
  try {
    kafka::parse_catalog(text);
    ADD_FAILURE() << "no error for:\n" << text;
  } catch (const config::config_error& e) {
    EXPECT_EQ(e.key(), key) << e.what();
    EXPECT_NE(std::string{e.what()}.find(fragment), std::string::npos)
        << "message: " << e.what() << "\nexpected to contain: " << fragment;
  }
}

std::string one_topic(const std::string& body) {
  return "[topics.chunk-processing]\n" + body + "\n";
}

} // namespace

// -- the shipped catalog ------------------------------------------------------

TEST(catalog, shipped_catalog_has_every_topic_the_mission_needs) {
  auto path = distiller::testing::source_dir() / "config" / "topics.toml";
  auto c = kafka::load_catalog(path.string());
  for (auto name : {"doc-ingest-requests", "chunk-processing", "chunk-embedded",
                    "job-updates", "thought-processing", "thought-updates",
                    "doc-ingest-requests.dlq", "chunk-processing.dlq",
                    "chunk-embedded.dlq", "thought-processing.dlq"}) {
    auto t = c.find(name);
    ASSERT_NE(t, nullptr) << name;
    EXPECT_EQ(t->retention, 7 * 24h) << name;
    // gzip: the seeds' kafka-python reads it without optional modules.
    EXPECT_EQ(t->codec, kafka::compression::gzip) << name;
    EXPECT_EQ(t->cleanup_policy, "delete") << name;
    EXPECT_FALSE(t->description.empty()) << name;
  }
  // Every retried topic dead-letters into <topic>.dlq.
  for (auto name : {"doc-ingest-requests", "chunk-processing", "chunk-embedded",
                    "thought-processing"})
    EXPECT_EQ(c.find(name)->dead_letter, std::string{name} + ".dlq");
  // Hot topics have room and parallelism; dead-letter topics are small.
  EXPECT_GE(c.find("chunk-processing")->partitions, 6);
  EXPECT_GE(c.find("chunk-embedded")->partitions, 6);
  EXPECT_GE(c.find("doc-ingest-requests")->partitions, 6);
  EXPECT_GE(c.find("thought-processing")->partitions, 3);
  for (auto& t : c.topics) {
    if (t.name.ends_with(".dlq")) {
      EXPECT_EQ(t.partitions, 3) << t.name;
    }
  }
  // File order is kept: the first topic in the file comes first.
  ASSERT_FALSE(c.topics.empty());
  EXPECT_EQ(c.topics.front().name, "doc-ingest-requests");
}

TEST(catalog, find_returns_null_for_unknown_topics) {
  auto c = kafka::parse_catalog(one_topic("partitions = 2"));
  EXPECT_NE(c.find("chunk-processing"), nullptr);
  EXPECT_EQ(c.find("nope"), nullptr);
}

// -- values -------------------------------------------------------------------

TEST(catalog, defaults_apply_and_topics_override_them) {
  auto c = kafka::parse_catalog(R"(
[defaults]
partitions = 4
replication = 3
retention = "12h"
compression = "lz4"
min_insync_replicas = 2
segment = "1h"

[topics.a]
description = "inherits everything"

[topics.b]
partitions = 9
compression = "zstd"
cleanup_policy = "compact"
retention = -1
)");
  ASSERT_EQ(c.topics.size(), 2u);
  auto& a = c.topics[0];
  EXPECT_EQ(a.name, "a");
  EXPECT_EQ(a.partitions, 4);
  EXPECT_EQ(a.replication, 3);
  EXPECT_EQ(a.retention, 12h);
  EXPECT_EQ(a.codec, kafka::compression::lz4);
  EXPECT_EQ(a.min_insync_replicas, 2);
  EXPECT_EQ(a.segment, 1h);
  EXPECT_EQ(a.description, "inherits everything");
  auto& b = c.topics[1];
  EXPECT_EQ(b.partitions, 9);
  EXPECT_EQ(b.codec, kafka::compression::zstd);
  EXPECT_EQ(b.cleanup_policy, "compact");
  EXPECT_EQ(b.retention, -1ms);
}

TEST(catalog, retention_accepts_units_and_milliseconds) {
  auto retention = [](const std::string& value) {
    return kafka::parse_catalog(one_topic("retention = " + value))
        .topics.front()
        .retention;
  };
  EXPECT_EQ(retention("\"7d\""), 604'800'000ms);
  EXPECT_EQ(retention("\"36h\""), 36h);
  EXPECT_EQ(retention("\"30m\""), 30min);
  EXPECT_EQ(retention("\"45s\""), 45s);
  EXPECT_EQ(retention("\"500ms\""), 500ms);
  EXPECT_EQ(retention("86400000"), 24h);
  EXPECT_EQ(retention("\"forever\""), -1ms);
}

TEST(catalog, keeps_the_order_of_the_file) {
  auto c =
      kafka::parse_catalog("[topics.zeta]\n[topics.alpha]\n[topics.mid]\n");
  ASSERT_EQ(c.topics.size(), 3u);
  EXPECT_EQ(c.topics[0].name, "zeta");
  EXPECT_EQ(c.topics[1].name, "alpha");
  EXPECT_EQ(c.topics[2].name, "mid");
}

TEST(catalog, topic_configs_for_create_topics) {
  kafka::topic_spec t;
  t.name = "x";
  t.retention = 7 * 24h;
  t.codec = kafka::compression::snappy;
  t.cleanup_policy = "delete";
  t.min_insync_replicas = 2;
  t.segment = 24h;
  auto cfg = kafka::topic_configs(t);
  EXPECT_EQ(cfg.at("retention.ms"), "604800000");
  EXPECT_EQ(cfg.at("compression.type"), "snappy");
  EXPECT_EQ(cfg.at("cleanup.policy"), "delete");
  EXPECT_EQ(cfg.at("min.insync.replicas"), "2");
  EXPECT_EQ(cfg.at("segment.ms"), "86400000");
  EXPECT_EQ(cfg.size(), 5u);
  t.retention = -1ms;
  EXPECT_EQ(kafka::topic_configs(t).at("retention.ms"), "-1");
}

TEST(catalog, valid_topic_names) {
  EXPECT_TRUE(kafka::valid_topic_name("doc-ingest-requests"));
  EXPECT_TRUE(kafka::valid_topic_name("chunk-processing.dlq"));
  EXPECT_TRUE(kafka::valid_topic_name("A_b-9.c"));
  EXPECT_TRUE(kafka::valid_topic_name(std::string(249, 'a')));
  EXPECT_FALSE(kafka::valid_topic_name(std::string(250, 'a')));
  EXPECT_FALSE(kafka::valid_topic_name(""));
  EXPECT_FALSE(kafka::valid_topic_name("."));
  EXPECT_FALSE(kafka::valid_topic_name(".."));
  EXPECT_FALSE(kafka::valid_topic_name("bad name"));
  EXPECT_FALSE(kafka::valid_topic_name("slash/no"));
  EXPECT_FALSE(kafka::valid_topic_name("ünïcode"));
}

// -- validation errors name their key -----------------------------------------

TEST(catalog_errors, bad_partitions) {
  expect_error(one_topic("partitions = 0"),
               "topics.chunk-processing.partitions", "1..1024");
  expect_error(one_topic("partitions = 1025"),
               "topics.chunk-processing.partitions", "got 1025");
  expect_error(one_topic("partitions = \"six\""),
               "topics.chunk-processing.partitions", "got \"six\"");
  expect_error("[defaults]\npartitions = -3\n[topics.a]\n",
               "defaults.partitions", "1..1024");
}

TEST(catalog_errors, bad_replication_and_min_insync) {
  expect_error(one_topic("replication = 17"),
               "topics.chunk-processing.replication", "1..16");
  expect_error(one_topic("replication = 2\nmin_insync_replicas = 3"),
               "topics.chunk-processing.min_insync_replicas", "1..2");
}

TEST(catalog, producer_compression_is_no_codec) {
  auto c = kafka::parse_catalog(one_topic("compression = \"producer\""));
  auto& t = c.topics.front();
  EXPECT_FALSE(t.codec.has_value());
  EXPECT_EQ(kafka::compression_type(t), "producer");
  EXPECT_EQ(kafka::topic_configs(t).at("compression.type"), "producer");
  for (auto codec : {kafka::compression::none, kafka::compression::gzip,
                     kafka::compression::snappy, kafka::compression::lz4,
                     kafka::compression::zstd}) {
    auto name = kafka::to_string(codec);
    auto parsed =
        kafka::parse_catalog(one_topic("compression = \"" + name + "\""));
    EXPECT_EQ(parsed.topics.front().codec, codec) << name;
    EXPECT_EQ(kafka::compression_type(parsed.topics.front()), name);
  }
}

TEST(catalog_errors, bad_compression) {
  expect_error(one_topic("compression = \"brotli\""),
               "topics.chunk-processing.compression",
               "none|gzip|snappy|lz4|zstd|producer");
  expect_error("[defaults]\ncompression = 3\n[topics.a]\n",
               "defaults.compression", "got 3");
}

TEST(catalog_errors, bad_cleanup_policy) {
  expect_error(one_topic("cleanup_policy = \"delete,compact\""),
               "topics.chunk-processing.cleanup_policy", "delete|compact");
}

TEST(catalog_errors, bad_retention_and_segment) {
  expect_error(one_topic("retention = \"7 days\""),
               "topics.chunk-processing.retention", "\"7d\"");
  expect_error(one_topic("retention = 0"), "topics.chunk-processing.retention",
               "got 0");
  expect_error(one_topic("segment = -1"), "topics.chunk-processing.segment",
               "got -1");
}

TEST(catalog_errors, unknown_keys) {
  expect_error(one_topic("partition = 3"), "topics.chunk-processing.partition",
               "unknown key");
  expect_error("[defaults]\ndescription = \"x\"\n[topics.a]\n",
               "defaults.description", "unknown key");
  expect_error("[topic.a]\npartitions = 3\n", "topic", "unknown key");
  expect_error("[topics.a.nested]\npartitions = 3\n", "topics.a.nested",
               "unknown key");
}

TEST(catalog_errors, duplicate_topics) {
  expect_error("[topics.a]\npartitions = 1\n[topics.a]\npartitions = 2\n",
               "topics.a", "duplicate");
  expect_error(one_topic("partitions = 1\npartitions = 2"),
               "topics.chunk-processing.partitions", "duplicate");
  // Kafka refuses names that differ only in '.' versus '_'.
  expect_error("[topics.\"a.b\"]\n[topics.a_b]\n", "topics.a_b",
               "collides with 'a.b'");
}

TEST(catalog_errors, bad_names) {
  expect_error("[topics.\"bad name\"]\n", "topics.bad name",
               "invalid topic name");
  expect_error("[topics.\"..\"]\n", "topics...", "invalid topic name");
  expect_error("[topics." + std::string(250, 'x') + "]\n",
               "topics." + std::string(250, 'x'), "1..249");
}

TEST(catalog_errors, bad_dead_letter) {
  expect_error(one_topic("dead_letter = \"chunk-processing.dlq\""),
               "topics.chunk-processing.dead_letter",
               "unknown topic \"chunk-processing.dlq\"");
  expect_error(one_topic("dead_letter = \"chunk-processing\""),
               "topics.chunk-processing.dead_letter", "own dead-letter");
}

TEST(catalog_errors, malformed_toml) {
  expect_error("[topics.a\npartitions = 3\n", "kafka.catalog", "line 1");
  expect_error("[topics.a]\npartitions = \n", "kafka.catalog", "line 2");
}

TEST(catalog_errors, no_topics) {
  expect_error("[defaults]\npartitions = 3\n", "topics", "no topics");
  expect_error("topics = 3\n", "topics", "expected a table");
}

TEST(catalog_errors, missing_file) {
  try {
    kafka::load_catalog("/nonexistent/topics.toml");
    ADD_FAILURE() << "no error";
  } catch (const config::config_error& e) {
    EXPECT_EQ(e.key(), "kafka.catalog");
    EXPECT_NE(std::string{e.what()}.find("/nonexistent/topics.toml"),
              std::string::npos);
  }
}

TEST(catalog_errors, file_errors_name_the_file) {
  distiller::testing::temp_dir dir;
  auto path = dir / "topics.toml";
  distiller::testing::write_file(path,
                                 "[topics.a]\npartitions = 2\n[topics.b\n");
  try {
    kafka::load_catalog(path.string());
    ADD_FAILURE() << "no error";
  } catch (const config::config_error& e) {
    EXPECT_EQ(e.key(), "kafka.catalog");
    EXPECT_NE(std::string{e.what()}.find(path.string() + " at line 3"),
              std::string::npos)
        << e.what();
  }
}

// Found by catalog_fuzz: U+FEFE (bytes EF BB BE, one bit off a byte order
// mark) where toml++ 3.3.0 expects whitespace reached its
// __builtin_unreachable(); the guard (runtime/config/toml_text.hpp) refuses
// non-ASCII between tokens before toml++ parses.
TEST(catalog, non_ascii_between_tokens_is_refused_before_parsing) {
  expect_error("\xEF\xBB\xBE"
               "c = -1\n",
               "kafka.catalog", "not ASCII");
  expect_error(one_topic("partitions = 3\xC2\xA7"), "kafka.catalog",
               "not ASCII");
  // A real byte order mark and non-ASCII text in strings and comments pass.
  auto c = kafka::parse_catalog(
      "\xEF\xBB\xBF# \xC2\xA7 topics\n" +
      one_topic("description = \"chunks \xE2\x80\xA6 to embed\""));
  ASSERT_EQ(c.topics.size(), 1u);
  EXPECT_EQ(c.topics[0].description, "chunks \xE2\x80\xA6 to embed");
}
