// A local cluster as a user starts it (issue 11): `scripts/cluster up 3`
// (the services process and three nodes with different roles), documents
// and thoughts flowing across the roles, every shell command through
// `distiller shell -c … --json`, the changing commands with and without
// shell.allow_write, the interactive shell under a pseudo-terminal, and a
// node killed with SIGKILL mid-load: down within 5 s, its partitions served
// by the others within 10 s, nothing lost or done twice, and back after a
// restart.

#include <gtest/gtest.h>

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include <boost/json.hpp>
#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <pqxx/pqxx>

#include "actors/cluster/cluster_node.hpp"
#include "bridges/kafka/type_ids.hpp"
#include "runtime/cluster/tunnel.hpp"
#include "runtime/core/type_ids.hpp"

#include "tests/support/document_client.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/testing.hpp"

namespace {

using namespace std::chrono_literals;
namespace dt = distiller::testing;
namespace fs = std::filesystem;
namespace json = boost::json;
using steady = std::chrono::steady_clock;

/// `n` consecutive free TCP ports on 127.0.0.1 (bound and released).
uint16_t free_ports(int n) {
  for (int attempt = 0; attempt < 200; ++attempt) {
    uint16_t base =
        static_cast<uint16_t>(20000 + (getpid() * 7 + attempt * 97) % 30000);
    bool all = true;
    for (int i = 0; i < n && all; ++i) {
      int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      a.sin_port = htons(static_cast<uint16_t>(base + i));
      all = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
      ::close(fd);
    }
    if (all)
      return base;
  }
  throw std::runtime_error("no free ports");
}

json::object parse_object(const std::string& text) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object())
    throw std::runtime_error("not a JSON object: " + text);
  return v.as_object();
}

class Cluster : public ::testing::Test {
 protected:
  static inline std::unique_ptr<dt::temp_dir> dir;
  static inline uint16_t base = 0;
  static inline bool up = false;

  static std::vector<std::string> env() {
    return {"DISTILLER_BIN=" + dt::distiller_binary()};
  }

  static dt::process_result cluster(std::vector<std::string> args,
                                    std::chrono::milliseconds timeout = 240s) {
    std::vector<std::string> argv{
        (dt::source_dir() / "scripts" / "cluster").string()};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back("--dir");
    argv.push_back(dir->path().string());
    return dt::run_process(argv, env(), timeout);
  }

  static void SetUpTestSuite() {
    dir = std::make_unique<dt::temp_dir>("distiller-cluster");
    fs::permissions(dir->path(), fs::perms::owner_all | fs::perms::group_read |
                                     fs::perms::group_exec |
                                     fs::perms::others_read |
                                     fs::perms::others_exec);
    base = free_ports(3);
    // n1 takes requests and relays, n2 and n3 share the pipeline's work
    // (so either can die and the other serves its partitions).
    auto r =
        cluster({"up", "3", "--base-port", std::to_string(base), "--roles",
                 "api,relay/ingest,embed,index,thoughts/all", "--allow-write"});
    up = r.exit_code == 0;
    if (!up)
      std::fprintf(stderr, "cluster up failed (%d):\n%s\n%s\n", r.exit_code,
                   r.out.c_str(), r.err.c_str());
    else
      std::printf("%s", r.out.c_str());
  }

  static void TearDownTestSuite() {
    if (dir) {
      auto r = cluster({"down"}, 120s);
      std::printf("%s", r.out.c_str());
      dir.reset();
    }
  }

  void SetUp() override { ASSERT_TRUE(up) << "the cluster did not start"; }

  static uint16_t port(int node) {
    return static_cast<uint16_t>(base + node - 1);
  }

  /// `distiller shell --node 127.0.0.1:<n1> -c <commands>`.
  static dt::process_result shell(const std::string& commands,
                                  bool as_json = true, int node = 1) {
    std::vector<std::string> argv{dt::distiller_binary(),
                                  "shell",
                                  "--node",
                                  "127.0.0.1:" + std::to_string(port(node)),
                                  "-c",
                                  commands};
    if (as_json)
      argv.push_back("--json");
    return dt::run_process(argv, {}, 60s);
  }

  static json::object shell_json(const std::string& commands, int node = 1) {
    auto r = shell(commands, true, node);
    EXPECT_EQ(r.exit_code, 0) << commands << "\n" << r.err;
    return parse_object(r.out);
  }

  static std::map<std::string, std::string> node_states() {
    std::map<std::string, std::string> out;
    auto r = shell("nodes");
    if (r.exit_code != 0)
      return out;
    auto body = parse_object(r.out);
    for (auto& m : body.at("members").as_array())
      out[std::string{m.at("node").as_string()}] =
          std::string{m.at("state").as_string()};
    return out;
  }

  /// Owner node of each partition of `binding` (from `partitions`).
  static std::map<int64_t, std::set<std::string>>
  owners(const std::string& binding) {
    std::map<int64_t, std::set<std::string>> out;
    auto r = shell("partitions " + binding);
    if (r.exit_code != 0 && r.exit_code != 4)
      return out;
    auto body = parse_object(r.out);
    for (auto& p : body.at("partitions").as_array())
      out[p.at("partition").as_int64()].insert(
          std::string{p.at("node").as_string()});
    return out;
  }

  static std::string dsn() {
    return dt::read_file(dir->path() / "services" / "postgres.dsn");
  }

  static int64_t scalar(const std::string& sql) {
    auto d = dsn();
    while (!d.empty() && (d.back() == '\n' || d.back() == ' '))
      d.pop_back();
    pqxx::connection c{d};
    pqxx::nontransaction tx{c};
    return tx.exec1(sql)[0].as<int64_t>();
  }

  static std::string text_of(const std::string& sql) {
    auto d = dsn();
    while (!d.empty() && (d.back() == '\n' || d.back() == ' '))
      d.pop_back();
    pqxx::connection c{d};
    pqxx::nontransaction tx{c};
    return tx.exec1(sql)[0].as<std::string>();
  }

  static std::string submit_thought(const std::string& user,
                                    const std::string& text) {
    dt::http_client c{port(1)};
    auto r =
        c.post("/thoughts",
               json::serialize(json::object{{"text", text}, {"user_id", user}}),
               {{"content-type", "application/json"}});
    EXPECT_EQ(r.status, 202u) << r.body;
    return std::string{r.json().at("thought_id").as_string()};
  }

  static std::string thought_status(const std::string& id) {
    dt::http_client c{port(1)};
    auto r = c.get("/thoughts/" + id);
    if (r.status != 200)
      return "";
    return std::string{r.json().at("status").as_string()};
  }
};

TEST_F(Cluster, ThreeNodesUpAndWorkFlowsAcrossTheRoles) {
  ASSERT_TRUE(dt::wait_until(
      [] {
        auto s = node_states();
        return s.size() == 3 && s["n1"] == "up" && s["n2"] == "up" &&
               s["n3"] == "up";
      },
      30s, 200ms));
  auto nodes = shell_json("nodes");
  ASSERT_EQ(nodes.at("members").as_array().size(), 3u);
  for (auto& m : nodes.at("members").as_array()) {
    EXPECT_EQ(m.at("state"), "up");
    EXPECT_LT(m.at("last_heartbeat_ms").as_int64(), 3000);
  }
  EXPECT_EQ(nodes.at("self"), "n1");
  // The table form names the three nodes with their roles.
  auto table = shell("nodes", false);
  EXPECT_EQ(table.exit_code, 0);
  EXPECT_NE(table.out.find("ingest,embed,index,thoughts"), std::string::npos)
      << table.out;

  // A document uploaded on n1 is chunked, embedded and indexed by the others.
  dt::document_client api{port(1)};
  auto job = api.upload_ok("cluster.txt",
                           "Clusters share work. Each node has its roles. "
                           "The shell sees every node at once.");
  auto final = api.wait_final(job, 90s);
  ASSERT_TRUE(final.is_object());
  EXPECT_EQ(final.at("status"), "completed") << json::serialize(final);
  // The trace of that upload went through the ingest nodes' workers.
  auto trace_id = text_of(
      "SELECT trace_id FROM document_jobs WHERE job_id = '" + job + "'");
  ASSERT_TRUE(dt::wait_until(
      [&] {
        auto t = shell("trace " + trace_id);
        if (t.exit_code != 0)
          return false;
        std::set<std::string> where;
        auto body = parse_object(t.out);
        for (auto& e : body.at("entries").as_array())
          where.insert(std::string{e.at("node").as_string()});
        return where.count("n2") + where.count("n3") > 0;
      },
      10s, 200ms));

  // A thought submitted on n1 runs its five agents on n2 or n3.
  auto id = submit_thought("6f1c2d4e-8a9b-4c3d-9e8f-0a1b2c3d4e5f",
                           "I should learn to run a cluster.");
  EXPECT_TRUE(dt::wait_until([&] { return thought_status(id) == "completed"; },
                             90s, 200ms))
      << thought_status(id);
}

TEST_F(Cluster, ReadingCommandsAnswerForEveryNode) {
  auto actors = shell_json("actors --sort processed --top 500");
  std::set<std::string> nodes;
  std::set<std::string> names;
  for (auto& a : actors.at("actors").as_array()) {
    nodes.insert(std::string{a.at("node").as_string()});
    names.insert(std::string{a.at("name").as_string()});
  }
  EXPECT_EQ(nodes, (std::set<std::string>{"n1", "n2", "n3"}));
  EXPECT_TRUE(names.count("chunker-bridge")) << "no chunker on n2/n3";
  EXPECT_TRUE(actors.at("errors").as_array().empty());
  // Sorted by processed, descending.
  int64_t last = INT64_MAX;
  for (auto& a : actors.at("actors").as_array()) {
    EXPECT_LE(a.at("processed").as_int64(), last);
    last = a.at("processed").as_int64();
  }
  auto only = shell_json("actors --node n2 --role worker");
  ASSERT_FALSE(only.at("actors").as_array().empty());
  for (auto& a : only.at("actors").as_array()) {
    EXPECT_EQ(a.at("node"), "n2");
    EXPECT_EQ(a.at("role"), "worker");
  }

  auto pools = shell_json("pools");
  std::set<std::string> chunker_nodes;
  for (auto& p : pools.at("pools").as_array())
    if (p.at("pool") == "chunker") {
      chunker_nodes.insert(std::string{p.at("node").as_string()});
      EXPECT_GE(p.at("size").as_int64(), 1);
    }
  EXPECT_EQ(chunker_nodes, (std::set<std::string>{"n2", "n3"}));

  // Every chunker partition has exactly one owner among the ingest nodes
  // (once the group's first rebalances are over).
  std::map<int64_t, std::set<std::string>> own;
  EXPECT_TRUE(dt::wait_until(
      [&] {
        own = owners("chunker");
        if (own.size() != 6)
          return false;
        for (auto& [partition, who] : own)
          if (who.size() != 1)
            return false;
        return true;
      },
      30s, 250ms));
  ASSERT_FALSE(own.empty());
  for (auto& [partition, who] : own) {
    EXPECT_EQ(who.size(), 1u) << partition;
    EXPECT_TRUE(who.count("n2") || who.count("n3")) << partition;
  }
  auto lag = shell_json("lag");
  bool found = false;
  for (auto& l : lag.at("lag").as_array())
    if (l.at("binding") == "chunker") {
      found = true;
      EXPECT_EQ(l.at("partitions").as_int64(),
                static_cast<int64_t>(own.size()));
    }
  EXPECT_TRUE(found);

  auto inspect = shell_json("inspect chunker-bridge");
  ASSERT_FALSE(inspect.at("actors").as_array().empty());
  for (auto& a : inspect.at("actors").as_array()) {
    EXPECT_EQ(a.at("name"), "chunker-bridge");
    EXPECT_TRUE(a.as_object().contains("recent_errors"));
  }
  auto missing = shell("inspect no-such-actor");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("not_found"), std::string::npos) << missing.err;

  auto top = shell("top --count 1");
  EXPECT_EQ(top.exit_code, 0) << top.err;
  auto frame = parse_object(top.out);
  EXPECT_FALSE(frame.at("actors").as_array().empty());
  EXPECT_FALSE(frame.at("pools").as_array().empty());

  // Usage errors exit 2 and say what is wrong.
  auto bad = shell("actors --sort nonsense");
  EXPECT_EQ(bad.exit_code, 1) << bad.err; // the node refuses the sort key
  auto unknown = shell("frobnicate");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("unknown command 'frobnicate'"),
            std::string::npos);
  auto nowhere = dt::run_process(
      {dt::distiller_binary(), "shell", "--node", "127.0.0.1:1", "-c", "nodes"},
      {}, 30s);
  EXPECT_EQ(nowhere.exit_code, 3) << nowhere.err;
}

TEST_F(Cluster, ScalePauseResumeAndRestart) {
  auto size_on = [](const std::string& node) -> int64_t {
    auto pools = shell_json("pools");
    for (auto& p : pools.at("pools").as_array())
      if (p.at("pool") == "chunker" && p.at("node").as_string() == node)
        return p.at("size").as_int64();
    return -1;
  };
  auto before = size_on("n2");
  ASSERT_GT(before, 0);
  auto scaled = shell_json("scale chunker 2 --node n2");
  ASSERT_EQ(scaled.at("results").as_array().size(), 1u);
  EXPECT_EQ(scaled.at("results").as_array()[0].at("size").as_int64(), 2);
  EXPECT_TRUE(dt::wait_until([&] { return size_on("n2") == 2; }, 10s, 200ms));
  auto bad = shell("scale chunker 0 --node n2");
  EXPECT_EQ(bad.exit_code, 2);
  shell_json("scale chunker " + std::to_string(before) + " --node n2");
  EXPECT_TRUE(
      dt::wait_until([&] { return size_on("n2") == before; }, 10s, 200ms));

  // Paused, the chunker's lag grows with each upload; resumed, it drains.
  auto chunker_lag = [] {
    auto lag = shell_json("lag");
    for (auto& l : lag.at("lag").as_array())
      if (l.at("binding") == "chunker")
        return l.at("lag").as_int64();
    return int64_t{-1};
  };
  ASSERT_TRUE(
      dt::wait_until([] { return owners("chunker").size() == 6; }, 30s, 250ms));
  auto paused = shell_json("pause chunker");
  EXPECT_EQ(paused.at("results").as_array().size(), 2u); // n2 and n3
  dt::document_client api{port(1)};
  std::vector<std::string> jobs;
  for (int i = 0; i < 5; ++i)
    jobs.push_back(api.upload_ok("paused-" + std::to_string(i) + ".txt",
                                 "Paused bindings hold their records. Number " +
                                     std::to_string(i) + "."));
  EXPECT_TRUE(dt::wait_until([&] { return chunker_lag() >= 5; }, 20s, 250ms))
      << chunker_lag();
  for (auto& j : jobs)
    EXPECT_EQ(api.status(j).at("status"), "pending");
  auto pools_now = shell_json("pools");
  for (auto& p : pools_now.at("pools").as_array()) {
    if (p.at("pool") == "chunker") {
      EXPECT_TRUE(p.at("paused").as_bool());
    }
  }
  shell_json("resume chunker");
  for (auto& j : jobs) {
    auto f = api.wait_final(j, 90s);
    ASSERT_TRUE(f.is_object());
    EXPECT_EQ(f.at("status"), "completed");
  }
  EXPECT_TRUE(dt::wait_until([&] { return chunker_lag() == 0; }, 20s, 250ms))
      << shell("partitions chunker").out;

  // restart: a fresh incarnation of a supervised actor.
  auto r = shell_json("restart outbox-relay --node n1");
  EXPECT_EQ(r.at("results").as_array().size(), 1u);
  auto sent = shell_json("send outbox-relay tick --node n1");
  EXPECT_EQ(sent.at("results").as_array().size(), 1u);
  auto wrong = shell("send outbox-relay nonsense --node n1");
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_NE(wrong.err.find("invalid_argument"), std::string::npos) << wrong.err;
}

TEST_F(Cluster, ANodeWithoutAllowWriteRefusesChangingCommands) {
  // A fourth node joins with the defaults (shell.allow_write = false).
  auto d = dir->path() / "n4";
  fs::create_directories(d);
  fs::permissions(d, fs::perms::owner_all | fs::perms::group_read |
                         fs::perms::group_exec | fs::perms::others_read |
                         fs::perms::others_exec);
  auto secret = dt::read_file(dir->path() / "secret");
  // n1's membership events, from before n4 starts.
  dt::sse_reader events{port(1), "/cluster/events"};
  ASSERT_EQ(events.reply().status, 200u);
  auto ready = events.next();
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->event, "ready");
  dt::child_process n4{
      {dt::distiller_binary(), "node", "--data-dir", d.string(), "--services",
       (dir->path() / "services").string(), "--name", "n4", "--port", "0",
       "--roles", "api", "--set",
       "kafka.catalog=" +
           (dt::source_dir() / "config" / "topics.toml").string()},
      {"DISTILLER_CLUSTER_SECRET=" + secret}};
  ASSERT_TRUE(dt::wait_until(
      [&] { return !n4.running() || node_states()["n4"] == "up"; }, 60s,
      250ms));
  ASSERT_TRUE(n4.running()) << n4.err();
  // "up" is n4's first heartbeat; wait until n1 also reaches it (its tunnel
  // connected, n4's agent answering), which once took longer than one
  // cluster.request_timeout (3 s) in CI (docs/status.md, session 9).
  ASSERT_TRUE(dt::wait_until(
      [&] { return shell("actors --node n4").exit_code == 0; }, 60s, 500ms))
      << n4.err();
  auto refused = shell("restart outbox-relay --node n4");
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("forbidden"), std::string::npos) << refused.err;
  auto body = parse_object(refused.out);
  EXPECT_EQ(body.at("error"), "forbidden");
  // The refusal is an audit event in n4's log.
  EXPECT_TRUE(dt::wait_until(
      [&] {
        auto e = n4.err();
        return e.find("event=shell_command") != std::string::npos &&
               e.find("allowed=false") != std::string::npos;
      },
      5s, 100ms));
  // A clean stop: the others see it leave at once.
  n4.signal(SIGTERM);
  EXPECT_EQ(n4.wait(60s), 0);
  EXPECT_TRUE(
      dt::wait_until([] { return node_states()["n4"] == "left"; }, 5s, 100ms));
  // The stream saw n4 come up and leave, in that order.
  std::vector<std::string> seen;
  while (auto e = events.next(3s)) {
    auto d = parse_object(e->data);
    if (d.at("node") == "n4")
      seen.push_back(e->event);
    if (!seen.empty() && seen.back() == "member_left")
      break;
  }
  ASSERT_GE(seen.size(), 2u);
  EXPECT_EQ(seen.front(), "member_up");
  EXPECT_EQ(seen.back(), "member_left");
}

TEST_F(Cluster, ThePortLetsNoOneWithoutTheSecretReachAnActor) {
  auto info = parse_object(dt::read_file(dir->path() / "n1" / "node.json"));
  auto cluster_port = static_cast<uint16_t>(info.at("cluster_port").as_int64());
  ASSERT_GT(cluster_port, 0);
  auto secret = dt::read_file(dir->path() / "secret");
  caf::actor_system_config cfg;
  cfg.add_message_types<caf::id_block::distiller_runtime>();
  cfg.add_message_types<caf::id_block::distiller_bridges>();
  cfg.load<caf::io::middleman>();
  caf::actor_system sys{cfg};
  {
    // A guessed secret: the gate closes the connection, CAF gets no actor.
    distiller::cluster::tunnel_client wrong{"127.0.0.1", cluster_port,
                                            "guessed"};
    auto remote = sys.middleman().remote_actor<distiller::cluster::agent_actor>(
        "127.0.0.1", wrong.local_port());
    EXPECT_FALSE(remote) << "an actor was reached without the secret";
  }
  {
    // No handshake at all (a plain client on the port): closed, nothing
    // answered that a peer could use.
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(cluster_port);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    std::string junk(64, 'x');
    (void)::write(fd, junk.data(), junk.size());
    std::string got;
    auto deadline = steady::now() + 10s;
    bool closed = false;
    while (!closed && steady::now() < deadline) {
      pollfd pf{fd, POLLIN, 0};
      if (::poll(&pf, 1, 100) > 0) {
        char buf[256];
        auto n = ::read(fd, buf, sizeof buf);
        if (n <= 0)
          closed = true;
        else
          got.append(buf, static_cast<size_t>(n));
      }
    }
    ::close(fd);
    EXPECT_TRUE(closed) << "the gate kept a peer without the secret";
    // Only the greeting: "DSTL1" and the 16-byte nonce.
    EXPECT_EQ(got.size(), 21u);
    EXPECT_EQ(got.substr(0, 5), "DSTL1");
  }
  {
    // The secret: the node's agent is reached, under its typed interface,
    // and answers.
    distiller::cluster::tunnel_client right{"127.0.0.1", cluster_port, secret};
    auto remote = sys.middleman().remote_actor<distiller::cluster::agent_actor>(
        "127.0.0.1", right.local_port());
    ASSERT_TRUE(remote) << sys.render(remote.error());
    caf::scoped_actor self{sys};
    std::string answer;
    self->request(*remote, 10s, distiller::cluster::detail::query_atom_v,
                  std::string{"actors"}, std::string{"{}"})
        .receive([&](std::string& text) { answer = std::move(text); },
                 [&](caf::error& e) { ADD_FAILURE() << sys.render(e); });
    EXPECT_NE(answer.find("\"membership\""), std::string::npos) << answer;
  }
  {
    // An untyped peer asks for another interface: no actor.
    distiller::cluster::tunnel_client right{"127.0.0.1", cluster_port, secret};
    auto remote = sys.middleman().remote_actor("127.0.0.1", right.local_port());
    EXPECT_FALSE(remote) << "an untyped handle reached the typed agent";
  }
}

/// Runs `argv` under a pseudo-terminal; `script` is typed after the prompt
/// appears, one step at a time; returns everything the terminal showed.
std::string
run_in_pty(const std::vector<std::string>& argv,
           const std::vector<std::string>& env,
           const std::vector<std::pair<std::string, std::string>>& steps) {
  int master = -1;
  pid_t pid = forkpty(&master, nullptr, nullptr, nullptr);
  if (pid == 0) {
    for (auto& e : env)
      putenv(const_cast<char*>(e.c_str()));
    std::vector<char*> args;
    for (auto& a : argv)
      args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  std::string seen;
  auto read_until = [&](const std::string& what,
                        std::chrono::milliseconds timeout) {
    auto deadline = steady::now() + timeout;
    while (seen.find(what) == std::string::npos && steady::now() < deadline) {
      pollfd p{master, POLLIN, 0};
      if (::poll(&p, 1, 100) > 0) {
        char buf[4096];
        auto n = ::read(master, buf, sizeof buf);
        if (n <= 0)
          break;
        seen.append(buf, static_cast<size_t>(n));
      }
    }
    return seen.find(what) != std::string::npos;
  };
  for (auto& [type, expect] : steps) {
    if (!type.empty())
      (void)::write(master, type.data(), type.size());
    EXPECT_TRUE(read_until(expect, 20s))
        << "waiting for '" << expect << "' after typing '" << type
        << "'; the terminal showed:\n"
        << seen;
    // Count from here on for the next expectation.
    seen = seen.substr(seen.find(expect) == std::string::npos
                           ? seen.size()
                           : seen.find(expect) + expect.size());
  }
  int status = 0;
  for (int i = 0; i < 100 && waitpid(pid, &status, WNOHANG) == 0; ++i)
    std::this_thread::sleep_for(50ms);
  if (waitpid(pid, &status, WNOHANG) == 0) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
  }
  ::close(master);
  return seen;
}

TEST_F(Cluster, InteractiveShellEditsCompletesAndKeepsHistory) {
  dt::temp_dir home{"distiller-shell-home"};
  auto history = (home.path() / "history").string();
  auto prompt = "distiller 127.0.0.1:" + std::to_string(port(1)) + "> ";
  run_in_pty({dt::distiller_binary(), "shell", "--node",
              "127.0.0.1:" + std::to_string(port(1))},
             {"DISTILLER_SHELL_HISTORY=" + history, "TERM=dumb"},
             {
                 {"", prompt},
                 // Tab completes "nod" to "nodes"; Enter runs it.
                 {"nod\t", "nodes"},
                 {"\r", "HEARTBEAT"},
                 {"", prompt},
                 // The argument completes from the node's pools.
                 {"partitions chunk\t", "chunker"},
                 {"\r", "HIGH_WATERMARK"},
                 {"", prompt},
                 // Up arrow twice brings back "nodes".
                 {"\x1b[A\x1b[A\r", "HEARTBEAT"},
                 {"", prompt},
                 {"quit\r", "\n"},
             });
  // libedit writes a space as \040.
  auto kept = dt::read_file(history);
  for (size_t i = 0; (i = kept.find("\\040")) != std::string::npos;)
    kept.replace(i, 4, " ");
  EXPECT_NE(kept.find("nodes"), std::string::npos) << kept;
  EXPECT_NE(kept.find("partitions chunker"), std::string::npos) << kept;
}

TEST_F(Cluster, AKilledNodeIsDownItsWorkMovesAndItRejoins) {
  ASSERT_TRUE(dt::wait_until(
      [] {
        auto s = node_states();
        return s["n2"] == "up" && s["n3"] == "up";
      },
      30s, 200ms));
  dt::document_client api{port(1)};
  std::vector<std::string> jobs;
  std::vector<std::string> thoughts;
  const std::string user = "0b6f8c2a-1d3e-4f5a-8b7c-9d0e1f2a3b4c";
  auto submit = [&](int i) {
    jobs.push_back(api.upload_ok(
        "kill-" + std::to_string(i) + ".txt",
        "Work survives a dead node. Document " + std::to_string(i) +
            " has a few sentences. They are chunked and embedded once."));
    thoughts.push_back(submit_thought(
        user, "Thought number " + std::to_string(i) + " about resilience."));
  };
  for (int i = 0; i < 10; ++i)
    submit(i);
  // n2 serves some chunker partitions when it dies (else nothing moves).
  ASSERT_TRUE(dt::wait_until(
      [] {
        auto own = owners("chunker");
        if (own.size() != 6)
          return false;
        for (auto& [partition, who] : own)
          if (who.count("n2"))
            return true;
        return false;
      },
      60s, 250ms));

  auto t0 = steady::now();
  auto k = cluster({"kill", "n2"}, 30s);
  ASSERT_EQ(k.exit_code, 0) << k.err;
  for (int i = 10; i < 20; ++i)
    submit(i);
  // Down within 5 s, as n1 sees it.
  ASSERT_TRUE(
      dt::wait_until([] { return node_states()["n2"] == "down"; }, 8s, 100ms));
  auto down_s = std::chrono::duration<double>(steady::now() - t0).count();
  std::printf("n2 down after %.2f s\n", down_s);
  // A request to the down node fails at once with a typed error.
  auto asked = steady::now();
  auto to_down = shell("actors --node n2");
  EXPECT_EQ(to_down.exit_code, 4) << to_down.err;
  EXPECT_NE(to_down.err.find("node_down"), std::string::npos) << to_down.err;
  EXPECT_LT(std::chrono::duration<double>(steady::now() - asked).count(), 2.0);
  // Judged from the heartbeat's age: down_after (4 s) after the last
  // heartbeat, seen within a quarter beat; the bound is 5 s
  // (scripts/bench-cluster measures the distribution, docs/benchmarks.md).
  EXPECT_LE(down_s, 5.0);
  // Every chunker partition owned by n3: after the embedded Kafka's session
  // timeout (kafka.embedded_session_timeout, 4 s) and its rebalance wait
  // (3 s); the bound is 10 s.
  ASSERT_TRUE(dt::wait_until(
      [] {
        auto own = owners("chunker");
        if (own.empty())
          return false;
        for (auto& [partition, who] : own)
          if (who != std::set<std::string>{"n3"})
            return false;
        return true;
      },
      25s, 200ms));
  auto moved_s = std::chrono::duration<double>(steady::now() - t0).count();
  std::printf("partitions served by n3 after %.2f s\n", moved_s);
  EXPECT_LE(moved_s, 10.0);

  for (auto& j : jobs) {
    auto f = api.wait_final(j, 120s);
    ASSERT_TRUE(f.is_object()) << j;
    EXPECT_EQ(f.at("status"), "completed") << json::serialize(f);
  }
  for (auto& t : thoughts)
    EXPECT_TRUE(dt::wait_until([&] { return thought_status(t) == "completed"; },
                               120s, 250ms))
        << t << " " << thought_status(t);
  // Nothing twice: each job's chunks once, each embedded once (the job
  // counts one per chunk), each thought's five agents once.
  for (auto& j : jobs) {
    auto f = api.status(j);
    EXPECT_EQ(f.at("processed_chunks"), f.at("total_chunks")) << j;
    EXPECT_EQ(scalar("SELECT count(*) FROM document_chunks WHERE job_id = '" +
                     j + "'"),
              f.at("total_chunks").as_int64())
        << j;
  }
  EXPECT_EQ(scalar("SELECT count(*) FROM thoughts WHERE user_id = '" + user +
                   "' AND agents_completed = 5 AND status = 'completed'"),
            static_cast<int64_t>(thoughts.size()));

  // Back: it rejoins and takes partitions again.
  auto s = cluster({"start", "n2"}, 120s);
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_TRUE(
      dt::wait_until([] { return node_states()["n2"] == "up"; }, 30s, 200ms));
  EXPECT_TRUE(dt::wait_until(
      [] {
        for (auto& [partition, who] : owners("chunker"))
          if (who.count("n2"))
            return true;
        return false;
      },
      30s, 250ms));
}

} // namespace
