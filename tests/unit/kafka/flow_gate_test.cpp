#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "bridges/kafka/flow_gate.hpp"

namespace {

using distiller::kafka::flow_gate;
using namespace std::chrono_literals;

TEST(FlowGate, DisabledIsAlwaysOpen) {
  flow_gate g{0, 0};
  g.handed(1'000'000);
  EXPECT_FALSE(g.enabled());
  EXPECT_TRUE(g.wait_open(0ms));
}

TEST(FlowGate, CountsMailboxBacklogAndHeldRecords) {
  flow_gate g{100, 50};
  g.handed(60); // one poll batch still in the bridge's mailbox
  EXPECT_EQ(g.outstanding(), 60u);
  g.received(60); // the bridge took it and holds all of it
  g.publish(60);
  EXPECT_EQ(g.outstanding(), 60u);
  g.handed(30);
  EXPECT_EQ(g.outstanding(), 90u);
  g.publish(20); // 40 of the first batch finished
  EXPECT_EQ(g.outstanding(), 50u);
}

TEST(FlowGate, ClosesAtTheLimitAndOpensAtTheLowWaterMark) {
  flow_gate g{100, 50};
  g.handed(100);
  g.received(100);
  g.publish(100);
  EXPECT_FALSE(g.wait_open(1ms));
  EXPECT_EQ(g.closings(), 1u);
  // Below the limit but above the low-water mark: still closed.
  g.publish(80);
  EXPECT_FALSE(g.wait_open(1ms));
  g.publish(50);
  EXPECT_TRUE(g.wait_open(1ms));
  // Open again: fetching goes on up to the limit.
  g.publish(99);
  EXPECT_TRUE(g.wait_open(1ms));
  EXPECT_EQ(g.closings(), 1u);
}

TEST(FlowGate, LowWaterDefaultsToHalfTheLimit) {
  flow_gate g{100, 500};
  EXPECT_EQ(g.low_water(), 50u);
}

TEST(FlowGate, TheBridgeCatchingUpWakesAWaitingPollThread) {
  flow_gate g{10, 5};
  g.handed(10);
  g.received(10);
  g.publish(10);
  std::atomic<bool> opened{false};
  auto t0 = std::chrono::steady_clock::now();
  std::thread poller{[&] {
    // A long timeout: only the bridge's publication can end it early.
    opened = g.wait_open(30s);
  }};
  // Publish until the poll thread has seen it (it may not wait yet).
  while (!opened) {
    g.publish(2);
    std::this_thread::sleep_for(1ms);
    if (std::chrono::steady_clock::now() - t0 > 20s)
      break;
  }
  poller.join();
  EXPECT_TRUE(opened);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 20s);
}

TEST(FlowGate, WakeEndsAWaitWithoutOpening) {
  flow_gate g{10, 5};
  g.handed(10);
  std::atomic<int> result{-1};
  std::thread poller{[&] {
    result = g.wait_open(30s) ? 1 : 0;
  }};
  auto t0 = std::chrono::steady_clock::now();
  while (result < 0 && std::chrono::steady_clock::now() - t0 < 20s) {
    g.wake();
    std::this_thread::sleep_for(1ms);
  }
  poller.join();
  EXPECT_EQ(result, 0);
}

} // namespace
