#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/source_fixture.hpp"

using namespace distiller;
using namespace distiller::kafka;
using namespace distiller::kafka::test;

namespace {

using source_backpressure = source_fixture;

/// Counts records running at workers right now and the most ever.
struct concurrency {
  std::atomic<int> now{0};
  std::atomic<int> peak{0};
};

} // namespace

TEST_F(source_backpressure,
       in_flight_stays_bounded_and_partitions_pause_and_resume) {
  constexpr int total = 600;
  auto topic = make_topic("slow", 2);
  std::vector<test_message> msgs;
  for (int i = 0; i < total; ++i)
    msgs.push_back({i % 2, "k" + std::to_string(i), std::string(100, 'x'), {}});
  produce(topic, msgs);
  auto log = std::make_shared<record_log>();
  auto running = std::make_shared<concurrency>();
  auto b = make_binding("slow", topic, "slow-group");
  b.mode = ordering::unordered;
  b.pool_size = 16;
  b.max_in_flight = 8;
  b.max_in_flight_per_partition = 4;
  b.max_buffered_per_partition = 40;
  b.max_batch = 4;
  b.max_buffered = 0; // only the per-partition limit here
  b.worker = logging_worker(log, [running](const in_record&) -> caf::error {
    auto n = ++running->now;
    auto peak = running->peak.load();
    while (n > peak && !running->peak.compare_exchange_weak(peak, n)) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
    --running->now;
    return caf::none;
  });
  auto bridge = start(b);
  ASSERT_TRUE(dt::wait_until([&] { return log->size() >= total; }, 120s))
      << log->size();
  auto s = stats(bridge);
  EXPECT_LE(running->peak.load(), 8);
  EXPECT_LE(s.max_in_flight, 8u);
  EXPECT_GE(s.max_in_flight, 4u) << "the workers should have run in parallel";
  EXPECT_GE(s.pauses, 1u);
  EXPECT_GE(s.resumes, 1u);
  EXPECT_EQ(s.paused_partitions, 0u);
  EXPECT_TRUE(lines->contains({"event=partition_paused", "bridge=slow"}));
  EXPECT_TRUE(lines->contains({"event=partition_resumed", "bridge=slow"}));
  // Never more polled-and-unfinished than the limit plus one poll's worth.
  for (auto& l : lines->matching({"event=partition_paused", "bridge=slow"}))
    EXPECT_LE(std::stoi(field_of(l, "buffered")), 40 + 2000) << l;
  EXPECT_EQ(log->distinct(), static_cast<size_t>(total));
  EXPECT_EQ(stop(bridge), caf::exit_reason::user_shutdown);
}

TEST_F(source_backpressure, the_bridge_wide_limit_holds_fetching_back) {
  // 12 partitions of 125 records: no partition can reach its own limit
  // (150), so only the bridge-wide one holds anything back.
  constexpr int partitions = 12;
  constexpr int total = 1'500;
  auto topic = make_topic("gate", partitions);
  std::vector<test_message> msgs;
  for (int i = 0; i < total; ++i)
    msgs.push_back({i % partitions, "k" + std::to_string(i % 50), "v", {}});
  produce(topic, msgs);
  auto log = std::make_shared<record_log>();
  auto b = make_binding("gate", topic, "gate-group");
  b.mode = ordering::key;
  b.pool_size = 4;
  b.max_poll_records = 20;
  b.max_buffered = 200;
  b.max_buffered_per_partition = 65536; // in effect: 3/4 of 200
  b.worker = logging_worker(log, [](const in_record&) -> caf::error {
    std::this_thread::sleep_for(std::chrono::microseconds{500});
    return caf::none;
  });
  EXPECT_EQ(b.partition_buffer_limit(), 150u);
  auto bridge = start(b);
  // Polled and unfinished never beyond the limit plus a poll (and a poll the
  // bridge had taken but not yet reported when the poll thread looked).
  size_t most = 0;
  ASSERT_TRUE(dt::wait_until(
      [&] {
        most = std::max<size_t>(most, stats(bridge).buffered);
        return log->size() >= total;
      },
      120s, 5ms))
      << log->size();
  auto s = stats(bridge);
  EXPECT_GE(s.fetch_holds, 1u) << "the gate never closed";
  EXPECT_LE(most, 200u + 2 * 20u);
  EXPECT_GT(most, 100u);
  EXPECT_EQ(s.pauses, 0u) << "no partition should have reached its limit";
  // The commit tick (every 200 ms here) reports the holds as a metric.
  EXPECT_TRUE(dt::wait_until(
      [&] {
        auto text = node_metrics.render();
        return text.find(
                   "distiller_bridge_fetch_holds_total{bridge=\"gate\"} ") !=
                   std::string::npos &&
               text.find(
                   "distiller_bridge_fetch_holds_total{bridge=\"gate\"} 0\n") ==
                   std::string::npos;
      },
      10s));
  EXPECT_EQ(log->distinct(), static_cast<size_t>(total));
  EXPECT_EQ(stop(bridge), caf::exit_reason::user_shutdown);
}

TEST_F(source_backpressure, a_long_hold_pauses_fetching_and_resumes_it) {
  // 4 partitions of 100 records, below their own limit (150): with the
  // workers blocked, the bridge-wide limit (200) stays reached.
  constexpr int partitions = 4;
  constexpr int total = 400;
  auto topic = make_topic("hold", partitions);
  std::vector<test_message> msgs;
  for (int i = 0; i < total; ++i)
    msgs.push_back({i % partitions, "k" + std::to_string(i), "v", {}});
  produce(topic, msgs);
  auto log = std::make_shared<record_log>();
  auto open = std::make_shared<std::atomic<bool>>(false);
  auto b = make_binding("hold", topic, "hold-group");
  b.mode = ordering::unordered;
  b.pool_size = 2;
  b.max_poll_records = 10;
  b.max_buffered = 200;
  b.worker = logging_worker(log, [open](const in_record&) -> caf::error {
    // Blocked until the test opens: the gate stays closed for long.
    while (!*open)
      std::this_thread::sleep_for(std::chrono::milliseconds{5});
    return caf::none;
  });
  auto bridge = start(b);
  // Held for over a second: every partition paused, polls go on (so that a
  // rebalance would still be served).
  ASSERT_TRUE(dt::wait_until(
      [&] {
        return lines->contains({"event=fetching_held", "bridge=hold"});
      },
      30s));
  auto held = stats(bridge);
  EXPECT_LE(held.buffered, 200u + 2 * 10u);
  EXPECT_GE(held.fetch_holds, 1u);
  EXPECT_EQ(held.pauses, 0u);
  *open = true;
  ASSERT_TRUE(dt::wait_until([&] { return log->size() >= total; }, 60s))
      << log->size();
  EXPECT_TRUE(lines->contains({"event=fetching_resumed", "bridge=hold"}));
  EXPECT_EQ(log->distinct(), static_cast<size_t>(total));
  EXPECT_EQ(stop(bridge), caf::exit_reason::user_shutdown);
}
