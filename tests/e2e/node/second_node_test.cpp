// One node per data directory (issue 10, item 1), as a user meets it: a
// second `distiller up` in a running node's directory exits 2 at once naming
// that node and touches nothing; after the first node is killed with SIGKILL
// the Kafka tools say at once that its bootstrap file is stale, and a new
// node takes the directory over.

#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include <boost/json.hpp>
#include <pqxx/pqxx>

#include "tests/support/http_client.hpp"
#include "tests/support/testing.hpp"

namespace {

using namespace std::chrono_literals;
namespace dt = distiller::testing;
namespace fs = std::filesystem;
using steady = std::chrono::steady_clock;

double seconds_since(steady::time_point t0) {
  return std::chrono::duration<double>(steady::now() - t0).count();
}

class SecondNode : public ::testing::Test {
 protected:
  dt::temp_dir dir{"distiller-second-node"};

  std::vector<std::string> args(const std::string& cmd,
                                const std::string& name) const {
    auto d = dir.path().string();
    return {dt::distiller_binary(),
            cmd,
            "--port",
            "0",
            "--name",
            name,
            "--data-dir",
            d,
            "--set",
            "kafka.catalog=" +
                (dt::source_dir() / "config" / "topics.toml").string()};
  }

  /// The pid and HTTP port node.json names, once a node with `pid` wrote
  /// it (0, 0 if it did not within the deadline or the node died).
  std::pair<long, uint16_t> wait_node_file(dt::child_process& node) {
    auto file = dir / "node.json";
    uint16_t port = 0;
    bool written = dt::wait_until(
        [&] {
          if (!node.running())
            return true;
          boost::system::error_code ec;
          auto doc = boost::json::parse(dt::read_file(file), ec);
          if (ec || !doc.is_object() ||
              doc.as_object().at("pid").as_int64() != node.pid())
            return false;
          port =
              static_cast<uint16_t>(doc.as_object().at("http_port").as_int64());
          return true;
        },
        180s, 50ms);
    EXPECT_TRUE(written && node.running()) << "node did not start:\n"
                                           << node.err();
    return {node.pid(), port};
  }

  bool ready(uint16_t port) {
    try {
      dt::http_client c{port};
      return c.get("/ready").status == 200;
    } catch (const std::exception&) {
      return false;
    }
  }

  bool wait_ready(uint16_t port) {
    return dt::wait_until([&] { return ready(port); }, 60s, 100ms);
  }

  std::string dsn() const {
    return "host=" + (dir / "run").string() +
           " port=5432 dbname=distiller user=postgres";
  }

  /// A node killed with SIGKILL leaves its detached postmaster running.
  void TearDown() override {
    auto text = dt::read_file(dir / "pg" / "postmaster.pid");
    auto pid = std::atoi(text.c_str());
    if (pid > 0 && ::kill(pid, SIGQUIT) == 0)
      dt::wait_until([pid] { return ::kill(pid, 0) != 0; }, 30s);
  }
};

TEST_F(SecondNode, RefusedWhileTheFirstRunsThenTakesOverAfterSigkill) {
  auto d = dir.path().string();
  dt::child_process first{args("up", "first"), {}, dir.path()};
  auto [first_pid, port] = wait_node_file(first);
  ASSERT_NE(port, 0);
  ASSERT_TRUE(wait_ready(port)) << first.err();
  auto url = "http://127.0.0.1:" + std::to_string(port);
  auto bootstrap = dt::read_file(dir / "kafka.bootstrap");
  auto node_file = dt::read_file(dir / "node.json");
  auto postmaster = dt::read_file(dir / "pg" / "postmaster.pid");

  // -- a second node in the same directory -------------------------------
  for (auto cmd : {"up", "node"}) {
    auto t0 = steady::now();
    auto second = dt::run_process(args(cmd, "second"), {}, 60s);
    auto took = seconds_since(t0);
    std::printf("second `distiller %s` exited %d after %.3f s\n", cmd,
                second.exit_code, took);
    EXPECT_EQ(second.exit_code, 2) << second.err;
    EXPECT_LT(took, 10.0);
    EXPECT_NE(second.err.find("pid " + std::to_string(first_pid)),
              std::string::npos)
        << second.err;
    EXPECT_NE(second.err.find(url), std::string::npos) << second.err;
    EXPECT_NE(second.err.find(d), std::string::npos) << second.err;
    EXPECT_NE(second.err.find("event=data_dir_locked"), std::string::npos)
        << second.err;
    // Nothing of the first node's was touched.
    EXPECT_EQ(second.err.find("event=pg_"), std::string::npos) << second.err;
    EXPECT_EQ(second.err.find("kafka_embedded_started"), std::string::npos);
    EXPECT_EQ(dt::read_file(dir / "kafka.bootstrap"), bootstrap);
    EXPECT_EQ(dt::read_file(dir / "node.json"), node_file);
    EXPECT_EQ(dt::read_file(dir / "pg" / "postmaster.pid"), postmaster);
  }
  EXPECT_TRUE(first.running());
  EXPECT_TRUE(ready(port)) << "the first node lost its readiness";
  {
    pqxx::connection conn{dsn()};
    pqxx::nontransaction tx{conn};
    EXPECT_EQ(tx.exec1("SELECT 1")[0].as<int>(), 1);
  }

  // -- the first node dies hard ------------------------------------------
  first.signal(SIGKILL);
  EXPECT_EQ(first.wait(30s), 128 + SIGKILL);
  ASSERT_TRUE(fs::exists(dir / "kafka.bootstrap")) << "left behind by kill -9";

  // The tools say at once that nobody serves that address any more.
  auto t0 = steady::now();
  auto tool = dt::run_process(
      {dt::distiller_binary(), "topics", "list", "--data-dir", d}, {}, 60s);
  auto took = seconds_since(t0);
  std::printf("`distiller topics list` on the stale bootstrap file exited %d "
              "after %.3f s\n",
              tool.exit_code, took);
  EXPECT_EQ(tool.exit_code, 1) << tool.err;
  EXPECT_LT(took, 10.0);
  EXPECT_NE(tool.err.find("no running node in " + d + ": " + d +
                          "/kafka.bootstrap is left from a node that "
                          "stopped (pid " +
                          std::to_string(first_pid) + ")"),
            std::string::npos)
      << tool.err;
  EXPECT_EQ(tool.err.find("kafka_unreachable"), std::string::npos) << tool.err;

  // -- a new node takes the directory over -------------------------------
  dt::child_process third{args("node", "third"), {}, dir.path()};
  auto [third_pid, port3] = wait_node_file(third);
  ASSERT_NE(port3, 0);
  ASSERT_TRUE(wait_ready(port3)) << third.err();
  EXPECT_NE(third.err().find("event=data_dir_lock_taken_over"),
            std::string::npos)
      << third.err();
  EXPECT_NE(third.err().find("old_pid=" + std::to_string(first_pid)),
            std::string::npos)
      << third.err();
  third.signal(SIGTERM);
  EXPECT_EQ(third.wait(60s), 0) << third.err();
  EXPECT_FALSE(fs::exists(dir / "pg" / "postmaster.pid"));
  (void)third_pid;
}

} // namespace
