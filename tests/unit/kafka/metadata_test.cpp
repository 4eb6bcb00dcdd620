#include "bridges/kafka/metadata.hpp"

#include <gtest/gtest.h>

using namespace distiller;
using namespace std::chrono_literals;

namespace {

kafka::catalog three_topics() {
  return kafka::parse_catalog(R"(
[topics.a]
partitions = 6
[topics.b]
partitions = 3
[topics.c]
partitions = 12
)");
}

} // namespace

TEST(metadata, missing_topics_reports_absent_and_short_topics) {
  kafka::cluster_metadata md;
  md.brokers = 3;
  md.topics = {{"a", 6, "", 1}, {"c", 4, "", 1}, {"extra", 1, "", 1}};
  EXPECT_EQ(kafka::missing_topics(three_topics(), md),
            (std::vector<std::string>{"b", "c"}));
  auto issues = kafka::verify_topics(three_topics(), md);
  ASSERT_EQ(issues.size(), 2u);
  EXPECT_EQ(issues[0].problem, "missing");
  EXPECT_EQ(issues[1].problem, "has 4 partitions, the catalog declares 12");
}

TEST(metadata, more_partitions_than_declared_is_fine) {
  kafka::cluster_metadata md;
  md.topics = {{"a", 8, "", 1}, {"b", 3, "", 1}, {"c", 12, "", 1}};
  EXPECT_TRUE(kafka::missing_topics(three_topics(), md).empty());
}

TEST(metadata, topics_with_errors_count_as_missing) {
  kafka::cluster_metadata md;
  md.topics = {{"a", 6, "", 1},
               {"b", 0, "Broker: Unknown topic or partition", 0},
               {"c", 12, "", 1}};
  auto issues = kafka::verify_topics(three_topics(), md);
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].name, "b");
  EXPECT_EQ(issues[0].problem, "Broker: Unknown topic or partition");
}

TEST(metadata, unreachable_brokers_give_an_error_text) {
  // Port 1 on loopback: nothing listens there, the connection is refused.
  auto md = kafka::fetch_metadata("127.0.0.1:1", "metadata-test", 500ms);
  ASSERT_FALSE(md.engaged());
  EXPECT_EQ(md.error().category(), caf::atom("kafka"));
  // Refused within the deadline (broker_unavailable) or not (timeout).
  auto code = static_cast<kafka::errc>(md.error().code());
  EXPECT_TRUE(code == kafka::errc::broker_unavailable ||
              code == kafka::errc::timeout)
      << kafka::error_text(md.error());
  auto text = kafka::error_text(md.error());
  EXPECT_EQ(text.rfind("metadata from 127.0.0.1:1: ", 0), 0u) << text;
}

TEST(metadata, empty_bootstrap_gives_an_error_text) {
  auto md = kafka::fetch_metadata("", "", 100ms);
  // An empty bootstrap list is allowed by librdkafka; the fetch then fails.
  ASSERT_FALSE(md.engaged());
  EXPECT_FALSE(kafka::error_text(md.error()).empty());
}
