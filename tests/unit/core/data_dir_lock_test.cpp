// The data directory's lock (runtime/core/data_dir_lock.hpp) on its own:
// exclusive across descriptors of one process, released with the object,
// taken over from a dead owner, never inherited by child processes, and
// probed without being touched.

#include "runtime/core/data_dir_lock.hpp"

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <optional>

#include "tests/support/testing.hpp"

using namespace distiller;
using namespace std::chrono_literals;
namespace dt = distiller::testing;
namespace fs = std::filesystem;

namespace {

/// A pid that names no process any more: a child that exited and was
/// reaped.
long dead_pid() {
  auto pid = ::fork();
  if (pid == 0)
    ::_exit(0);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return static_cast<long>(pid);
}

} // namespace

TEST(data_dir_lock, a_second_lock_fails_until_the_first_is_released) {
  dt::temp_dir dir{"distiller-lock"};
  auto sub = (dir / "var").string(); // created by the lock
  std::optional<data_dir_lock> first;
  first.emplace(sub, "node-a");
  EXPECT_TRUE(fs::exists(dir / "var" / "node.lock"));
  ASSERT_TRUE(first->set_http_url("http://127.0.0.1:8000"));
  try {
    // Another open file description, in this same process: flock tells
    // them apart, so this is what a second process sees.
    data_dir_lock second{sub, "node-b"};
    ADD_FAILURE() << "the second lock was taken";
  } catch (const data_dir_busy& e) {
    EXPECT_EQ(e.dir(), sub);
    EXPECT_EQ(e.lock_path(), (dir / "var" / "node.lock").string());
    EXPECT_EQ(e.owner().pid, static_cast<long>(::getpid()));
    EXPECT_EQ(e.owner().node, "node-a");
    EXPECT_EQ(e.owner().http_url, "http://127.0.0.1:8000");
  }
  // The refused attempt changed nothing.
  EXPECT_EQ(read_lock_owner(sub).node, "node-a");
  first.reset();
  // A clean release leaves an empty file: no owner, nothing to take over.
  EXPECT_EQ(read_lock_owner(sub).pid, 0);
  data_dir_lock third{sub, "node-c"};
  EXPECT_EQ(third.previous_pid(), 0);
  EXPECT_EQ(read_lock_owner(sub).node, "node-c");
  EXPECT_EQ(read_lock_owner(sub).http_url, "");
}

TEST(data_dir_lock, release_is_idempotent) {
  dt::temp_dir dir{"distiller-lock"};
  data_dir_lock lock{dir.path().string(), "n"};
  lock.release();
  lock.release();
  data_dir_lock again{dir.path().string(), "n"};
  EXPECT_TRUE(lock.set_http_url("http://x")); // released: writes nothing
  EXPECT_EQ(read_lock_owner(dir.path().string()).http_url, "");
}

TEST(data_dir_lock, a_file_left_by_a_dead_owner_is_taken_over_and_reported) {
  dt::temp_dir dir{"distiller-lock"};
  auto pid = dead_pid();
  // What a node killed with SIGKILL leaves: its line, but no lock (the
  // kernel drops flocks with the process).
  dt::write_file(
      dir / "node.lock",
      "{\"pid\":" + std::to_string(pid) +
          ",\"node\":\"old\",\"http_url\":\"http://127.0.0.1:1\"}\n");
  data_dir_lock lock{dir.path().string(), "new"};
  EXPECT_EQ(lock.previous_pid(), pid);
  // The node logs the takeover from this (tests/e2e/node/second_node_test).
  ASSERT_TRUE(lock.taken_over().has_value());
  EXPECT_EQ(lock.taken_over()->previous.pid, pid);
  EXPECT_EQ(lock.taken_over()->previous.node, "old");
  EXPECT_FALSE(lock.taken_over()->pid_alive);
  EXPECT_TRUE(lock.owner_written());
  auto owner = read_lock_owner(dir.path().string());
  EXPECT_EQ(owner.pid, static_cast<long>(::getpid()));
  EXPECT_EQ(owner.node, "new");
  EXPECT_EQ(owner.http_url, "") << "the old URL must not survive";
}

TEST(data_dir_lock, dies_with_its_owner_even_when_children_live_on) {
  dt::temp_dir dir{"distiller-lock"};
  auto d = dir.path().string();
  auto grandchild_file = dir / "grandchild.pid";
  // A process takes the lock, starts a long-lived child (as a node starts
  // a detached postmaster) and dies without releasing anything (as under
  // kill -9). Had the child inherited the descriptor, the lock would live
  // on in it.
  auto owner = ::fork();
  ASSERT_GE(owner, 0);
  if (owner == 0) {
    try {
      new data_dir_lock(d, "doomed"); // never released: dies with us
      auto g = ::fork();
      if (g == 0) {
        ::execl("/bin/sleep", "sleep", "30", static_cast<char*>(nullptr));
        ::_exit(127);
      }
      dt::write_file(grandchild_file, std::to_string(g));
      ::_exit(0);
    } catch (...) {
      ::_exit(1);
    }
  }
  int status = 0;
  ::waitpid(owner, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  auto g = std::stol(dt::read_file(grandchild_file));
  // Until its exec has closed the close-on-exec descriptors (the kernel
  // renames the process a little before), the child still holds a copy.
  auto lock_path = fs::canonical(dir / "node.lock");
  auto holds_lock = [&] {
    std::error_code ec;
    for (auto& fd :
         fs::directory_iterator{"/proc/" + std::to_string(g) + "/fd", ec})
      if (fs::read_symlink(fd.path(), ec) == lock_path)
        return true;
    return false;
  };
  ASSERT_TRUE(dt::wait_until([&] {
    auto comm = dt::read_file("/proc/" + std::to_string(g) + "/comm");
    return comm.rfind("sleep", 0) == 0;
  }));
  EXPECT_TRUE(dt::wait_until([&] { return !holds_lock(); }, 5s))
      << "the child kept a descriptor of node.lock across exec";
  EXPECT_TRUE(process_alive(g));
  try {
    data_dir_lock next{d, "next"};
    EXPECT_EQ(next.previous_pid(), static_cast<long>(owner));
    ASSERT_TRUE(next.taken_over().has_value());
    EXPECT_EQ(next.taken_over()->previous.pid, static_cast<long>(owner));
  } catch (const data_dir_busy& e) {
    ADD_FAILURE() << "the lock outlived its owner in pid " << g;
  }
  ::kill(static_cast<pid_t>(g), SIGKILL);
}

TEST(data_dir_lock, probe_sees_the_lock_without_taking_it) {
  dt::temp_dir dir{"distiller-lock"};
  auto d = dir.path().string();
  EXPECT_EQ(probe_data_dir_lock(d), lock_state::unknown) << "no file yet";
  {
    data_dir_lock lock{d, "n"};
    EXPECT_EQ(probe_data_dir_lock(d), lock_state::held);
    // Probing did not take it: another owner is still refused.
    EXPECT_THROW(data_dir_lock(d, "m"), data_dir_busy);
  }
  EXPECT_EQ(probe_data_dir_lock(d), lock_state::free);
}

TEST(data_dir_lock, readers_tolerate_broken_files) {
  EXPECT_EQ(parse_lock_owner("").pid, 0);
  EXPECT_EQ(parse_lock_owner("{\"pid\":12").pid, 0);
  EXPECT_EQ(parse_lock_owner("garbage").pid, 0);
  EXPECT_EQ(parse_lock_owner("{\"pid\":\"x\",\"node\":3}").pid, 0);
  auto o = parse_lock_owner("{\"pid\":42,\"node\":\"a\"}");
  EXPECT_EQ(o.pid, 42);
  EXPECT_EQ(o.node, "a");
  EXPECT_EQ(o.http_url, "");
  EXPECT_EQ(read_lock_owner("/nonexistent/dir").pid, 0);
}

TEST(data_dir_lock, process_alive) {
  EXPECT_TRUE(process_alive(static_cast<long>(::getpid())));
  EXPECT_FALSE(process_alive(dead_pid()));
  EXPECT_FALSE(process_alive(0));
  EXPECT_FALSE(process_alive(-1));
  // Killed but not reaped yet (a zombie) counts as gone.
  auto pid = ::fork();
  if (pid == 0) {
    ::pause();
    ::_exit(0);
  }
  ::kill(pid, SIGKILL);
  EXPECT_TRUE(dt::wait_until([pid] { return !process_alive(pid); }));
  int status = 0;
  ::waitpid(pid, &status, 0);
}
