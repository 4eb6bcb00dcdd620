#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <caf/all.hpp>
#include <gtest/gtest.h>

#include "runtime/core/errc.hpp"
#include "runtime/core/type_ids.hpp"
#include "runtime/supervision/supervisor.hpp"
#include "tests/support/testing.hpp"
#include "tests/unit/supervision/supervisor_fixture.hpp"

using namespace std::chrono_literals;
using namespace distiller;
using namespace distiller::supervision;
using namespace distiller::supervision::test;
using distiller::testing::wait_until;

using supervisor_test = supervisor_fixture;

// -- restarts -----------------------------------------------------------------

TEST_F(supervisor_test, crashed_child_is_restarted_and_keeps_working) {
  auto sup = spawn("sup", {}, {{"worker-1", "worker", spawn_worker}});
  auto first = child_of(sup, "worker-1");
  ASSERT_TRUE(first) << sys->render(first.error());
  EXPECT_EQ(twice(*first, 4), 8);
  caf::anon_send(*first, atoms::crash_atom_v);
  ASSERT_TRUE(wait_until([&] { return restarts_of("worker-1") == 1; }));
  auto second = child_of(sup, "worker-1");
  ASSERT_TRUE(second) << sys->render(second.error());
  EXPECT_NE(first->address(), second->address());
  EXPECT_EQ(twice(*second, 21), 42);
  auto entry = actors.find("worker-1");
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry->restarts(), 1u);
  EXPECT_EQ(entry->failures(), 1u);
  EXPECT_EQ(entry->state(), "running");
  EXPECT_EQ(entry->parent(), "sup");
  EXPECT_EQ(entry->role(), "worker");
  EXPECT_EQ(restarts_metric("worker-1", "worker"), 1.0);
  EXPECT_TRUE(
      log_lines->contains_all({"event=actor_restarted", "actor=worker-1",
                               "role=worker", "reason=", "restarts=1"}));
  auto sup_entry = actors.find("sup");
  ASSERT_NE(sup_entry, nullptr);
  EXPECT_EQ(sup_entry->role(), "supervisor");
  EXPECT_EQ(sup_entry->state(), "running");
}

TEST_F(supervisor_test, gives_up_after_max_restarts_within_window) {
  auto sup = spawn("sup", {3, 10s},
                   {{"bystander", "worker", spawn_worker},
                    {"doomed", "doomed", [](caf::actor_system& sys, auto e) {
                       return sys.spawn(doomed, std::move(e));
                     }}});
  (*self)->monitor(sup);
  auto reason = await_down(sup);
  EXPECT_TRUE(has_code(reason, runtime_errc::restart_intensity))
      << sys->render(reason);
  auto entry = actors.find("doomed");
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry->restarts(), 3u);
  EXPECT_EQ(entry->failures(), 4u);
  EXPECT_EQ(entry->state(), "failed");
  EXPECT_EQ(actors.find("bystander")->state(), "stopped");
  EXPECT_EQ(actors.find("bystander")->restarts(), 0u);
  EXPECT_EQ(actors.find("sup")->state(), "failed");
  EXPECT_EQ(restarts_metric("doomed", "doomed"), 3.0);
  EXPECT_EQ(escalations_metric("sup"), 1.0);
  EXPECT_TRUE(
      log_lines->contains_all({"event=supervisor_gave_up", "supervisor=sup"}));
}

TEST_F(supervisor_test, throwing_factory_is_a_failed_start) {
  auto calls = std::make_shared<std::atomic<int>>(0);
  auto sup = spawn(
      "sup", {2, 10s},
      {{"broken", "worker", [calls](caf::actor_system&, auto) -> caf::actor {
          ++*calls;
          throw std::runtime_error("no config");
        }}});
  (*self)->monitor(sup);
  auto reason = await_down(sup);
  EXPECT_TRUE(has_code(reason, runtime_errc::restart_intensity))
      << sys->render(reason);
  // The first start plus two restart attempts.
  EXPECT_EQ(calls->load(), 3);
  EXPECT_EQ(actors.find("broken")->failures(), 3u);
  EXPECT_EQ(actors.find("broken")->state(), "failed");
}

TEST_F(supervisor_test, restarts_spaced_wider_than_window_do_not_trip) {
  const restart_policy policy{1, 200ms};
  auto sup = spawn("sup", policy, {{"worker-1", "worker", spawn_worker}});
  for (uint64_t i = 1; i <= 4; ++i) {
    auto child = child_of(sup, "worker-1");
    ASSERT_TRUE(child) << sys->render(child.error());
    caf::anon_send(*child, atoms::crash_atom_v);
    ASSERT_TRUE(wait_until([&] { return restarts_of("worker-1") == i; }));
    // The restart is booked: move the supervisor's clock past its window.
    advance(policy.window + 1ms);
  }
  auto child = child_of(sup, "worker-1");
  ASSERT_TRUE(child) << sys->render(child.error());
  EXPECT_EQ(twice(*child, 1), 2);
  EXPECT_EQ(actors.find("sup")->state(), "running");
  EXPECT_EQ(escalations_metric("sup"), 0.0);
}

TEST_F(supervisor_test, restart_atom_forces_a_restart_and_notifies) {
  auto sup = spawn("sup", {}, {{"worker-1", "worker", spawn_worker}});
  caf::actor me = caf::actor_cast<caf::actor>(*self);
  (*self)
      ->request(sup, 5s, atoms::restarted_atom_v, me)
      .receive([] {}, [](caf::error& err) { FAIL() << caf::to_string(err); });
  auto first = child_of(sup, "worker-1");
  ASSERT_TRUE(first);
  (*self)->monitor(*first);
  EXPECT_FALSE(restart(sup, "worker-1"));
  EXPECT_EQ(await_down(*first), caf::exit_reason::kill);
  auto second = child_of(sup, "worker-1");
  ASSERT_TRUE(second);
  EXPECT_NE(first->address(), second->address());
  EXPECT_EQ(twice(*second, 5), 10);
  EXPECT_EQ(restarts_of("worker-1"), 1u);
  EXPECT_EQ(actors.find("worker-1")->failures(), 0u);
  EXPECT_EQ(restarts_metric("worker-1", "worker"), 1.0);
  std::string notified_name;
  caf::actor notified;
  (*self)->receive(
      [&](atoms::restarted_atom, std::string& name, caf::actor& incarnation) {
        notified_name = std::move(name);
        notified = std::move(incarnation);
      },
      caf::after(5s) >> [] {});
  EXPECT_EQ(notified_name, "worker-1");
  EXPECT_EQ(notified, *second);
  EXPECT_TRUE(has_code(restart(sup, "nobody"), runtime_errc::no_such_child));
}

TEST_F(supervisor_test, child_that_stops_normally_is_not_restarted) {
  auto sup = spawn("sup", {}, {{"worker-1", "worker", spawn_worker}});
  auto first = child_of(sup, "worker-1");
  ASSERT_TRUE(first);
  caf::anon_send(*first, atoms::stop_atom_v);
  ASSERT_TRUE(wait_until(
      [&] { return actors.find("worker-1")->state() == "stopped"; }));
  EXPECT_EQ(restarts_of("worker-1"), 0u);
  EXPECT_EQ(actors.find("worker-1")->failures(), 0u);
  auto none = child_of(sup, "worker-1");
  ASSERT_FALSE(none);
  EXPECT_TRUE(has_code(none.error(), runtime_errc::no_such_child));
  // restart_atom brings it back.
  EXPECT_FALSE(restart(sup, "worker-1"));
  auto second = child_of(sup, "worker-1");
  ASSERT_TRUE(second);
  EXPECT_EQ(twice(*second, 3), 6);
  EXPECT_EQ(restarts_of("worker-1"), 1u);
}

// -- queries ------------------------------------------------------------------

TEST_F(supervisor_test, child_and_children_replies) {
  auto sup = spawn("sup", {},
                   {{"b", "worker", spawn_worker},
                    {"a", "worker", spawn_worker},
                    {"c", "other", spawn_worker}});
  std::vector<std::string> names;
  (*self)
      ->request(sup, 5s, atoms::children_atom_v)
      .receive([&](std::vector<std::string>& xs) { names = std::move(xs); },
               [](caf::error&) {});
  EXPECT_EQ(names, (std::vector<std::string>{"b", "a", "c"}));
  for (auto& name : names) {
    auto child = child_of(sup, name);
    ASSERT_TRUE(child) << name;
    EXPECT_EQ(twice(*child, 2), 4);
    EXPECT_EQ(actors.find(name)->state(), "running");
    EXPECT_EQ(actors.find(name)->parent(), "sup");
  }
  auto missing = child_of(sup, "nope");
  ASSERT_FALSE(missing);
  EXPECT_TRUE(has_code(missing.error(), runtime_errc::no_such_child));
}

TEST_F(supervisor_test, rejects_bad_specs) {
  EXPECT_THROW(spawn_supervisor(*sys, "sup", {}, {}, {}),
               std::invalid_argument);
  EXPECT_THROW(spawn_supervisor(*sys, "sup", {},
                                {{"a", "worker", spawn_worker},
                                 {"a", "worker", spawn_worker}},
                                deps()),
               std::invalid_argument);
}

// -- nesting ------------------------------------------------------------------

TEST_F(supervisor_test, inner_supervisor_gives_up_and_outer_restarts_it) {
  // The grandchild fails its first three starts: the inner supervisor
  // (max 2 restarts) gives up, the outer restarts it, and the fourth start
  // of the grandchild succeeds.
  auto starts = std::make_shared<std::atomic<int>>(0);
  child_factory flaky = [starts](caf::actor_system& sys,
                                 inspect::actor_entry_ptr e) {
    if (++*starts <= 3)
      return sys.spawn(doomed, std::move(e));
    return spawn_worker(sys, std::move(e));
  };
  auto* deps_ptr = &actors;
  auto* metrics_ptr = &metrics;
  child_factory inner = [=](caf::actor_system& sys, inspect::actor_entry_ptr) {
    return caf::actor_cast<caf::actor>(
        spawn_supervisor(sys, "inner", {2, 10s}, {{"flaky", "flaky", flaky}},
                         {deps_ptr, metrics_ptr}));
  };
  auto outer = spawn("outer", {3, 10s}, {{"inner", "supervisor", inner}});
  ASSERT_TRUE(wait_until([&] { return restarts_of("inner") == 1; }));
  ASSERT_TRUE(
      wait_until([&] { return actors.find("flaky")->state() == "running"; }));
  EXPECT_EQ(escalations_metric("inner"), 1.0);
  EXPECT_EQ(escalations_metric("outer"), 0.0);
  EXPECT_EQ(restarts_of("flaky"), 2u);
  EXPECT_EQ(actors.find("flaky")->failures(), 3u);
  EXPECT_EQ(actors.find("flaky")->parent(), "inner");
  EXPECT_EQ(actors.find("inner")->parent(), "outer");
  EXPECT_EQ(actors.find("inner")->failures(), 1u);
  auto inner_sup = child_of(outer, "inner");
  ASSERT_TRUE(inner_sup);
  // The outer supervisor has answered, so it has logged the restart.
  EXPECT_TRUE(
      log_lines->contains_all({"event=actor_restarted", "actor=inner",
                               "role=supervisor", "restart_intensity"}));
  auto grandchild = child_of(*inner_sup, "flaky");
  ASSERT_TRUE(grandchild) << sys->render(grandchild.error());
  EXPECT_EQ(twice(*grandchild, 8), 16);
  // Shutting down the outer one stops the whole tree.
  (*self)->monitor(outer);
  caf::anon_send_exit(outer, caf::exit_reason::user_shutdown);
  EXPECT_EQ(await_down(outer), caf::exit_reason::user_shutdown);
  EXPECT_EQ(actors.find("flaky")->state(), "stopped");
  EXPECT_EQ(actors.find("inner")->state(), "stopped");
  EXPECT_EQ(actors.find("outer")->state(), "stopped");
}

// -- shutdown -----------------------------------------------------------------

TEST_F(supervisor_test, shutdown_stops_children_in_reverse_order) {
  auto exits = std::make_shared<recorder>();
  auto factory = [exits](caf::actor_system& sys, inspect::actor_entry_ptr e) {
    return sys.spawn(recording_worker, std::move(e), exits);
  };
  auto sup = spawn("sup", {},
                   {{"first", "worker", factory},
                    {"second", "worker", factory},
                    {"third", "worker", factory}});
  ASSERT_TRUE(child_of(sup, "third"));
  (*self)->monitor(sup);
  caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
  EXPECT_EQ(await_down(sup), caf::exit_reason::user_shutdown);
  EXPECT_EQ(exits->items(),
            (std::vector<std::string>{"third", "second", "first"}));
  for (auto name : {"first", "second", "third", "sup"})
    EXPECT_EQ(actors.find(name)->state(), "stopped") << name;
  EXPECT_EQ(restarts_of("second"), 0u);
}

TEST_F(supervisor_test, shutdown_kills_a_child_that_does_not_stop) {
  restart_policy policy;
  policy.shutdown_timeout = 100ms;
  auto sup = spawn("sup", policy,
                   {{"stubborn", "worker",
                     [](caf::actor_system& sys, inspect::actor_entry_ptr e) {
                       return sys.spawn(stubborn_worker, std::move(e));
                     }}});
  auto child = child_of(sup, "stubborn");
  ASSERT_TRUE(child);
  (*self)->monitor(*child);
  (*self)->monitor(sup);
  caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
  EXPECT_EQ(await_down(*child), caf::exit_reason::kill);
  EXPECT_EQ(await_down(sup), caf::exit_reason::user_shutdown);
  EXPECT_TRUE(
      log_lines->contains_all({"event=child_stop_timeout", "actor=stubborn"}));
}

TEST_F(supervisor_test, killed_supervisor_takes_its_children_along) {
  auto sup = spawn("sup", {}, {{"worker-1", "worker", spawn_worker}});
  auto child = child_of(sup, "worker-1");
  ASSERT_TRUE(child);
  (*self)->monitor(*child);
  caf::anon_send_exit(sup, caf::exit_reason::kill);
  EXPECT_EQ(await_down(*child), caf::exit_reason::kill);
}

TEST_F(supervisor_test, linked_parent_failure_stops_the_tree) {
  auto sup = spawn("sup", {}, {{"worker-1", "worker", spawn_worker}});
  auto child = child_of(sup, "worker-1");
  ASSERT_TRUE(child);
  (*self)->monitor(sup);
  (*self)->monitor(*child);
  // `sup` goes in as an argument: CAF 0.17.6 trips UBSan when it spawns a
  // function actor without arguments.
  auto parent = sys->spawn(
      [](caf::event_based_actor* parent_self, caf::actor supervisor) {
        parent_self->link_to(supervisor);
        return caf::behavior{[parent_self](atoms::stop_atom) {
          parent_self->quit(caf::make_error(runtime_errc::service_unavailable,
                                            "parent died"));
        }};
      },
      sup);
  caf::anon_send(parent, atoms::stop_atom_v);
  EXPECT_EQ(await_down(*child), caf::exit_reason::user_shutdown);
  auto reason = await_down(sup);
  EXPECT_TRUE(has_code(reason, runtime_errc::service_unavailable))
      << sys->render(reason);
  EXPECT_EQ(actors.find("worker-1")->state(), "stopped");
  EXPECT_EQ(actors.find("sup")->state(), "stopped");
  EXPECT_EQ(restarts_of("worker-1"), 0u);
}
