// Runs: a worker gets several consecutive records of one lane (partition or
// key) in one batch and processes them in order. A failure or a crash in the
// middle of a run must hold the rest of that lane back until the failed
// record has succeeded, and retry them in order.

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/support/source_fixture.hpp"

using namespace distiller;
using namespace distiller::kafka;
using namespace distiller::kafka::test;

namespace {

using source_runs = source_fixture;

/// The offsets of `partition` in the order workers succeeded with them.
std::vector<int64_t> successes(const record_log& log, int32_t partition) {
  std::vector<int64_t> out;
  for (auto& r : log.items())
    if (r.partition == partition)
      out.push_back(r.offset);
  return out;
}

} // namespace

TEST_F(source_runs, partition_mode_batches_runs_and_a_failure_holds_the_rest) {
  constexpr int per_partition = 300;
  auto topic = make_topic("runs", 2);
  std::vector<test_message> msgs;
  for (int i = 0; i < per_partition; ++i)
    for (int32_t p = 0; p < 2; ++p)
      msgs.push_back(
          {p, "key-" + std::to_string(i % 7), "v" + std::to_string(i), {}});
  produce(topic, msgs);
  // Every 50th record fails its first attempt, in the middle of a run.
  auto failures = std::make_shared<std::atomic<int>>(0);
  auto log = std::make_shared<record_log>();
  auto b = make_binding("runs", topic, "runs-group");
  b.mode = ordering::partition;
  b.worker = logging_worker(log, [failures](const in_record& r) {
    if (r.offset % 50 == 17 && r.attempt == 1) {
      ++*failures;
      return caf::make_error(caf::sec::runtime_error, "transient");
    }
    return caf::error{};
  });
  auto bridge = start(b);
  ASSERT_TRUE(
      dt::wait_until([&] { return log->size() >= 2 * per_partition; }, 60s))
      << log->size();
  auto ends = end_offsets(topic, 2);
  ASSERT_TRUE(dt::wait_until(
      [&] { return committed("runs-group", topic, 2) == ends; }, 20s));
  auto s = stats(bridge);
  EXPECT_EQ(stop(bridge), caf::exit_reason::user_shutdown);
  // Each record succeeded once, in offset order per partition: the records
  // after a failed one waited for its retry.
  EXPECT_EQ(log->size(), 2u * per_partition);
  EXPECT_EQ(log->distinct(), 2u * per_partition);
  for (int32_t p = 0; p < 2; ++p) {
    auto seen = successes(*log, p);
    std::vector<int64_t> expected;
    for (int64_t o = 0; o < per_partition; ++o)
      expected.push_back(o);
    EXPECT_EQ(seen, expected) << "partition " << p;
  }
  for (auto& r : log->items())
    EXPECT_EQ(r.attempt, r.offset % 50 == 17 ? 2 : 1) << r.offset;
  EXPECT_EQ(failures->load(), 2 * 6);
  EXPECT_EQ(s.failed_attempts, 12u);
  EXPECT_EQ(s.retried, 12u);
  EXPECT_EQ(s.processed, 2u * per_partition);
  // Partition mode ran more than one record per batch (one at a time per
  // partition would take one batch per record).
  EXPECT_GT(s.batches, 0u);
  EXPECT_LE(s.batches * 4, s.processed) << s.batches << " batches";
}

TEST_F(source_runs, key_mode_crash_in_a_run_retries_the_key_in_order) {
  auto topic = make_topic("crashrun", 1);
  std::vector<test_message> msgs;
  for (int i = 0; i < 120; ++i)
    msgs.push_back({0, i % 2 == 0 ? "a" : "b", "v" + std::to_string(i), {}});
  // Offset 40 (key "a") crashes the worker on its first attempt.
  produce(topic, msgs);
  auto crashes = std::make_shared<std::atomic<int>>(0);
  auto log = std::make_shared<record_log>();
  auto b = make_binding("crashrun", topic, "crashrun-group");
  b.mode = ordering::key;
  b.pool_size = 2;
  b.worker = logging_worker(log, [crashes](const in_record& r) {
    if (r.offset == 40 && r.attempt == 1) {
      ++*crashes;
      throw std::runtime_error("crash in the middle of a run");
    }
    return caf::error{};
  });
  auto bridge = start(b);
  ASSERT_TRUE(dt::wait_until(
      [&] {
        for (int64_t o = 0; o < 120; ++o)
          if (!log->contains(0, o))
            return false;
        return true;
      },
      60s))
      << log->distinct();
  ASSERT_TRUE(dt::wait_until(
      [&] { return committed("crashrun-group", topic, 1).at(0) == 120; }, 20s));
  EXPECT_EQ(stop(bridge), caf::exit_reason::user_shutdown);
  EXPECT_EQ(crashes->load(), 1);
  // Records that ran before the crash may run again (at least once), but no
  // record of key "a" after offset 40 ran before 40 succeeded, and from
  // there on key "a" went in offset order.
  auto items = log->items();
  size_t pos = items.size();
  for (size_t i = 0; i < items.size(); ++i)
    if (items[i].offset == 40) {
      pos = i;
      break;
    }
  ASSERT_LT(pos, items.size());
  EXPECT_GE(items[pos].attempt, 2);
  int64_t last_a = 40;
  for (size_t i = 0; i < items.size(); ++i) {
    if (items[i].key != "a")
      continue;
    if (i < pos) {
      EXPECT_LT(items[i].offset, 40) << "ran before the crashed record";
      continue;
    }
    if (i == pos)
      continue;
    if (items[i].offset > 40) {
      EXPECT_GT(items[i].offset, last_a) << "key a out of order";
      last_a = items[i].offset;
    }
  }
  auto e = actors.find("crashrun-worker-0");
  auto f = actors.find("crashrun-worker-1");
  ASSERT_NE(e, nullptr);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(e->restarts() + f->restarts(), 1u);
}
