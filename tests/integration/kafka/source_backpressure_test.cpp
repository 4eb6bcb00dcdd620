#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/kafka/source_fixture.hpp"

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
