#include <gtest/gtest.h>

#include <algorithm>
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
  auto ready = drain_ready(q); // partitions take turns
  std::sort(ready.begin(), ready.end());
  EXPECT_EQ(ready, (std::vector<uint64_t>{3, 6}));
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

// -- runs: several records of one lane at once
// ---------------------------------

std::vector<uint64_t> pop_run(dispatch_queue& q, size_t max) {
  std::vector<uint64_t> out;
  q.pop_run(max, out);
  return out;
}

TEST(DispatchQueueRuns, PartitionModeHandsOutConsecutiveRecordsOfOneLane) {
  dispatch_queue q{ordering::partition};
  for (uint64_t s = 1; s <= 5; ++s)
    q.push(s, 0, "k" + std::to_string(s));
  q.push(6, 1, "x");
  EXPECT_EQ(pop_run(q, 3), (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(pop_run(q, 10), (std::vector<uint64_t>{6}));
  EXPECT_TRUE(pop_run(q, 10).empty()); // partition 0 is busy with its run
  EXPECT_EQ(q.running(), 4u);
  EXPECT_EQ(q.waiting(), 2u);
  EXPECT_TRUE(q.finish(1));
  EXPECT_TRUE(q.finish(2));
  EXPECT_TRUE(pop_run(q, 10).empty()); // 3 still runs
  EXPECT_TRUE(q.finish(3));
  EXPECT_EQ(pop_run(q, 10), (std::vector<uint64_t>{4, 5}));
}

TEST(DispatchQueueRuns, KeyModeRunsTakeOneKeysRecordsOnly) {
  dispatch_queue q{ordering::key};
  q.push(1, 0, "a");
  q.push(2, 0, "b");
  q.push(3, 0, "a");
  q.push(4, 0, "a");
  q.push(5, 0, "b");
  EXPECT_EQ(pop_run(q, 10), (std::vector<uint64_t>{1, 3, 4}));
  EXPECT_EQ(pop_run(q, 10), (std::vector<uint64_t>{2, 5}));
  EXPECT_FALSE(q.follows(1));
  EXPECT_TRUE(q.follows(3));
  EXPECT_TRUE(q.follows(4));
  EXPECT_FALSE(q.follows(2));
  EXPECT_TRUE(q.finish(1));
  EXPECT_FALSE(q.follows(3)); // now the first running record of "a"
}

TEST(DispatchQueueRuns, UnstartGivesARunBackFromItsEnd) {
  dispatch_queue q{ordering::partition};
  for (uint64_t s = 1; s <= 5; ++s)
    q.push(s, 0, "k");
  EXPECT_EQ(pop_run(q, 4), (std::vector<uint64_t>{1, 2, 3, 4}));
  EXPECT_TRUE(q.finish(1));
  EXPECT_FALSE(q.unstart(3)); // 4 runs behind it
  EXPECT_TRUE(q.unstart(4));
  EXPECT_TRUE(q.unstart(3));
  EXPECT_FALSE(q.unstart(3)); // no longer running
  EXPECT_EQ(q.waiting(), 3u);
  EXPECT_EQ(q.running(), 1u);
  EXPECT_TRUE(pop_run(q, 10).empty()); // 2 still holds the lane
  EXPECT_TRUE(q.finish(2));
  EXPECT_EQ(pop_run(q, 10), (std::vector<uint64_t>{3, 4, 5}));
}

TEST(DispatchQueueRuns, AFailureMidRunHoldsTheRestOfTheLaneBehindIt) {
  // What the bridge does when a worker's answer stops at a failure: the
  // records before it finish, the failed one keeps its lane during backoff,
  // the ones after it are given back; they run only after it succeeded.
  dispatch_queue q{ordering::key};
  for (uint64_t s = 1; s <= 4; ++s)
    q.push(s, 0, "a");
  q.push(5, 0, "b");
  auto a = pop_run(q, 10);
  auto b = pop_run(q, 10);
  ASSERT_EQ(a, (std::vector<uint64_t>{1, 2, 3, 4}));
  ASSERT_EQ(b, (std::vector<uint64_t>{5}));
  EXPECT_TRUE(q.finish(1));            // ran
  EXPECT_TRUE(q.unstart(5));           // after the failure: given back
  EXPECT_TRUE(q.unstart(4));           // same
  EXPECT_TRUE(q.unstart(3));           // same
  EXPECT_EQ(pop_run(q, 10), b);        // another lane: free again at once
  EXPECT_TRUE(pop_run(q, 10).empty()); // "a" waits for 2's retry
  EXPECT_TRUE(q.finish(2));            // the retry succeeded
  EXPECT_EQ(pop_run(q, 10), (std::vector<uint64_t>{3, 4}));
}

TEST(DispatchQueueRuns, FinishingOutOfOrderForgetsTheRecord) {
  dispatch_queue q{ordering::partition};
  for (uint64_t s = 1; s <= 4; ++s)
    q.push(s, 0, "k");
  EXPECT_EQ(pop_run(q, 3), (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_TRUE(q.finish(2)); // a revoke abandons it
  EXPECT_FALSE(q.finish(2));
  EXPECT_TRUE(q.finish(1));
  EXPECT_FALSE(q.follows(3));
  EXPECT_TRUE(q.finish(3));
  EXPECT_EQ(pop_run(q, 10), (std::vector<uint64_t>{4}));
}

TEST(DispatchQueueRuns, DropPartitionKeepsTheRunningRun) {
  dispatch_queue q{ordering::partition};
  for (uint64_t s = 1; s <= 5; ++s)
    q.push(s, 0, "k");
  EXPECT_EQ(pop_run(q, 2), (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(q.drop_partition(0, 0), 3u);
  EXPECT_EQ(q.running(), 2u);
  EXPECT_TRUE(q.finish(1));
  EXPECT_TRUE(q.finish(2));
  EXPECT_TRUE(pop_run(q, 10).empty());
  EXPECT_EQ(q.waiting(), 0u);
}

TEST(DispatchQueueRuns, UnorderedGivesBackToTheFrontInOrder) {
  dispatch_queue q{ordering::unordered};
  for (uint64_t s = 1; s <= 7; ++s)
    q.push(s, static_cast<int32_t>(s % 2), "k");
  // One partition's records per run: 1, 3, 5, 7 are partition 1's.
  EXPECT_EQ(pop_run(q, 3), (std::vector<uint64_t>{1, 3, 5}));
  EXPECT_FALSE(q.follows(3));
  EXPECT_TRUE(q.unstart(5));
  EXPECT_TRUE(q.unstart(3));
  EXPECT_EQ(q.waiting(), 6u);
  EXPECT_EQ(pop_run(q, 10), (std::vector<uint64_t>{2, 4, 6}));
  EXPECT_EQ(pop_run(q, 10), (std::vector<uint64_t>{3, 5, 7}));
  // Given back records keep their partition for a revoke.
  EXPECT_TRUE(q.unstart(7));
  EXPECT_EQ(q.drop_partition(1, 0), 1u);
  EXPECT_EQ(q.waiting(), 0u);
}

TEST(DispatchQueueRuns, PartitionsTakeTurnsWithinTheirRoom) {
  dispatch_queue q{ordering::key};
  for (uint64_t s = 1; s <= 6; ++s)
    q.push(s, 0, "k" + std::to_string(s % 3)); // lanes 1,4 / 2,5 / 3,6
  for (uint64_t s = 7; s <= 9; ++s)
    q.push(s, 1, "x");
  std::map<int32_t, size_t> room{{0, 0}, {1, 2}};
  auto room_of = [&](int32_t p) {
    return room[p];
  };
  std::vector<uint64_t> out;
  // Partition 0 is at its limit: skipped; partition 1 gets 2 of its 3.
  EXPECT_EQ(q.pop_run(10, out, room_of), 2u);
  EXPECT_EQ(out, (std::vector<uint64_t>{7, 8}));
  out.clear();
  EXPECT_EQ(q.pop_run(10, out, room_of), 0u); // 1 busy, 0 without room
  room[0] = 10;
  EXPECT_EQ(q.pop_run(10, out, room_of), 2u);
  EXPECT_EQ(out, (std::vector<uint64_t>{1, 4}));
  out.clear();
  EXPECT_EQ(q.pop_run(10, out, room_of), 2u); // the next lane of 0
  EXPECT_EQ(out, (std::vector<uint64_t>{2, 5}));
  EXPECT_TRUE(q.finish(7));
  EXPECT_TRUE(q.finish(8));
  out.clear();
  // Partition 1 is ready again and queues behind partition 0.
  EXPECT_EQ(q.pop_run(10, out, room_of), 2u);
  EXPECT_EQ(out, (std::vector<uint64_t>{3, 6}));
  out.clear();
  EXPECT_EQ(q.pop_run(10, out, room_of), 1u);
  EXPECT_EQ(out, (std::vector<uint64_t>{9}));
  EXPECT_EQ(q.waiting(), 0u);
}

TEST(DispatchQueueRuns, ARunSpansAtMostMaxSpanSequenceNumbers) {
  dispatch_queue q{ordering::key, 10};
  for (uint64_t s : {1, 4, 9, 11, 15, 20})
    q.push(s, 0, "a");
  EXPECT_EQ(pop_run(q, 10), (std::vector<uint64_t>{1, 4, 9})); // < 1 + 10
  for (uint64_t s : {1, 4, 9})
    EXPECT_TRUE(q.finish(s));
  EXPECT_EQ(pop_run(q, 10), (std::vector<uint64_t>{11, 15, 20}));
  dispatch_queue u{ordering::unordered, 3};
  for (uint64_t s = 1; s <= 5; ++s)
    u.push(s, 0, "");
  EXPECT_EQ(pop_run(u, 10), (std::vector<uint64_t>{1, 2, 3}));
}

TEST(DispatchQueueRuns, RandomRunsWithFailuresKeepPerKeyOrder) {
  // Workers take whole runs and process them in order; a record fails with
  // some probability, keeps its lane while it "backs off", and the records
  // after it in the batch are given back (from the end). Every record must
  // succeed exactly once, and per key in push order.
  for (auto mode : {ordering::key, ordering::partition}) {
    std::mt19937 gen{11};
    dispatch_queue q{mode};
    std::map<std::string, std::vector<uint64_t>> expected;
    std::map<uint64_t, std::string> lane_of;
    for (uint64_t seq = 1; seq <= 4000; ++seq) {
      auto partition = static_cast<int32_t>(gen() % 3);
      auto key = "k" + std::to_string(gen() % 20);
      q.push(seq, partition, key);
      auto lane = mode == ordering::key ? std::to_string(partition) + "/" + key
                                        : std::to_string(partition);
      expected[lane].push_back(seq);
      lane_of[seq] = lane;
    }
    std::map<std::string, std::vector<uint64_t>> seen;
    std::vector<std::vector<uint64_t>> batches;
    std::vector<uint64_t> backing_off;
    size_t longest_run = 0;
    int guard = 0;
    while ((q.waiting() > 0 || q.running() > 0) && ++guard < 100000) {
      // Take up to three runs into one batch.
      std::vector<uint64_t> batch;
      for (int r = 0; r < 3; ++r) {
        auto n = q.pop_run(1 + gen() % 8, batch);
        longest_run = std::max(longest_run, n);
      }
      if (!batch.empty())
        batches.push_back(std::move(batch));
      std::uniform_int_distribution<int> coin{0, 9};
      if (!backing_off.empty() && coin(gen) < 3) {
        // A retry succeeds.
        auto seq = backing_off.front();
        backing_off.erase(backing_off.begin());
        seen[lane_of[seq]].push_back(seq);
        ASSERT_TRUE(q.finish(seq));
        continue;
      }
      if (batches.empty())
        continue;
      std::uniform_int_distribution<size_t> pick{0, batches.size() - 1};
      auto idx = pick(gen);
      auto work = std::move(batches[idx]);
      batches.erase(batches.begin() + static_cast<long>(idx));
      size_t k = 0;
      for (; k < work.size(); ++k) {
        if (coin(gen) == 0) {
          backing_off.push_back(work[k]);
          break;
        }
        ASSERT_FALSE(q.follows(work[k]));
        seen[lane_of[work[k]]].push_back(work[k]);
        ASSERT_TRUE(q.finish(work[k]));
      }
      for (auto j = work.size(); j-- > k + 1;)
        ASSERT_TRUE(q.unstart(work[j]));
    }
    EXPECT_EQ(seen, expected) << to_string(mode);
    EXPECT_GT(longest_run, 1u);
  }
}

TEST(Ordering, ParseAndPrint) {
  EXPECT_EQ(parse_ordering("key"), ordering::key);
  EXPECT_EQ(to_string(ordering::unordered), "unordered");
  EXPECT_FALSE(parse_ordering("random"));
}

TEST(DispatchQueue, PopRunsTakesSeveralLanesOfOnePartitionPerTurn) {
  dispatch_queue q{ordering::key};
  // Partition 0: keys a (1, 3), b (2), c (4); partition 1: key a (5, 6).
  q.push(1, 0, "a");
  q.push(2, 0, "b");
  q.push(3, 0, "a");
  q.push(4, 0, "c");
  q.push(5, 1, "a");
  q.push(6, 1, "a");
  auto unlimited = [](int32_t) {
    return size_t{100};
  };
  std::vector<uint64_t> out;
  std::vector<size_t> runs;
  int32_t part = -1;
  // One turn: every ready lane of partition 0, each lane's records in order.
  EXPECT_EQ(q.pop_runs(100, out, runs, part, unlimited), 4u);
  EXPECT_EQ(part, 0);
  EXPECT_EQ(out, (std::vector<uint64_t>{1, 3, 2, 4}));
  EXPECT_EQ(runs, (std::vector<size_t>{2, 1, 1}));
  // The next turn is partition 1's.
  out.clear();
  runs.clear();
  EXPECT_EQ(q.pop_runs(100, out, runs, part, unlimited), 2u);
  EXPECT_EQ(part, 1);
  EXPECT_EQ(out, (std::vector<uint64_t>{5, 6}));
  EXPECT_EQ(runs, (std::vector<size_t>{2}));
  // Busy lanes give nothing until their records finish.
  out.clear();
  runs.clear();
  q.push(7, 0, "a");
  EXPECT_EQ(q.pop_runs(100, out, runs, part, unlimited), 0u);
  EXPECT_TRUE(q.finish(1));
  EXPECT_TRUE(q.finish(3));
  EXPECT_EQ(q.pop_runs(100, out, runs, part, unlimited), 1u);
  EXPECT_EQ(out, (std::vector<uint64_t>{7}));
}

TEST(DispatchQueue, PopRunsStaysWithinTheLimitAndThePartitionsRoom) {
  dispatch_queue q{ordering::key};
  for (uint64_t i = 1; i <= 10; ++i)
    q.push(i, 0, "k" + std::to_string(i)); // ten lanes of one record
  std::vector<uint64_t> out;
  std::vector<size_t> runs;
  int32_t part = -1;
  auto room3 = [](int32_t) {
    return size_t{3};
  };
  EXPECT_EQ(q.pop_runs(100, out, runs, part, room3), 3u);
  EXPECT_EQ(runs.size(), 3u);
  out.clear();
  runs.clear();
  EXPECT_EQ(q.pop_runs(2, out, runs, part, [](int32_t) { return size_t{100}; }),
            2u);
  auto none = [](int32_t) {
    return size_t{0};
  };
  out.clear();
  runs.clear();
  EXPECT_EQ(q.pop_runs(100, out, runs, part, none), 0u);
  EXPECT_EQ(q.waiting(), 5u);
}

TEST(DispatchQueue, PopRunsInUnorderedModeIsOneRunOfIndependentRecords) {
  dispatch_queue q{ordering::unordered};
  for (uint64_t i = 1; i <= 5; ++i)
    q.push(i, 2, "same");
  std::vector<uint64_t> out;
  std::vector<size_t> runs;
  int32_t part = -1;
  EXPECT_EQ(q.pop_runs(4, out, runs, part, [](int32_t) { return size_t{9}; }),
            4u);
  EXPECT_EQ(part, 2);
  EXPECT_EQ(runs, (std::vector<size_t>{4}));
}

TEST(DispatchQueue, AKeysLaneIsKeptWhenItRunsEmptyAndDroppedPastTheBound) {
  dispatch_queue q{ordering::key, std::numeric_limits<uint64_t>::max(), 2};
  q.push(1, 0, "a");
  ASSERT_EQ(q.pop_ready(), 1u);
  EXPECT_TRUE(q.finish(1));
  // Kept for a's next record, which is ready at once.
  EXPECT_EQ(q.lanes(), 1u);
  EXPECT_EQ(q.idle_lanes(), 1u);
  q.push(2, 0, "a");
  EXPECT_EQ(q.idle_lanes(), 0u);
  ASSERT_EQ(q.pop_ready(), 2u);
  EXPECT_TRUE(q.finish(2));
  // Records without a key have lanes of their own, never kept.
  q.push(3, 0, "", false);
  ASSERT_EQ(q.pop_ready(), 3u);
  EXPECT_TRUE(q.finish(3));
  EXPECT_EQ(q.lanes(), 1u);
  // A third empty lane is over the bound of two: every empty lane goes.
  q.push(4, 0, "b");
  q.push(5, 1, "c");
  auto first = q.pop_ready();
  auto second = q.pop_ready();
  ASSERT_TRUE(first && second);
  EXPECT_TRUE(q.finish(*first));
  EXPECT_EQ(q.idle_lanes(), 2u);
  EXPECT_TRUE(q.finish(*second));
  EXPECT_EQ(q.lanes(), 0u);
  EXPECT_EQ(q.idle_lanes(), 0u);
  // A dropped lane's key starts a new one, in order as before.
  q.push(6, 0, "a");
  q.push(7, 0, "a");
  EXPECT_EQ(q.pop_ready(), 6u);
  EXPECT_EQ(q.pop_ready(), std::nullopt);
  EXPECT_TRUE(q.finish(6));
  EXPECT_EQ(q.pop_ready(), 7u);
}

TEST(DispatchQueue, ARevokeDropsTheKeptLanesOfItsPartition) {
  dispatch_queue q{ordering::key};
  q.push(1, 0, "a");
  q.push(2, 1, "b");
  for (int i = 0; i < 2; ++i) {
    auto seq = q.pop_ready();
    ASSERT_TRUE(seq);
    EXPECT_TRUE(q.finish(*seq));
  }
  EXPECT_EQ(q.idle_lanes(), 2u);
  EXPECT_EQ(q.drop_partition(0), 0u);
  EXPECT_EQ(q.lanes(), 1u);
  EXPECT_EQ(q.idle_lanes(), 1u);
}

} // namespace
