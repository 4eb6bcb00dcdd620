// Lag and reset arithmetic of `distiller groups`, without a broker.

#include "bridges/kafka_tools/offsets.hpp"

#include <gtest/gtest.h>

#include "bridges/kafka_tools/groups.hpp"

using namespace distiller::kafka::tools;

TEST(kafka_tools_offsets, lag_is_what_remains_after_the_committed_offset) {
  EXPECT_EQ(compute_lag(40, 0, 100), 60);
  EXPECT_EQ(compute_lag(100, 0, 100), 0);
  EXPECT_EQ(compute_lag(0, 0, 100), 100);
  EXPECT_EQ(compute_lag(0, 0, 0), 0);
}

TEST(kafka_tools_offsets, no_commit_means_every_retained_record) {
  EXPECT_EQ(compute_lag(no_offset, 0, 100), 100);
  EXPECT_EQ(compute_lag(-1, 0, 100), 100);
  // Retention moved the log start: only what is left counts.
  EXPECT_EQ(compute_lag(no_offset, 30, 100), 70);
}

TEST(kafka_tools_offsets, commits_outside_the_log_are_clamped) {
  // Committed below the log start (records deleted meanwhile).
  EXPECT_EQ(compute_lag(10, 30, 100), 70);
  // Committed beyond the end (log truncated).
  EXPECT_EQ(compute_lag(120, 0, 100), 0);
  // Inconsistent watermarks never give negative lag.
  EXPECT_EQ(compute_lag(5, 10, 5), 0);
}

TEST(kafka_tools_offsets, report_total_sums_partitions) {
  lag_report r;
  r.group = "g";
  r.partitions = {{"t", 0, 10, 0, 25, compute_lag(10, 0, 25)},
                  {"t", 1, no_offset, 0, 25, compute_lag(no_offset, 0, 25)},
                  {"t", 2, 25, 0, 25, compute_lag(25, 0, 25)},
                  {"t", 3, 0, 0, 25, compute_lag(0, 0, 25)}};
  EXPECT_EQ(r.total_lag(), 15 + 25 + 0 + 25);
  EXPECT_TRUE(r.partitions[0].has_commit());
  EXPECT_FALSE(r.partitions[1].has_commit());
}

TEST(kafka_tools_offsets, reset_targets_like_kafka_consumer_groups) {
  EXPECT_EQ(reset_target({reset_to::earliest, 0}, 5, 50), 5);
  EXPECT_EQ(reset_target({reset_to::latest, 0}, 5, 50), 50);
  EXPECT_EQ(reset_target({reset_to::offset, 20}, 5, 50), 20);
  EXPECT_EQ(reset_target({reset_to::offset, 2}, 5, 50), 5);
  EXPECT_EQ(reset_target({reset_to::offset, 99}, 5, 50), 50);
}

TEST(kafka_tools_offsets, reset_plan_covers_the_topic_only) {
  lag_report r;
  r.partitions = {{"a", 0, 7, 0, 10, 3},
                  {"a", 1, no_offset, 2, 10, 8},
                  {"b", 0, 1, 0, 10, 9}};
  auto plan = plan_reset(r, "a", {reset_to::earliest, 0});
  ASSERT_EQ(plan.size(), 2u);
  EXPECT_EQ(plan[0].partition, 0);
  EXPECT_EQ(plan[0].current, 7);
  EXPECT_EQ(plan[0].target, 0);
  EXPECT_EQ(plan[1].current, no_offset);
  EXPECT_EQ(plan[1].target, 2);
  // After resetting to earliest the lag is the whole retained log again.
  EXPECT_EQ(compute_lag(plan[0].target, 0, 10) +
                compute_lag(plan[1].target, 2, 10),
            10 + 8);
}

TEST(kafka_tools_offsets, member_assignments_decode) {
  // version 0, 2 topics: "t" [0, 2], "u" [] + empty user data.
  const unsigned char bytes[] = {0,    0,    0,    0,   0, 2, // version, topics
                                 0,    1,    't',             // "t"
                                 0,    0,    0,    2,         // 2 partitions
                                 0,    0,    0,    0,   0, 0, 0, 2, // 0, 2
                                 0,    1,    'u',  0,   0, 0, 0,    // "u", none
                                 0xff, 0xff, 0xff, 0xff}; // null user data
  auto parts = decode_assignment(bytes, sizeof(bytes));
  ASSERT_TRUE(parts.has_value());
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0], (member_partitions{"t", {0, 2}}));
  EXPECT_EQ((*parts)[1], (member_partitions{"u", {}}));
  // Truncated input is refused, empty input is "nothing assigned".
  EXPECT_FALSE(decode_assignment(bytes, 12).has_value());
  EXPECT_TRUE(decode_assignment(nullptr, 0).value().empty());
}
