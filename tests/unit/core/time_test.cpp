#include <gtest/gtest.h>

#include "runtime/core/time.hpp"

namespace {

using namespace distiller;

TEST(Time, FormatsRfc3339WithMilliseconds) {
  EXPECT_EQ(us_to_rfc3339(0), "1970-01-01T00:00:00.000Z");
  // 2026-12-01T09:30:00.123456Z: the fraction is truncated to milliseconds.
  auto us = rfc3339_to_us("2026-12-01T09:30:00.123456Z");
  ASSERT_NE(us, 0);
  EXPECT_EQ(us_to_rfc3339(us), "2026-12-01T09:30:00.123Z");
  EXPECT_EQ(us_to_rfc3339(us + 999), "2026-12-01T09:30:00.124Z");
}

TEST(Time, FormattedTimesParseBack) {
  for (int64_t us : {int64_t{1'700'000'000'000'000}, int64_t{1'000},
                     int64_t{86'399'999'000}}) {
    auto text = us_to_rfc3339(us);
    EXPECT_EQ(rfc3339_to_us(text), us / 1000 * 1000) << text;
  }
}

TEST(Time, TimesBeforeTheEpochKeepAPositiveFraction) {
  EXPECT_EQ(us_to_rfc3339(-1'000), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(us_to_rfc3339(-1'000'000), "1969-12-31T23:59:59.000Z");
}

} // namespace
