#include <algorithm>
#include <chrono>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/source_fixture.hpp"

using namespace distiller;
using namespace distiller::kafka;
using namespace distiller::kafka::test;

namespace {

using source_ordering = source_fixture;

/// `n` records over `partitions` partitions and `keys` keys; a key always
/// lands on the same partition (as with a key-hashing partitioner).
std::vector<test_message> keyed_records(int n, int partitions, int keys) {
  std::vector<test_message> out;
  out.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    auto k = i % keys;
    test_message m;
    m.partition = k % partitions;
    m.key = "user-" + std::to_string(k);
    m.value = "record-" + std::to_string(i);
    out.push_back(std::move(m));
  }
  return out;
}

/// Fails the test if a key's records were processed out of offset order, or
/// a record more or less than once.
void expect_per_key_order_exactly_once(const record_log& log, size_t total) {
  auto items = log.items();
  EXPECT_EQ(items.size(), total);
  EXPECT_EQ(log.distinct(), total);
  std::map<std::string, int64_t> last;
  size_t violations = 0;
  for (auto& r : items) {
    auto i = last.find(r.key);
    if (i != last.end() && r.offset <= i->second)
      ++violations;
    last[r.key] = r.offset;
  }
  EXPECT_EQ(violations, 0u) << "records of one key ran out of offset order";
}

/// Processing time: first record done → last record done.
double span_seconds(const record_log& log) {
  auto items = log.items();
  if (items.size() < 2)
    return 0.0;
  auto [lo, hi] =
      std::minmax_element(items.begin(), items.end(),
                          [](auto& a, auto& b) { return a.at_ns < b.at_ns; });
  return static_cast<double>(hi->at_ns - lo->at_ns) / 1e9;
}

/// Sleeps 0–2 ms, like a worker calling a slow service.
caf::error random_delay(const in_record&) {
  thread_local std::mt19937 gen{std::random_device{}()};
  std::uniform_int_distribution<int> us{0, 2000};
  std::this_thread::sleep_for(std::chrono::microseconds{us(gen)});
  return caf::none;
}

} // namespace

TEST_F(source_ordering, processes_every_record_once_and_commits_to_the_end) {
  auto topic = make_topic("orders", 3);
  produce(topic, keyed_records(600, 3, 50));
  auto log = std::make_shared<record_log>();
  auto b = make_binding("basic", topic, "basic-group");
  b.worker = logging_worker(log);
  auto bridge = start(b);
  ASSERT_TRUE(dt::wait_until([&] { return log->size() >= 600; }, 60s))
      << log->size();
  auto ends = end_offsets(topic, 3);
  ASSERT_TRUE(dt::wait_until(
      [&] { return committed("basic-group", topic, 3) == ends; }, 20s));
  auto s = stats(bridge);
  EXPECT_EQ(s.consumed, 600u);
  EXPECT_EQ(s.processed, 600u);
  EXPECT_EQ(s.dead_lettered, 0u);
  EXPECT_EQ(s.assigned, (std::vector<int32_t>{0, 1, 2}));
  EXPECT_EQ(stop(bridge), caf::exit_reason::user_shutdown);
  expect_per_key_order_exactly_once(*log, 600);
  EXPECT_TRUE(lines->contains(
      {"event=partitions_assigned", "bridge=basic", "partitions=0,1,2"}));
  EXPECT_TRUE(lines->contains({"event=bridge_stopped", "bridge=basic"}));
  auto entry = actors.find("basic-source");
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry->role(), "bridge");
  EXPECT_EQ(entry->state(), "stopped");
  EXPECT_EQ(entry->processed(), 600u);
  auto text = node_metrics.render();
  EXPECT_NE(
      text.find(
          "distiller_bridge_records_processed_total{bridge=\"basic\"} 600"),
      std::string::npos);
}

TEST_F(source_ordering, key_mode_keeps_key_order_and_outruns_partition_mode) {
  constexpr int total = 20'000;
  auto topic = make_topic("keyed", 3);
  produce(topic, keyed_records(total, 3, 500));
  auto run = [&](ordering mode, const std::string& group) {
    auto log = std::make_shared<record_log>();
    auto b = make_binding(group, topic, group);
    b.mode = mode;
    b.pool_size = 8;
    b.worker = logging_worker(log, random_delay);
    auto bridge = start(b);
    EXPECT_TRUE(dt::wait_until([&] { return log->size() >= total; }, 180s))
        << to_string(mode) << ": " << log->size();
    EXPECT_EQ(stop(bridge), caf::exit_reason::user_shutdown);
    expect_per_key_order_exactly_once(*log, total);
    return span_seconds(*log);
  };
  auto key_s = run(ordering::key, "key-mode");
  auto partition_s = run(ordering::partition, "partition-mode");
  std::printf("key mode: %.2f s, partition mode: %.2f s, speed-up %.2fx "
              "(20,000 records, 3 partitions, 500 keys, 8 workers)\n",
              key_s, partition_s, partition_s / key_s);
  EXPECT_GE(partition_s, 2.0 * key_s);
}
