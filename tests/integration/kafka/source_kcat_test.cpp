#include <chrono>
#include <filesystem>
#include <string>

#include "tests/support/source_fixture.hpp"

using namespace distiller;
using namespace distiller::kafka;
using namespace distiller::kafka::test;

namespace {

using source_kcat = source_fixture;

constexpr const char* kcat = "/usr/bin/kcat";

} // namespace

TEST_F(source_kcat, record_produced_by_kcat_is_processed_with_key_and_headers) {
  if (!std::filesystem::exists(kcat))
    GTEST_SKIP() << "kcat is not installed (apt-get install kcat)";
  auto topic = make_topic("from-kcat", 1);
  dt::temp_dir dir{"source-kcat"};
  auto payload = dir / "payload.json";
  dt::write_file(payload, R"({"text":"hello from kcat"})");
  auto r = dt::run_process({kcat, "-P", "-b", brokers(), "-t", topic, "-p", "0",
                            "-k", "user-42", "-H", "x-trace-id=kcat-trace-1",
                            "-H", "origin=kcat", payload.string()},
                           {}, 30s);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto log = std::make_shared<record_log>();
  auto b = make_binding("kcat", topic, "kcat-group");
  b.worker = logging_worker(log);
  auto bridge = start(b);
  ASSERT_TRUE(dt::wait_until([&] { return log->size() >= 1; }, 60s));
  auto rec = log->items().front();
  EXPECT_EQ(rec.key, "user-42");
  EXPECT_EQ(rec.value, R"({"text":"hello from kcat"})");
  EXPECT_EQ(rec.trace, "kcat-trace-1");
  EXPECT_EQ(rec.headers,
            (std::vector<kafka_header>{{"x-trace-id", "kcat-trace-1"},
                                       {"origin", "kcat"}}));
  EXPECT_EQ(stop(bridge), caf::exit_reason::user_shutdown);
}
