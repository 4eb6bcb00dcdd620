// A whole node as a child process, the way `scripts/run` starts it: embedded
// Kafka, private PostgreSQL, HTTP on a free port. Checks what a user checks by
// hand: /health, /ready, kcat against the bootstrap file, Ctrl-C, restart with
// the same data, and the exit code of bad configuration.

#include <gtest/gtest.h>

#include <signal.h>

#include <filesystem>

#include <boost/json.hpp>
#include <pqxx/pqxx>

#include "bridges/kafka/catalog.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/testing.hpp"

namespace {

using namespace std::chrono_literals;
namespace dt = distiller::testing;
namespace fs = std::filesystem;

class NodeProcess : public ::testing::Test {
 protected:
  dt::temp_dir dir{"distiller-e2e"};

  std::vector<std::string> args(const std::string& cmd = "up",
                                const std::string& port = "0") const {
    auto d = dir.path().string();
    return {dt::distiller_binary(),
            cmd,
            "--port",
            port,
            "--name",
            "e2e-node",
            "--data-dir",
            d,
            "--set",
            "postgres.data_dir=" + d + "/pg",
            "--set",
            "postgres.socket_dir=" + d + "/run",
            "--set",
            "kafka.bootstrap_file=" + d + "/kafka.bootstrap",
            "--set",
            "kafka.catalog=" +
                (dt::source_dir() / "config" / "topics.toml").string()};
  }

  /// Waits for the node to write var/node.json and returns its HTTP port.
  uint16_t wait_for_port(dt::child_process& node) {
    auto file = dir / "node.json";
    bool written = dt::wait_until(
        [&] { return fs::exists(file) || !node.running(); }, 180s, 50ms);
    EXPECT_TRUE(written && node.running()) << "node did not start:\n"
                                           << node.err();
    if (!written || !node.running())
      return 0;
    auto info = boost::json::parse(dt::read_file(file)).as_object();
    return static_cast<uint16_t>(info.at("http_port").as_int64());
  }

  /// Polls /ready until it answers 200.
  bool wait_ready(uint16_t port) {
    return dt::wait_until(
        [&] {
          try {
            dt::http_client c{port};
            return c.get("/ready").status == 200;
          } catch (const std::exception&) {
            return false;
          }
        },
        60s, 100ms);
  }

  /// A node killed hard (a failed assertion, SIGKILL) leaves its detached
  /// postmaster running; stop it so no test leaks a server.
  void TearDown() override {
    auto pid_file = dir / "pg" / "postmaster.pid";
    if (!fs::exists(pid_file))
      return;
    auto text = dt::read_file(pid_file);
    auto pid = std::atoi(text.c_str());
    if (pid > 0 && ::kill(pid, SIGQUIT) == 0)
      dt::wait_until([pid] { return ::kill(pid, 0) != 0; }, 30s);
  }

  std::string dsn() const {
    return "host=" + (dir / "run").string() +
           " port=5432 dbname=distiller user=postgres";
  }
};

TEST_F(NodeProcess, StartsServesStopsAndRestartsWithItsData) {
  uint16_t port = 0;
  {
    dt::child_process node{args(), {}, dir.path()};
    port = wait_for_port(node);
    ASSERT_NE(port, 0);
    ASSERT_TRUE(wait_ready(port)) << node.err();

    dt::http_client http{port};
    auto health = http.get("/health");
    ASSERT_EQ(health.status, 200);
    auto h = health.json().as_object();
    EXPECT_EQ(h.at("status").as_string(), "ok");
    EXPECT_EQ(h.at("node").as_string(), "e2e-node");
    auto& comps = h.at("components").as_object();
    EXPECT_EQ(comps.at("kafka").at("state").as_string(), "up");
    EXPECT_EQ(comps.at("postgres").at("state").as_string(), "up");
    EXPECT_EQ(comps.at("http").at("state").as_string(), "up");

    auto inspect = http.get("/inspect").json().as_object();
    std::set<std::string> names;
    for (auto& a : inspect.at("actors").as_array())
      names.insert(std::string{a.at("name").as_string()});
    EXPECT_TRUE(names.count("root"));
    EXPECT_TRUE(names.count("probe-kafka"));
    EXPECT_TRUE(names.count("probe-postgres"));

    auto metrics = http.get("/metrics");
    EXPECT_EQ(metrics.status, 200);
    EXPECT_NE(metrics.body.find("distiller_actor_messages_processed"),
              std::string::npos);

    auto missing = http.get("/no/such/route");
    EXPECT_EQ(missing.status, 404);
    EXPECT_TRUE(missing.json().as_object().contains("error"));

    // kcat reaches the embedded cluster through the bootstrap file and sees
    // every catalog topic with its partition count.
    auto bootstrap = dt::read_file(dir / "kafka.bootstrap");
    while (!bootstrap.empty() && std::isspace(bootstrap.back()))
      bootstrap.pop_back();
    auto kcat =
        dt::run_process({"/usr/bin/kcat", "-b", bootstrap, "-L"}, {}, 30s);
    ASSERT_EQ(kcat.exit_code, 0) << kcat.err;
    auto catalog = distiller::kafka::load_catalog(
        (dt::source_dir() / "config" / "topics.toml").string());
    ASSERT_FALSE(catalog.topics.empty());
    for (auto& t : catalog.topics)
      EXPECT_NE(kcat.out.find("topic \"" + t.name + "\" with " +
                              std::to_string(t.partitions) + " partitions"),
                std::string::npos)
          << t.name << "\n"
          << kcat.out;

    // A row written now must survive the restart below.
    {
      pqxx::connection conn{dsn()};
      pqxx::work tx{conn};
      tx.exec0("CREATE TABLE e2e_marker (note text)");
      tx.exec0("INSERT INTO e2e_marker VALUES ('before restart')");
      tx.commit();
    }

    node.signal(SIGINT);
    EXPECT_EQ(node.wait(60s), 0) << node.err();
    EXPECT_NE(node.out().find("Distiller node 'e2e-node' is up"),
              std::string::npos);
    EXPECT_NE(node.err().find("event=node_stopped"), std::string::npos);
    EXPECT_FALSE(fs::exists(dir / "pg" / "postmaster.pid"))
        << "PostgreSQL still running after the node stopped";
    EXPECT_FALSE(fs::exists(dir / "node.json"));
    EXPECT_FALSE(fs::exists(dir / "kafka.bootstrap"));
  }

  dt::child_process again{args("node"), {}, dir.path()};
  auto port2 = wait_for_port(again);
  ASSERT_NE(port2, 0);
  ASSERT_TRUE(wait_ready(port2)) << again.err();
  EXPECT_EQ(again.err().find("event=pg_initdb"), std::string::npos)
      << "the second start ran initdb again instead of reusing var/pg";
  {
    pqxx::connection conn{dsn()};
    pqxx::nontransaction tx{conn};
    EXPECT_EQ(tx.exec1("SELECT note FROM e2e_marker")[0].as<std::string>(),
              "before restart");
  }
  again.signal(SIGTERM);
  EXPECT_EQ(again.wait(60s), 0) << again.err();
}

TEST_F(NodeProcess, FailedStartExitsOneAndStopsItsPostgres) {
  // Hold a port so the HTTP façade, the last part to start, cannot bind.
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor taken{
      ioc, {boost::asio::ip::make_address("127.0.0.1"), 0}};
  auto port = std::to_string(taken.local_endpoint().port());
  dt::child_process node{args("node", port), {}, dir.path()};
  EXPECT_EQ(node.wait(180s), 1) << node.err();
  EXPECT_NE(node.err().find("event=node_start_failed"), std::string::npos)
      << node.err();
  EXPECT_NE(node.err().find(port), std::string::npos) << node.err();
  EXPECT_FALSE(fs::exists(dir / "pg" / "postmaster.pid"))
      << "a failed start left its PostgreSQL running";
}

TEST(NodeConfigErrors, ExitTwoNamingTheKey) {
  auto bin = dt::distiller_binary();
  auto r = dt::run_process({bin, "up", "--set", "http.port=abc"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("http.port"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("integer 0..65535"), std::string::npos) << r.err;

  r = dt::run_process({bin, "config", "check"}, {"DISTILLER_HTTP_PROT=1"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("DISTILLER_HTTP_PROT"), std::string::npos) << r.err;

  r = dt::run_process({bin, "node", "--config", "/nonexistent/d.toml"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("/nonexistent/d.toml"), std::string::npos) << r.err;

  r = dt::run_process({bin, "node", "--log-level", "loud"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("log.level"), std::string::npos) << r.err;

  r = dt::run_process({bin, "node", "--roles", "api,chef"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("node.roles"), std::string::npos) << r.err;

  r = dt::run_process({bin, "frobnicate"});
  EXPECT_EQ(r.exit_code, 2);
}

TEST(NodeConfigShow, PrintsEffectiveConfiguration) {
  auto r = dt::run_process(
      {dt::distiller_binary(), "config", "show", "--set", "http.port=9123"},
      {"KAFKA_BOOTSTRAP_SERVERS=k:9092"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("port = 9123"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("brokers = \"k:9092\""), std::string::npos) << r.out;
}

} // namespace
