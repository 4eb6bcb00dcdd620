#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "bridges/kafka/dispatch_queue.hpp"

namespace {

using namespace distiller::kafka;

std::vector<uint64_t> drain_ready(dispatch_queue& q) {
  std::vector<uint64_t> out;
  while (auto s = q.pop_ready())
    out.push_back(*s);
  return out;
}

TEST(DispatchQueue, PartitionModeRunsOnePerPartition) {
  dispatch_queue q{ordering::partition};
  q.push(1, 0, "a");
  q.push(2, 0, "b");
  q.push(3, 1, "a");
  EXPECT_EQ(drain_ready(q), (std::vector<uint64_t>{1, 3}));
  EXPECT_TRUE(q.finish(1));
  EXPECT_EQ(drain_ready(q), (std::vector<uint64_t>{2}));
}

TEST(DispatchQueue, KeyModeRunsDistinctKeysInParallel) {
  dispatch_queue q{ordering::key};
  q.push(1, 0, "a");
  q.push(2, 0, "b");
  q.push(3, 0, "a");
  q.push(4, 0, "c");
  EXPECT_EQ(drain_ready(q), (std::vector<uint64_t>{1, 2, 4}));
  EXPECT_EQ(q.waiting(), 1u);
  EXPECT_TRUE(q.finish(2));
  EXPECT_TRUE(drain_ready(q).empty()); // "a" still busy with 1
  EXPECT_TRUE(q.finish(1));
  EXPECT_EQ(drain_ready(q), (std::vector<uint64_t>{3}));
}

TEST(DispatchQueue, KeylessRecordsAreUnconstrainedInKeyMode) {
  dispatch_queue q{ordering::key};
  q.push(1, 0, "", false);
  q.push(2, 0, "", false);
  EXPECT_EQ(drain_ready(q), (std::vector<uint64_t>{1, 2}));
}

TEST(DispatchQueue, UnorderedRunsEverything) {
  dispatch_queue q{ordering::unordered};
  for (uint64_t i = 0; i < 10; ++i)
    q.push(i, 0, "same");
  EXPECT_EQ(drain_ready(q).size(), 10u);
  EXPECT_EQ(q.running(), 10u);
}

TEST(DispatchQueue, DropPartitionKeepsRunningRecords) {
  dispatch_queue q{ordering::key};
  q.push(1, 0, "a");
  q.push(2, 0, "a");
  q.push(3, 1, "a");
  q.push(4, 0, "b");
  ASSERT_EQ(q.pop_ready(), 1u);
  EXPECT_EQ(q.drop_partition(0), 2u); // 2 (behind 1) and 4 (not started)
  EXPECT_EQ(drain_ready(q), (std::vector<uint64_t>{3}));
  EXPECT_TRUE(q.finish(1));
  EXPECT_TRUE(drain_ready(q).empty());
  EXPECT_EQ(q.waiting(), 0u);
  EXPECT_FALSE(q.finish(2)); // never started
}

TEST(DispatchQueue, DropPartitionFromSeqKeepsOlderWaitingRecords) {
  dispatch_queue q{ordering::key};
  q.push(1, 0, "a");
  q.push(2, 0, "a");
  q.push(3, 0, "b");
  q.push(4, 0, "a");
  q.push(5, 0, "c");
  q.push(6, 1, "a");
  ASSERT_EQ(q.pop_ready(), 1u);
  // Keeps 2 and 3 (below 4), drops 4 and 5; partition 1 is untouched.
  EXPECT_EQ(q.drop_partition(0, 4), 2u);
  EXPECT_EQ(q.waiting(), 3u);
  EXPECT_EQ(drain_ready(q), (std::vector<uint64_t>{3, 6}));
  EXPECT_TRUE(q.finish(1));
  EXPECT_EQ(drain_ready(q), (std::vector<uint64_t>{2}));
  EXPECT_TRUE(q.finish(2));
  EXPECT_TRUE(q.finish(3));
  EXPECT_TRUE(drain_ready(q).empty());
  EXPECT_EQ(q.waiting(), 0u);
  EXPECT_FALSE(q.finish(4)); // dropped, never started
}

TEST(DispatchQueue, UnorderedDropPartitionFromSeq) {
  dispatch_queue q{ordering::unordered};
  for (uint64_t i = 1; i <= 6; ++i)
    q.push(i, static_cast<int32_t>(i % 2), "k");
  ASSERT_EQ(q.pop_ready(), 1u);
  // Partition 0 holds 2, 4, 6: 4 and 6 go, 2 stays; 1 keeps running.
  EXPECT_EQ(q.drop_partition(0, 4), 2u);
  EXPECT_EQ(drain_ready(q), (std::vector<uint64_t>{2, 3, 5}));
  EXPECT_EQ(q.running(), 4u);
  EXPECT_TRUE(q.finish(1));
  EXPECT_FALSE(q.finish(4));
  EXPECT_EQ(q.waiting(), 0u);
}

TEST(DispatchQueue, RandomScheduleKeepsPerKeyOrder) {
  std::mt19937 gen{7};
  dispatch_queue q{ordering::key};
  std::map<std::string, std::vector<uint64_t>> expected;
  std::map<uint64_t, std::string> key_of;
  for (uint64_t seq = 0; seq < 5000; ++seq) {
    auto key = "k" + std::to_string(gen() % 50);
    auto partition = static_cast<int32_t>(gen() % 3);
    key = std::to_string(partition) + "/" + key;
    q.push(seq, partition, key);
    expected[key].push_back(seq);
    key_of[seq] = key;
  }
  std::map<std::string, std::vector<uint64_t>> seen;
  std::vector<uint64_t> running;
  size_t max_parallel = 0;
  while (q.waiting() > 0 || !running.empty()) {
    while (auto s = q.pop_ready())
      running.push_back(*s);
    max_parallel = std::max(max_parallel, running.size());
    // Finish a random running record.
    std::uniform_int_distribution<size_t> pick{0, running.size() - 1};
    auto idx = pick(gen);
    auto seq = running[idx];
    running.erase(running.begin() + static_cast<long>(idx));
    seen[key_of[seq]].push_back(seq);
    ASSERT_TRUE(q.finish(seq));
  }
  EXPECT_EQ(seen, expected);
  EXPECT_GT(max_parallel, 3u); // more parallel than partitions
}

TEST(Ordering, ParseAndPrint) {
  EXPECT_EQ(parse_ordering("key"), ordering::key);
  EXPECT_EQ(to_string(ordering::unordered), "unordered");
  EXPECT_FALSE(parse_ordering("random"));
}

} // namespace
