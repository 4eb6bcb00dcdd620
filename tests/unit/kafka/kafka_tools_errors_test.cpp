// The Kafka tools' errors without a broker: `caf::error`s of category
// `kafka` whose sentence is the line the CLI prints.

#include "bridges/kafka_tools/offsets.hpp"

#include <gtest/gtest.h>

#include <caf/atom.hpp>

#include "bridges/kafka/handles.hpp"
#include "bridges/kafka_tools/cluster.hpp"
#include "bridges/kafka_tools/session.hpp"
#include "tests/support/testing.hpp"

namespace kafka = distiller::kafka;
using namespace distiller::kafka::tools;
using kafka::errc;

namespace {

bool has_code(const caf::error& err, errc code) {
  return err.category() == caf::atom("kafka") &&
         err.code() == static_cast<uint8_t>(code);
}

} // namespace

TEST(kafka_tools_errors, no_cluster_names_where_it_looked) {
  distiller::testing::temp_dir dir{"distiller-tools-errors"};
  kafka::kafka_config cfg;
  auto where = locate_cluster(cfg, dir.path().string());
  ASSERT_FALSE(where);
  EXPECT_TRUE(has_code(where.error(), errc::no_cluster));
  EXPECT_EQ(kafka::error_text(where.error()),
            "no Kafka configured and no running node found at " +
                (dir / "kafka.bootstrap").string() +
                "; start one with scripts/run or pass --brokers");
}

TEST(kafka_tools_errors, configured_brokers_are_the_target) {
  kafka::kafka_config cfg;
  cfg.brokers = "127.0.0.1:9092";
  auto where = locate_cluster(cfg, "/nonexistent");
  ASSERT_TRUE(where) << kafka::error_text(where.error());
  EXPECT_EQ(where->bootstrap, "127.0.0.1:9092");
  EXPECT_EQ(where->source, "kafka.brokers");
  EXPECT_FALSE(where->from_node);
}

TEST(kafka_tools_errors, librdkafka_errors_keep_the_tools_sentence) {
  auto err = rdkafka_error(RD_KAFKA_RESP_ERR__TRANSPORT, "metadata from x:1");
  EXPECT_TRUE(has_code(err, errc::broker_unavailable));
  // No "(_TRANSPORT)" suffix, unlike from_rdkafka: the lines stay as they
  // were.
  EXPECT_EQ(kafka::error_text(err),
            "metadata from x:1: Local: Broker transport failure");
  EXPECT_TRUE(has_code(rdkafka_error(RD_KAFKA_RESP_ERR__TIMED_OUT, "w"),
                       errc::timeout));
}

TEST(kafka_tools_errors, an_unknown_topic_is_never_looked_up) {
  // No client: the topic is checked against what the session knows.
  session s;
  auto lag = fetch_lag(s, "g", {"nope"});
  ASSERT_FALSE(lag);
  EXPECT_TRUE(has_code(lag.error(), errc::unknown_topic));
  EXPECT_EQ(kafka::error_text(lag.error()), "unknown topic nope");
}

TEST(kafka_tools_errors, an_empty_plan_commits_nothing) {
  session s;
  EXPECT_FALSE(commit_offsets(s, "g", {}));
}
