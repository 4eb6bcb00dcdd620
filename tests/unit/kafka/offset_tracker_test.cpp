#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <vector>

#include "bridges/kafka/offset_tracker.hpp"

namespace {

using distiller::kafka::offset_tracker;

TEST(OffsetTracker, CommitsOnlyUpToLowestUnfinished) {
  offset_tracker t{10};
  EXPECT_EQ(t.committable(), 10);
  for (int64_t o = 10; o < 15; ++o)
    ASSERT_TRUE(t.track(o));
  EXPECT_EQ(t.in_flight(), 5u);
  EXPECT_TRUE(t.complete(12));
  EXPECT_TRUE(t.complete(11));
  EXPECT_EQ(t.committable(), 10); // 10 still running
  EXPECT_EQ(t.held_back(), 2u);
  EXPECT_TRUE(t.complete(10));
  EXPECT_EQ(t.committable(), 13); // 10, 11, 12 done
  EXPECT_TRUE(t.complete(14));
  EXPECT_EQ(t.committable(), 13);
  EXPECT_TRUE(t.complete(13));
  EXPECT_EQ(t.committable(), 15); // one past the last tracked
  EXPECT_EQ(t.in_flight(), 0u);
}

TEST(OffsetTracker, GapsFromCompactionOrMarkers) {
  offset_tracker t{0};
  t.track(0);
  t.track(3); // 1, 2 were a transaction marker and a compacted record
  t.track(7);
  t.complete(3);
  EXPECT_EQ(t.committable(), 0);
  t.complete(0);
  EXPECT_EQ(t.committable(), 7);
  t.complete(7);
  EXPECT_EQ(t.committable(), 8);
}

TEST(OffsetTracker, RejectsDuplicatesAndUnknowns) {
  offset_tracker t{5};
  EXPECT_FALSE(t.track(4)); // below the start
  EXPECT_TRUE(t.track(5));
  EXPECT_FALSE(t.track(5));    // not increasing
  EXPECT_FALSE(t.complete(6)); // never tracked
  EXPECT_TRUE(t.complete(5));
  EXPECT_FALSE(t.complete(5)); // twice
}

TEST(OffsetTracker, PendingCommitOnlyWhenMoved) {
  offset_tracker t{0};
  t.track(0);
  ASSERT_TRUE(t.pending_commit());
  t.mark_committed(*t.pending_commit());
  EXPECT_FALSE(t.pending_commit());
  t.complete(0);
  EXPECT_EQ(t.pending_commit(), 1);
}

TEST(OffsetTracker, RandomCompletionNeverCommitsPastUnfinished) {
  std::mt19937 gen{42};
  for (int round = 0; round < 50; ++round) {
    offset_tracker t{100};
    std::vector<int64_t> offsets;
    int64_t o = 100;
    for (int i = 0; i < 500; ++i) {
      o += 1 + (gen() % 3 == 0 ? gen() % 4 : 0);
      offsets.push_back(o);
      ASSERT_TRUE(t.track(o));
    }
    auto order = offsets;
    std::shuffle(order.begin(), order.end(), gen);
    std::set<int64_t> unfinished(offsets.begin(), offsets.end());
    for (auto x : order) {
      ASSERT_TRUE(t.complete(x));
      unfinished.erase(x);
      auto c = t.committable();
      // Nothing below the commit point is unfinished …
      if (!unfinished.empty()) {
        EXPECT_EQ(c, *unfinished.begin());
      } else {
        EXPECT_EQ(c, offsets.back() + 1);
      }
    }
  }
}

} // namespace
