#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <vector>

#include "runtime/core/ids.hpp"
#include "runtime/logging/log.hpp"

namespace {

using namespace distiller;

struct capture {
  std::vector<std::string> lines;
  capture() {
    log::set_sink([this](std::string_view l) { lines.emplace_back(l); });
  }
  ~capture() {
    log::set_sink({});
    log::set_level(log::level::info);
  }
};

TEST(Logfmt, LineHasTimestampLevelEventAndFields) {
  capture c;
  auto trace = make_trace_id();
  log::info("record_committed", {{"topic", "chunk-processing"},
                                 {"partition", 3},
                                 {"offset", int64_t{42}},
                                 {"duration_ms", 1.5},
                                 {"trace_id", trace}});
  ASSERT_EQ(c.lines.size(), 1u);
  std::regex shape{
      R"(ts=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z level=info )"
      R"(event=record_committed topic=chunk-processing )"
      R"(partition=3 offset=42 duration_ms=1\.500 trace_id=[0-9a-f]{32})"};
  EXPECT_TRUE(std::regex_match(c.lines[0], shape)) << c.lines[0];
}

TEST(Logfmt, QuotesValuesThatNeedIt) {
  EXPECT_EQ(log::quote("plain"), "plain");
  EXPECT_EQ(log::quote(""), "\"\"");
  EXPECT_EQ(log::quote("two words"), "\"two words\"");
  EXPECT_EQ(log::quote("a=b"), "\"a=b\"");
  EXPECT_EQ(log::quote("say \"hi\""), "\"say \\\"hi\\\"\"");
  EXPECT_EQ(log::quote("line\nbreak"), "\"line\\nbreak\"");
}

TEST(Logfmt, LevelFiltersLines) {
  capture c;
  log::set_level(log::level::warn);
  log::debug("hidden");
  log::info("hidden");
  log::warn("shown");
  log::error("shown_too");
  ASSERT_EQ(c.lines.size(), 2u);
  EXPECT_NE(c.lines[0].find("level=warn event=shown"), std::string::npos);
  EXPECT_NE(c.lines[1].find("level=error"), std::string::npos);
}

TEST(Logfmt, ParseLevel) {
  EXPECT_EQ(log::parse_level("debug"), log::level::debug);
  EXPECT_EQ(log::parse_level("error"), log::level::error);
  EXPECT_FALSE(log::parse_level("loud"));
}

TEST(Ids, TraceIdsAndUuidsAreWellFormedAndDistinct) {
  auto a = make_trace_id();
  auto b = make_trace_id();
  EXPECT_NE(a, b);
  EXPECT_TRUE(std::regex_match(a.value(), std::regex{"[0-9a-f]{32}"}));
  auto u = make_uuid();
  EXPECT_TRUE(std::regex_match(
      u, std::regex{"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
                    "[0-9a-f]{12}"}))
      << u;
}

} // namespace
