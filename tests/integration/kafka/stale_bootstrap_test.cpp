// The Kafka tools and a bootstrap file whose node is gone (issue 10, item
// 1): they must say so at once instead of retrying a dead address for
// minutes (kafka.connect_retries × kafka.connect_retry_delay), and still use
// the file while its node runs.

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "bridges/embedded/kafka_cluster.hpp"
#include "runtime/core/data_dir_lock.hpp"
#include "tests/support/testing.hpp"

namespace {

using namespace std::chrono_literals;
namespace dt = distiller::testing;
using steady = std::chrono::steady_clock;

/// A pid that names no process any more.
long dead_pid() {
  auto pid = ::fork();
  if (pid == 0)
    ::_exit(0);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return static_cast<long>(pid);
}

struct timed_result {
  dt::process_result r;
  double seconds = 0;
};

timed_result topics_list(const dt::temp_dir& dir) {
  auto t0 = steady::now();
  auto r = dt::run_process(
      {dt::distiller_binary(), "topics", "list", "--data-dir",
       dir.path().string(), "--set",
       "kafka.catalog=" +
           (dt::source_dir() / "config" / "topics.toml").string()},
      {}, 300s);
  return {r, std::chrono::duration<double>(steady::now() - t0).count()};
}

std::string stale_message(const dt::temp_dir& dir, long pid) {
  return "no running node in " + dir.path().string() + ": " +
         (dir / "kafka.bootstrap").string() +
         " is left from a node that stopped (pid " + std::to_string(pid) + ")";
}

} // namespace

TEST(stale_bootstrap, a_lock_file_nobody_holds_fails_fast) {
  dt::temp_dir dir{"distiller-stale"};
  auto pid = dead_pid();
  // What kill -9 leaves: the bootstrap file, node.json and the lock file's
  // line, but no lock.
  dt::write_file(dir / "kafka.bootstrap", "127.0.0.1:1\n");
  dt::write_file(dir / "node.lock",
                 "{\"pid\":" + std::to_string(pid) +
                     ",\"node\":\"gone\",\"http_url\":\"\"}\n");
  auto t = topics_list(dir);
  std::printf("topics list exited %d after %.3f s\n", t.r.exit_code, t.seconds);
  EXPECT_EQ(t.r.exit_code, 1) << t.r.err;
  EXPECT_LT(t.seconds, 10.0);
  EXPECT_NE(t.r.err.find(stale_message(dir, pid)), std::string::npos)
      << t.r.err;
}

TEST(stale_bootstrap, without_a_lock_file_node_json_decides) {
  dt::temp_dir dir{"distiller-stale"};
  auto pid = dead_pid();
  // A directory of a node from before the lock existed.
  dt::write_file(dir / "kafka.bootstrap", "127.0.0.1:1\n");
  dt::write_file(dir / "node.json",
                 "{\"node\":\"old\",\"pid\":" + std::to_string(pid) +
                     ",\"kafka_bootstrap\":\"127.0.0.1:1\"}\n");
  auto t = topics_list(dir);
  EXPECT_EQ(t.r.exit_code, 1) << t.r.err;
  EXPECT_LT(t.seconds, 10.0);
  EXPECT_NE(t.r.err.find(stale_message(dir, pid)), std::string::npos)
      << t.r.err;
}

TEST(stale_bootstrap, a_held_lock_means_the_file_is_used) {
  distiller::embedded::kafka_cluster cluster{1};
  dt::temp_dir dir{"distiller-stale"};
  // This process plays the node: it holds the lock and wrote the file.
  distiller::data_dir_lock lock{dir.path().string(), "this-test"};
  cluster.write_bootstrap_file((dir / "kafka.bootstrap").string());
  auto t = topics_list(dir);
  EXPECT_EQ(t.r.exit_code, 0) << t.r.err;
  EXPECT_EQ(t.r.err.find("no running node"), std::string::npos) << t.r.err;
}
