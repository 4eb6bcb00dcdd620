#include <chrono>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/support/source_fixture.hpp"

using namespace distiller;
using namespace distiller::kafka;
using namespace distiller::kafka::test;

namespace {

using source_supervision = source_fixture;

} // namespace

TEST_F(source_supervision,
       crashing_worker_is_restarted_and_poison_is_dead_lettered) {
  auto topic = make_topic("crashy", 2);
  auto dlq = topic + ".dlq";
  cluster->create_topic(dlq, 1, 1);
  std::vector<test_message> msgs;
  for (int i = 0; i < 200; ++i)
    msgs.push_back(
        {i % 2, "key-" + std::to_string(i), "v" + std::to_string(i), {}});
  msgs[40].value = "poison";
  produce(topic, msgs);
  auto log = std::make_shared<record_log>();
  auto b = make_binding("crashy", topic, "crashy-group");
  b.mode = ordering::unordered;
  b.pool_size = 3;
  b.worker = logging_worker(log, [](const in_record& r) -> caf::error {
    if (r.value == "poison")
      throw std::runtime_error("worker crashed on poison");
    return caf::none;
  });
  auto bridge = start(b);
  // Every other record is processed (batch-mates of the poison at least
  // once), the poison ends in the DLQ after three attempts.
  ASSERT_TRUE(dt::wait_until(
      [&] {
        for (int i = 0; i < 200; ++i)
          if (i != 40 && !log->contains(i % 2, i / 2))
            return false;
        return true;
      },
      60s))
      << log->distinct();
  auto letters = read_topic(dlq, 1);
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].value, "poison");
  EXPECT_EQ(dt::header_text(letters[0], "x-attempts"), "3");
  EXPECT_NE(
      dt::header_text(letters[0], "x-error").find("worker crashed on poison"),
      std::string::npos)
      << dt::header_text(letters[0], "x-error");
  // Each attempt crashed a worker; the supervisor restarted it every time.
  uint64_t restarts = 0;
  double restart_metric = 0;
  for (int i = 0; i < 3; ++i) {
    auto name = "crashy-worker-" + std::to_string(i);
    auto e = actors.find(name);
    ASSERT_NE(e, nullptr) << name;
    restarts += e->restarts();
    restart_metric += node_metrics.actor_restarts()
                          .Add({{"actor", name}, {"role", "worker"}})
                          .Value();
  }
  EXPECT_EQ(restarts, 3u);
  EXPECT_EQ(restart_metric, 3.0);
  // The pool keeps its size: every worker is running.
  auto sup = actors.find("crashy");
  ASSERT_NE(sup, nullptr);
  EXPECT_EQ(sup->role(), "supervisor");
  for (int i = 0; i < 3; ++i) {
    auto name = "crashy-worker-" + std::to_string(i);
    EXPECT_TRUE(dt::wait_until(
        [&] { return actors.find(name)->state() == "running"; }, 10s))
        << name;
  }
  auto s = stats(bridge);
  EXPECT_EQ(s.dead_lettered, 1u);
  // The poison's three attempts, plus one for each batch-mate it took down.
  EXPECT_GE(s.failed_attempts, 3u);
  ASSERT_TRUE(dt::wait_until(
      [&] {
        auto c = committed("crashy-group", topic, 2);
        return c[0] == 100 && c[1] == 100;
      },
      20s));
  EXPECT_EQ(stop(bridge), caf::exit_reason::user_shutdown);
}
