// Children added and removed while a supervisor runs (add_child_atom,
// remove_child_atom), and the errors a supervisor keeps in its children's
// registry entries.

#include <chrono>
#include <memory>
#include <string>
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

namespace {

class supervisor_children : public supervisor_fixture {
 protected:
  caf::expected<caf::actor> add(const caf::actor& sup, child_spec spec) {
    caf::expected<caf::actor> result{caf::actor{}};
    (*self)
        ->request(sup, 5s, atoms::add_child_atom_v, std::move(spec))
        .receive([&](caf::actor& child) { result = std::move(child); },
                 [&](caf::error& err) { result = std::move(err); });
    return result;
  }

  caf::error remove(const caf::actor& sup, const std::string& name,
                    std::chrono::milliseconds timeout = 5s) {
    caf::error result;
    (*self)
        ->request(sup, timeout, atoms::remove_child_atom_v, name)
        .receive([] {}, [&](caf::error& err) { result = std::move(err); });
    return result;
  }

  std::vector<std::string> children(const caf::actor& sup) {
    std::vector<std::string> names;
    (*self)
        ->request(sup, 5s, atoms::children_atom_v)
        .receive([&](std::vector<std::string>& xs) { names = std::move(xs); },
                 [](caf::error&) {});
    return names;
  }
};

caf::actor spawn_stubborn(caf::actor_system& sys, inspect::actor_entry_ptr e) {
  return sys.spawn(stubborn_worker, std::move(e));
}

} // namespace

TEST_F(supervisor_children, an_added_child_runs_and_is_supervised) {
  auto sup = spawn("pool", {}, {{"w-0", "worker", spawn_worker}});
  caf::actor me = caf::actor_cast<caf::actor>(*self);
  (*self)
      ->request(sup, 5s, atoms::restarted_atom_v, me)
      .receive([] {}, [](caf::error& err) { FAIL() << caf::to_string(err); });
  auto added = add(sup, {"w-1", "worker", spawn_worker});
  ASSERT_TRUE(added) << sys->render(added.error());
  EXPECT_EQ(twice(*added, 21), 42);
  EXPECT_EQ(children(sup), (std::vector<std::string>{"w-0", "w-1"}));
  auto entry = actors.find("w-1");
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry->parent(), "pool");
  EXPECT_EQ(entry->role(), "worker");
  EXPECT_EQ(entry->state(), "running");
  EXPECT_EQ(*child_of(sup, "w-1"), *added);
  EXPECT_TRUE(log_lines->contains_all(
      {"event=child_added", "actor=w-1", "children=2"}));
  // A crash of the added child is restarted and announced like any other.
  caf::anon_send(*added, atoms::crash_atom_v);
  std::string notified;
  caf::actor incarnation;
  (*self)->receive(
      [&](atoms::restarted_atom, std::string& name, caf::actor& h) {
        notified = std::move(name);
        incarnation = std::move(h);
      },
      caf::after(5s) >> [] {});
  EXPECT_EQ(notified, "w-1");
  ASSERT_TRUE(incarnation);
  EXPECT_NE(incarnation, *added);
  EXPECT_EQ(twice(incarnation, 2), 4);
  EXPECT_EQ(restarts_of("w-1"), 1u);
}

TEST_F(supervisor_children, bad_or_duplicate_specs_are_refused) {
  auto sup = spawn("pool", {}, {{"w-0", "worker", spawn_worker}});
  auto dup = add(sup, {"w-0", "worker", spawn_worker});
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error(), caf::sec::invalid_argument);
  EXPECT_NE(sys->render(dup.error()).find("duplicate child name w-0"),
            std::string::npos)
      << sys->render(dup.error());
  auto nameless = add(sup, {"", "worker", spawn_worker});
  ASSERT_FALSE(nameless);
  EXPECT_EQ(nameless.error(), caf::sec::invalid_argument);
  auto no_factory = add(sup, {"w-9", "worker", {}});
  ASSERT_FALSE(no_factory);
  EXPECT_EQ(no_factory.error(), caf::sec::invalid_argument);
  EXPECT_EQ(actors.find("w-9"), nullptr);
  EXPECT_EQ(children(sup), (std::vector<std::string>{"w-0"}));
}

TEST_F(supervisor_children, an_added_child_that_cannot_start_counts_as_failed) {
  restart_policy policy;
  policy.max_restarts = 2;
  auto sup = spawn("pool", policy, {{"w-0", "worker", spawn_worker}});
  (*self)->monitor(sup);
  auto broken =
      add(sup, {"broken", "worker",
                [](caf::actor_system&, inspect::actor_entry_ptr) -> caf::actor {
                  throw std::runtime_error("no resources");
                }});
  // Two restarts fail too, then the supervisor gives up (its intensity).
  ASSERT_FALSE(broken);
  EXPECT_TRUE(has_code(await_down(sup), runtime_errc::restart_intensity));
  auto entry = actors.find("broken");
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry->failures(), 3u);
  auto errors = entry->recent_errors();
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_NE(errors[0].text.find("no resources"), std::string::npos)
      << errors[0].text;
}

TEST_F(supervisor_children, a_removed_child_stops_and_leaves_the_registry) {
  auto exits = std::make_shared<recorder>();
  auto factory = [exits](caf::actor_system& sys, inspect::actor_entry_ptr e) {
    return sys.spawn(recording_worker, std::move(e), exits);
  };
  auto sup = spawn("pool", {},
                   {{"w-0", "worker", factory},
                    {"w-1", "worker", factory},
                    {"w-2", "worker", factory}});
  auto victim = child_of(sup, "w-1");
  ASSERT_TRUE(victim);
  (*self)->monitor(*victim);
  EXPECT_FALSE(remove(sup, "w-1"));
  // Stopped in order (user_shutdown), never restarted.
  EXPECT_EQ(await_down(*victim), caf::exit_reason::user_shutdown);
  EXPECT_EQ(exits->items(), (std::vector<std::string>{"w-1"}));
  EXPECT_EQ(actors.find("w-1"), nullptr);
  EXPECT_EQ(children(sup), (std::vector<std::string>{"w-0", "w-2"}));
  auto gone = child_of(sup, "w-1");
  ASSERT_FALSE(gone);
  EXPECT_TRUE(has_code(gone.error(), runtime_errc::no_such_child));
  EXPECT_EQ(restarts_of("w-1"), 0u);
  EXPECT_TRUE(log_lines->contains_all(
      {"event=child_removed", "actor=w-1", "how=stopped"}));
  // Unknown names, and names removed already.
  EXPECT_TRUE(has_code(remove(sup, "w-1"), runtime_errc::no_such_child));
  EXPECT_TRUE(has_code(remove(sup, "nobody"), runtime_errc::no_such_child));
  // The name can be used again; the others kept working all along.
  auto again = add(sup, {"w-1", "worker", factory});
  ASSERT_TRUE(again);
  EXPECT_EQ(twice(*again, 4), 8);
  EXPECT_EQ(twice(*child_of(sup, "w-2"), 5), 10);
  EXPECT_EQ(children(sup), (std::vector<std::string>{"w-0", "w-2", "w-1"}));
  ASSERT_NE(actors.find("w-1"), nullptr);
  EXPECT_EQ(actors.find("w-1")->state(), "running");
}

TEST_F(supervisor_children, a_child_that_ignores_the_stop_is_killed) {
  restart_policy policy;
  policy.shutdown_timeout = 100ms;
  auto sup = spawn("pool", policy,
                   {{"w-0", "worker", spawn_worker},
                    {"stubborn", "worker", spawn_stubborn}});
  auto child = child_of(sup, "stubborn");
  ASSERT_TRUE(child);
  (*self)->monitor(*child);
  EXPECT_FALSE(remove(sup, "stubborn"));
  EXPECT_EQ(await_down(*child), caf::exit_reason::kill);
  EXPECT_EQ(actors.find("stubborn"), nullptr);
  EXPECT_EQ(children(sup), (std::vector<std::string>{"w-0"}));
  EXPECT_EQ(restarts_of("stubborn"), 0u);
  EXPECT_TRUE(
      log_lines->contains_all({"event=child_stop_timeout", "actor=stubborn"}));
  EXPECT_TRUE(log_lines->contains_all(
      {"event=child_removed", "actor=stubborn", "how=killed"}));
}

TEST_F(supervisor_children, removing_a_stopped_child_and_a_restart_in_between) {
  auto sup =
      spawn("pool", {},
            {{"w-0", "worker", spawn_worker}, {"w-1", "worker", spawn_worker}});
  // A child that stopped normally is not running: removed at once.
  auto w0 = child_of(sup, "w-0");
  ASSERT_TRUE(w0);
  caf::anon_send(*w0, atoms::stop_atom_v);
  ASSERT_TRUE(
      wait_until([&] { return actors.find("w-0")->state() == "stopped"; }));
  EXPECT_FALSE(remove(sup, "w-0"));
  EXPECT_TRUE(log_lines->contains_all(
      {"event=child_removed", "actor=w-0", "how=\"not running\""}));
  // A forced restart asked for while the child is being removed is refused;
  // the removal wins.
  auto w1 = child_of(sup, "w-1");
  ASSERT_TRUE(w1);
  (*self)->send(sup, atoms::remove_child_atom_v, std::string{"w-1"});
  auto err = restart(sup, "w-1");
  // Either the removal finished first (no such child) or is under way
  // ("being removed"): both are no_such_child.
  EXPECT_TRUE(has_code(err, runtime_errc::no_such_child)) << sys->render(err);
  ASSERT_TRUE(wait_until([&] { return children(sup).empty(); }));
  EXPECT_EQ(restarts_of("w-1"), 0u);
}

TEST_F(supervisor_children, a_stopping_supervisor_refuses_changes) {
  restart_policy policy;
  policy.shutdown_timeout = 2s;
  auto sup = spawn("pool", policy, {{"stubborn", "worker", spawn_stubborn}});
  ASSERT_TRUE(child_of(sup, "stubborn"));
  // The shutdown waits for the stubborn child (up to 2 s): meanwhile every
  // change is refused.
  caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
  ASSERT_TRUE(
      wait_until([&] { return actors.find("pool")->state() == "stopping"; }));
  auto added = add(sup, {"late", "worker", spawn_worker});
  ASSERT_FALSE(added);
  EXPECT_TRUE(has_code(added.error(), runtime_errc::service_unavailable));
  EXPECT_TRUE(
      has_code(remove(sup, "stubborn"), runtime_errc::service_unavailable));
  EXPECT_EQ(actors.find("late"), nullptr);
}

TEST_F(supervisor_children, abnormal_exits_are_kept_as_recent_errors) {
  auto sup = spawn("pool", {}, {{"w-0", "worker", spawn_worker}});
  for (int i = 0; i < 2; ++i) {
    auto child = child_of(sup, "w-0");
    ASSERT_TRUE(child);
    caf::anon_send(*child, atoms::crash_atom_v);
    ASSERT_TRUE(wait_until([&] { return restarts_of("w-0") == i + 1u; }));
  }
  auto child = child_of(sup, "w-0");
  ASSERT_TRUE(child);
  caf::anon_send_exit(*child, caf::exit_reason::kill);
  ASSERT_TRUE(wait_until([&] { return restarts_of("w-0") == 3u; }));
  auto errors = actors.find("w-0")->recent_errors();
  ASSERT_EQ(errors.size(), 3u);
  // Newest first: the kill, then the two exceptions (CAF's default handler
  // turns them into sec::runtime_error).
  EXPECT_NE(errors[0].text.find("kill"), std::string::npos) << errors[0].text;
  EXPECT_NE(errors[1].text.find("runtime_error"), std::string::npos)
      << errors[1].text;
  EXPECT_NE(errors[2].text.find("runtime_error"), std::string::npos)
      << errors[2].text;
  EXPECT_EQ(errors[0].time.back(), 'Z');
  // A normal stop is no error.
  caf::anon_send(*child_of(sup, "w-0"), atoms::stop_atom_v);
  ASSERT_TRUE(
      wait_until([&] { return actors.find("w-0")->state() == "stopped"; }));
  EXPECT_EQ(actors.find("w-0")->recent_errors().size(), 3u);
}
