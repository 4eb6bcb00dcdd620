#include <gtest/gtest.h>

#include "runtime/core/backoff.hpp"

namespace {

using namespace std::chrono_literals;
using distiller::backoff_policy;

TEST(Backoff, GrowsExponentiallyUpToTheCap) {
  backoff_policy p{5, 100ms, 2.0, 1000ms, 0.0};
  EXPECT_EQ(p.base_delay(1), 100ms);
  EXPECT_EQ(p.base_delay(2), 200ms);
  EXPECT_EQ(p.base_delay(3), 400ms);
  EXPECT_EQ(p.base_delay(4), 800ms);
  EXPECT_EQ(p.base_delay(5), 1000ms);
  EXPECT_EQ(p.base_delay(50), 1000ms);
}

TEST(Backoff, JitterStaysWithinItsFraction) {
  backoff_policy p{5, 1000ms, 2.0, 60000ms, 0.25};
  std::mt19937_64 gen{1};
  bool varied = false;
  auto first = p.delay(2, gen);
  for (int i = 0; i < 1000; ++i) {
    auto d = p.delay(2, gen);
    EXPECT_GE(d, 1500ms);
    EXPECT_LE(d, 2000ms);
    varied = varied || d != first;
  }
  EXPECT_TRUE(varied);
}

TEST(Backoff, AttemptsCountTheFirstTry) {
  backoff_policy p;
  p.max_attempts = 3;
  EXPECT_TRUE(p.may_retry(1));
  EXPECT_TRUE(p.may_retry(2));
  EXPECT_FALSE(p.may_retry(3));
}

} // namespace
