// The CreateTopics request as `distiller topics apply` builds it, checked
// without a broker: catalog → plain requests → librdkafka NewTopic objects,
// and the plan that decides what apply does per topic.

#include "bridges/kafka_tools/admin.hpp"

#include <gtest/gtest.h>

#include <set>
#include <stdexcept>
#include <string>

#include "bridges/kafka/catalog.hpp"
#include "bridges/kafka_tools/topics.hpp"

using namespace distiller;
using namespace distiller::kafka::tools;

namespace {

const char* catalog_text = R"(
[defaults]
partitions = 3
replication = 1
retention = "7d"
compression = "snappy"

[topics.doc-ingest-requests]
partitions = 6
dead_letter = "doc-ingest-requests.dlq"

[topics.chunk-processing]
partitions = 12
replication = 3
min_insync_replicas = 2
retention = "12h"
compression = "zstd"
cleanup_policy = "compact"

[topics."doc-ingest-requests.dlq"]
)";

kafka::catalog test_catalog() {
  return kafka::parse_catalog(catalog_text);
}

/// Expects `f` to throw std::invalid_argument whose text contains every
/// fragment.
template <class F>
void expect_invalid(F f, std::initializer_list<std::string> fragments) {
  try {
    f();
    ADD_FAILURE() << "no exception";
  } catch (const std::invalid_argument& e) {
    for (auto& frag : fragments)
      EXPECT_NE(std::string{e.what()}.find(frag), std::string::npos)
          << e.what() << " lacks " << frag;
  }
}

} // namespace

TEST(kafka_tools_admin, requests_follow_the_catalog_in_order) {
  auto reqs = create_requests(test_catalog());
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].name, "doc-ingest-requests");
  EXPECT_EQ(reqs[0].partitions, 6);
  EXPECT_EQ(reqs[0].replication, 1);
  EXPECT_EQ(reqs[1].name, "chunk-processing");
  EXPECT_EQ(reqs[1].partitions, 12);
  EXPECT_EQ(reqs[1].replication, 3);
  EXPECT_EQ(reqs[2].name, "doc-ingest-requests.dlq");
  EXPECT_EQ(reqs[2].partitions, 3);
}

TEST(kafka_tools_admin, requests_carry_the_topic_configs) {
  auto reqs = create_requests(test_catalog());
  auto& ingest = reqs[0].configs;
  EXPECT_EQ(ingest.at("retention.ms"), "604800000");
  EXPECT_EQ(ingest.at("compression.type"), "snappy");
  EXPECT_EQ(ingest.at("cleanup.policy"), "delete");
  EXPECT_EQ(ingest.at("min.insync.replicas"), "1");
  EXPECT_EQ(ingest.at("segment.ms"), "86400000");
  auto& chunks = reqs[1].configs;
  EXPECT_EQ(chunks.at("retention.ms"), "43200000");
  EXPECT_EQ(chunks.at("compression.type"), "zstd");
  EXPECT_EQ(chunks.at("cleanup.policy"), "compact");
  EXPECT_EQ(chunks.at("min.insync.replicas"), "2");
  // Exactly what the catalog module renders, nothing else.
  EXPECT_EQ(chunks,
            kafka::topic_configs(*test_catalog().find("chunk-processing")));
}

TEST(kafka_tools_admin, requests_can_be_limited_to_named_topics) {
  auto reqs = create_requests(test_catalog(),
                              {"doc-ingest-requests.dlq", "chunk-processing"});
  ASSERT_EQ(reqs.size(), 2u);
  // Catalog order, not the order asked for.
  EXPECT_EQ(reqs[0].name, "chunk-processing");
  EXPECT_EQ(reqs[1].name, "doc-ingest-requests.dlq");
  expect_invalid([] { create_requests(test_catalog(), {"nope"}); },
                 {"nope", "not in the catalog"});
}

TEST(kafka_tools_admin, new_topics_are_built_with_every_config_set) {
  auto reqs = create_requests(test_catalog());
  std::multiset<std::string> seen;
  auto record = [&](rd_kafka_NewTopic_t* nt, const char* name,
                    const char* value) {
    seen.insert(std::string{name} + "=" + value);
    return rd_kafka_NewTopic_set_config(nt, name, value);
  };
  auto topics = make_new_topics(reqs, record);
  ASSERT_EQ(topics.size(), reqs.size());
  for (auto& t : topics)
    EXPECT_NE(t, nullptr);
  // Five configs per topic, each set exactly once.
  EXPECT_EQ(seen.size(), 15u);
  EXPECT_EQ(seen.count("compression.type=zstd"), 1u);
  EXPECT_EQ(seen.count("compression.type=snappy"), 2u);
  // The default (real librdkafka) path builds the same objects.
  EXPECT_EQ(make_new_topics(reqs).size(), 3u);
}

TEST(kafka_tools_admin, a_rejected_config_names_topic_and_key) {
  auto reqs = create_requests(test_catalog());
  auto refuse_retention = [](rd_kafka_NewTopic_t* nt, const char* name,
                             const char* value) {
    if (std::string{name} == "retention.ms")
      return RD_KAFKA_RESP_ERR__INVALID_ARG;
    return rd_kafka_NewTopic_set_config(nt, name, value);
  };
  expect_invalid([&] { make_new_topics(reqs, refuse_retention); },
                 {"doc-ingest-requests", "retention.ms=604800000"});
}

TEST(kafka_tools_admin, invalid_requests_are_refused_before_librdkafka) {
  expect_invalid(
      [] {
        make_new_topics({{"bad name!", 3, 1, {}}});
      },
      {"bad name!"});
  expect_invalid(
      [] {
        make_new_topics({{"t", 0, 1, {}}});
      },
      {"t", "partitions"});
  expect_invalid(
      [] {
        make_new_topics({{"t", 3, 0, {}}});
      },
      {"t", "replication"});
  expect_invalid(
      [] {
        make_new_topics({{"t", 3, 1, {{"", "1"}}}});
      },
      {"t", "config"});
  expect_invalid(
      [] {
        make_new_topics({{"t", 3, 1, {{"retention.ms", ""}}}});
      },
      {"t", "retention.ms"});
}

// -- what apply does
// ---------------------------------------------------------------

namespace {

cluster_info
cluster_with(std::initializer_list<std::pair<const char*, int>> ts) {
  cluster_info info;
  info.brokers = {{1, "127.0.0.1", 9092}};
  info.controller_id = 1;
  for (auto& [name, n] : ts) {
    topic_info t;
    t.name = name;
    for (int p = 0; p < n; ++p)
      t.partitions.push_back({p, 1, {1}, {1}, {}});
    info.topics.push_back(t);
  }
  return info;
}

} // namespace

TEST(kafka_tools_admin, apply_plan_creates_missing_and_reports_short_topics) {
  auto info =
      cluster_with({{"doc-ingest-requests", 6}, {"chunk-processing", 4}});
  auto plan = plan_apply(test_catalog(), info, false);
  ASSERT_EQ(plan.size(), 3u);
  EXPECT_EQ(plan[0].action, apply_action::exists);
  EXPECT_EQ(plan[0].have, 6);
  EXPECT_EQ(plan[1].action, apply_action::short_partitions);
  EXPECT_EQ(plan[1].have, 4);
  EXPECT_EQ(plan[1].want, 12);
  EXPECT_EQ(plan[2].action, apply_action::create);
  EXPECT_EQ(plan[2].have, 0);
  // --grow turns the shortfall into CreatePartitions.
  EXPECT_EQ(plan_apply(test_catalog(), info, true)[1].action,
            apply_action::grow);
  // More partitions than declared is fine (Kafka cannot remove any).
  auto more = cluster_with({{"doc-ingest-requests", 10}});
  EXPECT_EQ(plan_apply(test_catalog(), more, false)[0].action,
            apply_action::exists);
}

TEST(kafka_tools_admin, the_mock_cluster_has_no_controller) {
  auto real = cluster_with({});
  EXPECT_TRUE(real.has_controller());
  // librdkafka 2.0.2's mock: brokers 1..3, controller 0.
  cluster_info mock;
  mock.brokers = {
      {1, "127.0.0.1", 1}, {2, "127.0.0.1", 2}, {3, "127.0.0.1", 3}};
  mock.controller_id = 0;
  EXPECT_FALSE(mock.has_controller());
  mock.controller_id = -1;
  EXPECT_FALSE(mock.has_controller());
}
