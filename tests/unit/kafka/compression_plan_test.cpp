// Which codec each topic's records get (bridges/kafka/compression.hpp): the
// names, the plan built from a catalog, the librdkafka properties a producer
// sets for it, and the codec `distiller produce` picks without a flag.

#include "bridges/kafka/compression.hpp"

#include <gtest/gtest.h>

#include "bridges/kafka/catalog.hpp"
#include "bridges/kafka/kafka_config.hpp"
#include "bridges/kafka/sink.hpp"
#include "bridges/kafka/source_dead_letter.hpp"
#include "bridges/kafka_tools/producer.hpp"
#include "tests/support/testing.hpp"

using namespace distiller;
using kafka::compression;
namespace dt = distiller::testing;

namespace {

const char* catalog_text = R"(
[defaults]
compression = "snappy"

[topics.plain]

[topics.zipped]
compression = "gzip"

[topics.left-to-producer]
compression = "producer"

[topics.tiny]
compression = "zstd"
)";

} // namespace

TEST(compression_plan, names_round_trip) {
  for (auto& name : kafka::compression_names())
    EXPECT_EQ(kafka::to_string(*kafka::compression_from_name(name)), name);
  EXPECT_EQ(kafka::compression_names().size(), 5u);
  EXPECT_FALSE(kafka::compression_from_name("producer"));
  EXPECT_FALSE(kafka::compression_from_name("brotli"));
  EXPECT_FALSE(kafka::compression_from_name("GZIP"));
}

TEST(compression_plan, catalog_codecs_win_and_the_rest_take_the_default) {
  auto topics = kafka::parse_catalog(catalog_text);
  auto plan = kafka::plan_from_catalog(topics, compression::lz4);
  EXPECT_EQ(plan.fallback, compression::lz4);
  EXPECT_EQ(plan.codec_of("plain"), compression::snappy);
  EXPECT_EQ(plan.codec_of("zipped"), compression::gzip);
  EXPECT_EQ(plan.codec_of("tiny"), compression::zstd);
  // "producer": whatever the producer's default is.
  EXPECT_EQ(plan.codec_of("left-to-producer"), compression::lz4);
  EXPECT_EQ(plan.codec_of("not-in-catalog"), compression::lz4);
  EXPECT_EQ(plan.topics.count("left-to-producer"), 0u);
}

TEST(compression_plan, maps_to_producer_and_topic_properties) {
  auto topics = kafka::parse_catalog(catalog_text);
  kafka::kafka_config kc;
  EXPECT_EQ(kc.compression, "snappy") << "seed 002's default";
  EXPECT_EQ(kafka::default_compression(kc), compression::snappy);
  kc.compression = "gzip";
  kafka::sink_config sc;
  sc.brokers = "127.0.0.1:9092";
  sc.codecs = kafka::plan_from_catalog(topics, kafka::default_compression(kc));
  // The producer's compression.codec is the default ...
  EXPECT_EQ(kafka::producer_properties(sc).at("compression.codec"), "gzip");
  // ... and only topics with another codec get a topic property.
  auto& plan = sc.codecs;
  EXPECT_EQ(
      kafka::topic_compression_properties(plan, "plain"),
      (std::map<std::string, std::string>{{"compression.type", "snappy"}}));
  EXPECT_EQ(kafka::topic_compression_properties(plan, "tiny"),
            (std::map<std::string, std::string>{{"compression.type", "zstd"}}));
  EXPECT_TRUE(kafka::topic_compression_properties(plan, "zipped").empty());
  EXPECT_TRUE(
      kafka::topic_compression_properties(plan, "left-to-producer").empty());
  EXPECT_TRUE(kafka::topic_compression_properties(plan, "elsewhere").empty());
}

TEST(compression_plan, librdkafka_accepts_every_topic_property) {
  for (auto& name : kafka::compression_names()) {
    kafka::compression_plan plan;
    plan.fallback = *kafka::compression_from_name(name) == compression::none
                        ? compression::gzip
                        : compression::none;
    plan.topics.emplace("t", *kafka::compression_from_name(name));
    kafka::topic_conf_ptr conf{rd_kafka_topic_conf_new()};
    char err[256];
    for (auto& [k, v] : kafka::topic_compression_properties(plan, "t"))
      EXPECT_EQ(rd_kafka_topic_conf_set(conf.get(), k.c_str(), v.c_str(), err,
                                        sizeof(err)),
                RD_KAFKA_CONF_OK)
          << k << "=" << v << ": " << err;
  }
}

TEST(compression_plan, topic_handles_only_for_topics_with_their_own_codec) {
  // A producer that never connects (no broker at this address): creating
  // topic handles is local.
  auto rk = kafka::make_client(
      RD_KAFKA_PRODUCER, kafka::make_conf({{"bootstrap.servers", "127.0.0.1:1"},
                                           {"compression.codec", "gzip"}}));
  kafka::compression_plan plan;
  plan.fallback = compression::gzip;
  plan.topics = {{"snappy-topic", compression::snappy},
                 {"gzip-topic", compression::gzip}};
  {
    kafka::topic_codecs codecs{plan};
    auto* a = codecs.handle(rk.get(), "snappy-topic");
    ASSERT_NE(a, nullptr);
    EXPECT_STREQ(rd_kafka_topic_name(a), "snappy-topic");
    EXPECT_EQ(codecs.handle(rk.get(), "snappy-topic"), a) << "created once";
    EXPECT_EQ(codecs.handle(rk.get(), "gzip-topic"), nullptr);
    EXPECT_EQ(codecs.handle(rk.get(), "other"), nullptr);
  }
}

TEST(compression_plan, produce_tool_default_follows_the_catalog) {
  dt::temp_dir dir{"distiller-codec"};
  dt::write_file(dir / "topics.toml", catalog_text);
  kafka::kafka_config kc;
  kc.catalog = (dir / "topics.toml").string();
  kc.compression = "none";
  EXPECT_EQ(kafka::tools::default_codec(kc, "zipped"), compression::gzip);
  EXPECT_EQ(kafka::tools::default_codec(kc, "plain"), compression::snappy);
  EXPECT_EQ(kafka::tools::default_codec(kc, "left-to-producer"),
            compression::none);
  EXPECT_EQ(kafka::tools::default_codec(kc, "elsewhere"), compression::none);
  // No readable catalog: kafka.compression.
  kc.catalog = (dir / "missing.toml").string();
  EXPECT_EQ(kafka::tools::default_codec(kc, "zipped"), compression::none);
}
