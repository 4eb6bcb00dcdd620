// The consumer loop's stall watch (bridges/kafka/stall_watch.hpp), driven by
// a clock the test advances.
#include <gtest/gtest.h>

#include <chrono>

#include "bridges/kafka/stall_watch.hpp"

namespace {

using distiller::kafka::detail::stall_watch;
using namespace std::chrono_literals;
using clock_t_ = stall_watch::clock;

struct StallWatch : ::testing::Test {
  stall_watch watch{30s};
  clock_t_::time_point t = clock_t_::time_point{} + 1h;
  /// Looks at partition 0 every second for `span`, position and high
  /// watermark fixed; returns the first report (0 if none).
  std::chrono::milliseconds look(std::chrono::seconds span, int64_t pos,
                                 int64_t high, bool held = false) {
    for (auto end = t + span; t < end;) {
      t += 1s;
      if (auto s = watch.observe(0, pos, high, held, t); s.count() > 0)
        return s;
    }
    return 0ms;
  }
};

TEST_F(StallWatch, APositionThatDoesNotMoveWithRecordsWaitingIsAStall) {
  EXPECT_EQ(look(29s, 100, 140), 0ms);
  EXPECT_EQ(look(2s, 100, 140), 30s);
  // Reported once per period, not on every look.
  EXPECT_EQ(look(29s, 100, 140), 0ms);
  EXPECT_EQ(look(1s, 100, 140), 30s);
}

TEST_F(StallWatch, AMovingPositionIsNoStall) {
  for (int64_t pos = 100; pos < 200; ++pos) {
    t += 1s;
    EXPECT_EQ(watch.observe(0, pos, 1000, false, t), 0ms) << pos;
  }
}

TEST_F(StallWatch, ACaughtUpPartitionIsNoStallNorOneShortOfTheWatermark) {
  EXPECT_EQ(look(120s, 140, 140), 0ms);
  // A transaction's commit marker: the last offset no consumer receives.
  EXPECT_EQ(look(120s, 139, 140), 0ms);
  // Two short is a stall.
  EXPECT_EQ(look(31s, 138, 140), 30s);
}

TEST_F(StallWatch, AHeldPartitionIsNoStallAndItsWatchStartsOverAfterward) {
  EXPECT_EQ(look(120s, 100, 140, true), 0ms);
  // Released: the 30 s count from the release, not from the hold's start.
  EXPECT_EQ(look(29s, 100, 140), 0ms);
  EXPECT_EQ(look(2s, 100, 140), 30s);
}

TEST_F(StallWatch, AnUnknownPositionIsNoStall) {
  EXPECT_EQ(look(120s, -1001, 140), 0ms);
}

TEST_F(StallWatch, PartitionsAreWatchedApartAndForgotten) {
  for (int i = 0; i < 20; ++i) {
    t += 1s;
    watch.observe(0, 100, 140, false, t);
    EXPECT_EQ(watch.observe(1, 100 + i, 140, false, t), 0ms);
  }
  watch.forget(0);
  // Forgotten: partition 0's watch starts again from here.
  EXPECT_EQ(look(29s, 100, 140), 0ms);
  EXPECT_EQ(look(2s, 100, 140), 30s);
}

TEST(StallWatchOff, ZeroTurnsItOff) {
  stall_watch off{0ms};
  auto t = stall_watch::clock::time_point{} + 1h;
  for (int i = 0; i < 600; ++i) {
    t += 1s;
    EXPECT_EQ(off.observe(0, 1, 1000, false, t), 0ms);
  }
}

} // namespace
