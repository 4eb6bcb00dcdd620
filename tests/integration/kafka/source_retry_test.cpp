#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "tests/support/source_fixture.hpp"

using namespace distiller;
using namespace distiller::kafka;
using namespace distiller::kafka::test;

namespace {

using source_retry = source_fixture;

/// Steady-clock times of each attempt, per offset.
class attempt_clock {
 public:
  void note(const in_record& r) {
    std::lock_guard<std::mutex> guard{mtx_};
    times_[r.offset].push_back(std::chrono::steady_clock::now());
  }
  std::vector<std::chrono::steady_clock::time_point> of(int64_t offset) {
    std::lock_guard<std::mutex> guard{mtx_};
    return times_[offset];
  }

 private:
  std::mutex mtx_;
  std::map<int64_t, std::vector<std::chrono::steady_clock::time_point>> times_;
};

std::vector<test_message> one_partition(int n, const std::string& key) {
  std::vector<test_message> out;
  for (int i = 0; i < n; ++i)
    out.push_back({0, key, "value-" + std::to_string(i), {}});
  return out;
}

} // namespace

TEST_F(source_retry,
       failing_twice_then_succeeding_takes_three_growing_attempts) {
  auto topic = make_topic("retry", 1);
  cluster->create_topic(topic + ".dlq", 1, 1);
  produce(topic, one_partition(20, "same-key"));
  auto log = std::make_shared<record_log>();
  auto clock = std::make_shared<attempt_clock>();
  auto b = make_binding("retry", topic, "retry-group");
  b.retry = backoff_policy{3, 50ms, 3.0, 5s, 0.0};
  b.worker = logging_worker(log, [clock](const in_record& r) -> caf::error {
    if (r.offset != 5)
      return caf::none;
    clock->note(r);
    if (r.attempt < 3)
      return caf::make_error(caf::sec::runtime_error, "flaky dependency");
    return caf::none;
  });
  auto bridge = start(b);
  ASSERT_TRUE(dt::wait_until([&] { return log->size() >= 20; }, 60s))
      << log->size();
  auto s = stats(bridge);
  EXPECT_EQ(s.processed, 20u);
  EXPECT_EQ(s.retried, 2u);
  EXPECT_EQ(s.failed_attempts, 2u);
  EXPECT_EQ(s.dead_lettered, 0u);
  auto times = clock->of(5);
  ASSERT_EQ(times.size(), 3u);
  auto first_gap = times[1] - times[0];
  auto second_gap = times[2] - times[1];
  EXPECT_GE(first_gap, 50ms);
  EXPECT_GE(second_gap, 150ms);
  EXPECT_GT(second_gap, first_gap);
  // One success, on the third attempt; the key's later records waited for it.
  auto items = log->items();
  int successes = 0;
  size_t pos = 0;
  for (size_t i = 0; i < items.size(); ++i)
    if (items[i].offset == 5) {
      ++successes;
      pos = i;
      EXPECT_EQ(items[i].attempt, 3);
    }
  EXPECT_EQ(successes, 1);
  for (size_t i = 0; i < items.size(); ++i)
    EXPECT_EQ(items[i].offset < 5, i < pos) << "offset " << items[i].offset;
  EXPECT_EQ(stop(bridge), caf::exit_reason::user_shutdown);
  EXPECT_EQ(committed("retry-group", topic, 1).at(0), 20);
}

TEST_F(source_retry,
       always_failing_record_is_dead_lettered_and_partition_moves_on) {
  auto topic = make_topic("poison", 1);
  auto dlq = topic + ".dlq";
  cluster->create_topic(dlq, 1, 1);
  auto msgs = one_partition(30, "k");
  msgs[7].key = "poison-key";
  msgs[7].value = "cannot-process-me";
  msgs[7].headers = {{"x-trace-id", "trace-poison-7"}, {"tenant", "acme"}};
  produce(topic, msgs);
  auto log = std::make_shared<record_log>();
  auto b = make_binding("poison", topic, "poison-group");
  b.mode = ordering::partition;
  b.worker = logging_worker(log, [](const in_record& r) -> caf::error {
    if (r.value == "cannot-process-me")
      return caf::make_error(caf::sec::runtime_error, "boom");
    return caf::none;
  });
  auto before_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  auto bridge = start(b);
  ASSERT_TRUE(dt::wait_until([&] { return log->size() >= 29; }, 60s))
      << log->size();
  auto letters = read_topic(dlq, 1);
  ASSERT_EQ(letters.size(), 1u);
  auto& d = letters[0];
  EXPECT_EQ(d.key, std::optional<std::string>{"poison-key"});
  EXPECT_EQ(d.value, "cannot-process-me");
  EXPECT_NE(dt::header_text(d, "x-error").find("boom"), std::string::npos)
      << dt::header_text(d, "x-error");
  EXPECT_EQ(dt::header_text(d, "x-attempts"), "3");
  EXPECT_EQ(dt::header_text(d, "x-origin-topic"), topic);
  EXPECT_EQ(dt::header_text(d, "x-origin-partition"), "0");
  EXPECT_EQ(dt::header_text(d, "x-origin-offset"), "7");
  ASSERT_FALSE(dt::header_text(d, "x-first-failure-ts").empty());
  auto first_failure = std::stoll(dt::header_text(d, "x-first-failure-ts"));
  EXPECT_GE(first_failure, before_ms);
  EXPECT_LE(first_failure, std::stoll(dt::header_text(d, "x-last-failure-ts")));
  EXPECT_EQ(dt::header_text(d, "x-trace-id"), "trace-poison-7");
  EXPECT_EQ(dt::header_text(d, "tenant"), "acme");
  EXPECT_EQ(dt::header_text(d, "x-bridge"), "poison");
  // The partition moved on past the poison record, in order.
  EXPECT_FALSE(log->contains(0, 7));
  EXPECT_TRUE(log->contains(0, 29));
  auto s = stats(bridge);
  EXPECT_EQ(s.dead_lettered, 1u);
  EXPECT_EQ(s.failed_attempts, 3u);
  EXPECT_EQ(s.retried, 2u);
  ASSERT_TRUE(dt::wait_until(
      [&] { return committed("poison-group", topic, 1).at(0) == 30; }, 20s));
  EXPECT_TRUE(lines->contains({"event=record_dead_lettered", "bridge=poison",
                               "partition=0", "offset=7", "attempts=3",
                               "trace_id=trace-poison-7"}));
  EXPECT_EQ(stop(bridge), caf::exit_reason::user_shutdown);
  auto text = node_metrics.render();
  EXPECT_NE(
      text.find(
          "distiller_bridge_records_dead_lettered_total{bridge=\"poison\"} 1"),
      std::string::npos);
}

TEST_F(source_retry, undecodable_record_is_dead_lettered_at_once) {
  auto topic = make_topic("garbage", 1);
  auto dlq = topic + ".dlq";
  cluster->create_topic(dlq, 1, 1);
  auto msgs = one_partition(10, "k");
  msgs[3].value = "\xff\xfe not json";
  produce(topic, msgs);
  auto log = std::make_shared<record_log>();
  auto b = make_binding("garbage", topic, "garbage-group");
  b.worker = logging_worker(log, [](const in_record& r) -> caf::error {
    if (r.value.rfind("value-", 0) != 0)
      return caf::make_error(record_errc::undecodable, "not a value-N record");
    return caf::none;
  });
  auto bridge = start(b);
  ASSERT_TRUE(dt::wait_until([&] { return log->size() >= 9; }, 60s));
  auto letters = read_topic(dlq, 1);
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(dt::header_text(letters[0], "x-attempts"), "1");
  EXPECT_EQ(dt::header_text(letters[0], "x-origin-offset"), "3");
  EXPECT_NE(dt::header_text(letters[0], "x-error").find("undecodable"),
            std::string::npos)
      << dt::header_text(letters[0], "x-error");
  auto s = stats(bridge);
  EXPECT_EQ(s.failed_attempts, 1u);
  EXPECT_EQ(s.retried, 0u);
  EXPECT_EQ(s.dead_lettered, 1u);
  EXPECT_EQ(stop(bridge), caf::exit_reason::user_shutdown);
}
