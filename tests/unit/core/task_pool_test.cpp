// The task pool behind the APIs (runtime/tasks/task_pool.hpp): a bounded
// pool refuses work at once while `max_queued` tasks wait or run (the 503
// of query.max_queued and thoughts.max_queued), takes work again as they
// finish, survives a throwing task, and refuses everything after stop().

#include <gtest/gtest.h>

#include <atomic>
#include <future>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "runtime/tasks/task_pool.hpp"
#include "tests/support/testing.hpp"

namespace {

using namespace std::chrono_literals;
namespace dt = distiller::testing;

class task_pool_test : public ::testing::Test {
 protected:
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys =
      std::make_unique<caf::actor_system>(cfg);
};

} // namespace

TEST_F(task_pool_test, a_full_bounded_pool_refuses_at_once_then_recovers) {
  distiller::tasks::task_pool pool{*sys, "q", "query", 1, nullptr, 3};
  std::promise<void> release;
  auto gate = release.get_future().share();
  std::atomic<int> ran{0};
  // One task runs (blocked on the gate), two wait: the bound is reached.
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(pool.post([gate, &ran] {
      gate.wait();
      ++ran;
    })) << i;
  EXPECT_EQ(pool.queued(), 3u);
  // Refused without waiting, as often as asked.
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 100; ++i)
    EXPECT_FALSE(pool.post([&ran] { ++ran; }));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
  release.set_value();
  ASSERT_TRUE(dt::wait_until([&] { return pool.queued() == 0; }, 10s));
  EXPECT_EQ(ran.load(), 3);
  // Room again: new work runs.
  ASSERT_TRUE(pool.post([&ran] { ++ran; }));
  ASSERT_TRUE(dt::wait_until([&] { return ran.load() == 4; }, 10s));
  pool.stop();
}

TEST_F(task_pool_test, a_throwing_task_is_counted_out_and_the_worker_goes_on) {
  distiller::tasks::task_pool pool{*sys, "t", "test", 2, nullptr, 2};
  ASSERT_TRUE(pool.post([] { throw std::runtime_error("boom"); }));
  ASSERT_TRUE(dt::wait_until([&] { return pool.queued() == 0; }, 10s));
  std::atomic<bool> ran{false};
  ASSERT_TRUE(pool.post([&ran] { ran = true; }));
  ASSERT_TRUE(dt::wait_until([&] { return ran.load(); }, 10s));
  pool.stop();
  EXPECT_FALSE(pool.post([] {}));
}

TEST_F(task_pool_test, an_unbounded_pool_takes_everything) {
  distiller::tasks::task_pool pool{*sys, "u", "test", 2, nullptr};
  std::atomic<int> ran{0};
  for (int i = 0; i < 500; ++i)
    ASSERT_TRUE(pool.post([&ran] { ++ran; }));
  ASSERT_TRUE(dt::wait_until([&] { return ran.load() == 500; }, 10s));
  pool.stop();
}
