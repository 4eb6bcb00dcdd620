#include <gtest/gtest.h>

#include <atomic>

#include <caf/all.hpp>

#include "runtime/core/type_ids.hpp"
#include "runtime/health/health_board.hpp"
#include "runtime/health/probe.hpp"
#include "runtime/inspect/registry.hpp"
#include "tests/support/testing.hpp"

namespace {

using namespace distiller;
namespace dt = distiller::testing;
using namespace std::chrono_literals;

TEST(HealthBoard, ReadyOnlyWhenEveryRequiredComponentIsUp) {
  health::health_board board;
  board.declare("kafka");
  board.declare("postgres");
  board.declare("optional", false);
  EXPECT_FALSE(board.ready());
  EXPECT_EQ(board.not_ready(), (std::vector<std::string>{"kafka", "postgres"}));
  board.set("kafka", health::state::up, "3 brokers");
  board.set("postgres", health::state::degraded, "slow");
  EXPECT_TRUE(board.ready());
  board.set("postgres", health::state::down, "connection refused");
  EXPECT_EQ(board.not_ready(), (std::vector<std::string>{"postgres"}));
  auto snap = board.snapshot();
  ASSERT_EQ(snap.size(), 3u);
  EXPECT_EQ(snap[2].name, "postgres");
  EXPECT_EQ(snap[2].detail, "connection refused");
  EXPECT_EQ(health::to_string(snap[2].current), "down");
}

TEST(HealthProbe, WritesBoardAndSurvivesThrowingChecks) {
  caf::actor_system_config cfg;
  cfg.add_message_types<caf::id_block::distiller_runtime>();
  caf::actor_system sys{cfg};
  health::health_board board;
  inspect::registry reg{"n"};
  std::atomic<int> calls{0};
  std::atomic<bool> healthy{false};
  auto probe =
      health::spawn_probe(sys,
                          {"dep", 20ms,
                           [&](std::string& detail) {
                             ++calls;
                             if (!healthy)
                               throw std::runtime_error("connection refused");
                             detail = "fine";
                             return health::state::up;
                           }},
                          board, reg.enroll("probe-dep", "probe"));
  ASSERT_TRUE(dt::wait_until([&] { return calls >= 2; }));
  auto snap = board.snapshot();
  ASSERT_EQ(snap.size(), 1u);
  EXPECT_EQ(snap[0].current, health::state::down);
  EXPECT_EQ(snap[0].detail, "connection refused");
  healthy = true;
  ASSERT_TRUE(dt::wait_until([&] { return board.ready(); }));
  EXPECT_EQ(board.snapshot()[0].detail, "fine");
  // A direct health request runs the check and replies the state.
  caf::scoped_actor self{sys};
  std::string reply;
  self->request(probe, 5s, atoms::health_atom_v)
      .receive([&](const std::string& s) { reply = s; },
               [&](const caf::error& e) { FAIL() << sys.render(e); });
  EXPECT_EQ(reply, "up");
  EXPECT_GE(reg.find("probe-dep")->failures(), 1u);
  EXPECT_GE(reg.find("probe-dep")->processed(), 2u);
  caf::anon_send_exit(probe, caf::exit_reason::user_shutdown);
}

} // namespace
