// The thought pipeline end to end, as users and operators meet it: whole
// node processes (`distiller up`, and `distiller node` pointed at the first
// one's Kafka and PostgreSQL), thoughts submitted over HTTP, their events
// read over Server-Sent Events on another node; a node killed mid-thought
// and started again; the stream caps, heartbeats, resume with Last-Event-ID
// and a client that stops reading.

#include <gtest/gtest.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include <boost/json.hpp>
#include <pqxx/pqxx>

#include "runtime/core/ids.hpp"
#include "runtime/core/time.hpp"
#include "tests/support/fake_chat_service.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/testing.hpp"

namespace {

using namespace std::chrono_literals;
namespace dt = distiller::testing;
namespace fs = std::filesystem;
namespace json = boost::json;

/// One node process with its data directory.
class node_process {
 public:
  node_process(const fs::path& dir, std::vector<std::string> argv)
      : dir_(dir), child_(std::make_unique<dt::child_process>(
                       std::move(argv), std::vector<std::string>{}, dir)) {}

  /// Waits until this process wrote node.json; its HTTP port (0: failed).
  uint16_t wait_port() {
    auto file = dir_ / "node.json";
    auto mine = [&] {
      try {
        auto info = json::parse(dt::read_file(file)).as_object();
        return info.at("pid").as_int64() == child_->pid();
      } catch (const std::exception&) {
        return false;
      }
    };
    bool ok = dt::wait_until([&] { return mine() || !child_->running(); }, 180s,
                             50ms);
    EXPECT_TRUE(ok && child_->running()) << "node did not start:\n"
                                         << child_->err();
    if (!ok || !child_->running())
      return 0;
    auto info = json::parse(dt::read_file(file)).as_object();
    port_ = static_cast<uint16_t>(info.at("http_port").as_int64());
    return port_;
  }

  bool wait_ready() {
    return dt::wait_until(
        [&] {
          try {
            dt::http_client c{port_};
            return c.get("/ready").status == 200;
          } catch (const std::exception&) {
            return false;
          }
        },
        120s, 100ms);
  }

  dt::child_process& child() { return *child_; }
  uint16_t port() const { return port_; }

 private:
  fs::path dir_;
  std::unique_ptr<dt::child_process> child_;
  uint16_t port_ = 0;
};

class ThoughtNodes : public ::testing::Test {
 protected:
  dt::temp_dir dir_a{"distiller-e2e-thoughts-a"};
  dt::temp_dir dir_b{"distiller-e2e-thoughts-b"};

  std::string catalog() const {
    return (dt::source_dir() / "config" / "topics.toml").string();
  }

  /// `distiller up` in dir_a (embedded Kafka and PostgreSQL).
  std::vector<std::string> up_args(const std::vector<std::string>& sets) {
    std::vector<std::string> out{dt::distiller_binary(),
                                 "up",
                                 "--port",
                                 "0",
                                 "--name",
                                 "node-a",
                                 "--data-dir",
                                 dir_a.path().string(),
                                 "--set",
                                 "kafka.catalog=" + catalog()};
    for (auto& s : sets) {
      out.push_back("--set");
      out.push_back(s);
    }
    return out;
  }

  std::string dsn() const {
    return "host=" + (dir_a / "run").string() +
           " port=5432 dbname=distiller user=postgres";
  }

  int64_t scalar(const std::string& sql) {
    pqxx::connection c{dsn()};
    pqxx::nontransaction tx{c};
    return tx.exec1(sql)[0].as<int64_t>();
  }

  std::string submit(uint16_t port, const std::string& user,
                     const std::string& text) {
    dt::http_client c{port};
    auto r = c.post("/thoughts", json::serialize(json::object{
                                     {"text", text}, {"user_id", user}}));
    EXPECT_EQ(r.status, 202u) << r.body;
    return std::string{json::parse(r.body).at("thought_id").as_string()};
  }

  json::object thought(uint16_t port, const std::string& id) {
    dt::http_client c{port};
    auto r = c.get("/thoughts/" + id);
    if (r.status != 200)
      return {};
    return json::parse(r.body).as_object();
  }

  /// A SIGKILLed node leaves its postmaster running; stop it.
  void TearDown() override {
    auto pid_file = dir_a / "pg" / "postmaster.pid";
    if (!fs::exists(pid_file))
      return;
    auto pid = std::atoi(dt::read_file(pid_file).c_str());
    if (pid > 0 && ::kill(pid, SIGQUIT) == 0)
      dt::wait_until([pid] { return ::kill(pid, 0) != 0; }, 30s);
  }
};

/// A client that connects with a tiny receive buffer, asks for a stream and
/// never reads again.
class stalled_client {
 public:
  stalled_client(uint16_t port, const std::string& target) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int small = 1024;
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0)
      throw std::runtime_error("connect failed");
    auto req = "GET " + target +
               " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               "Accept: text/event-stream\r\n\r\n";
    if (::write(fd_, req.data(), req.size()) !=
        static_cast<ssize_t>(req.size()))
      throw std::runtime_error("write failed");
    // Subscribed once the stream's `ready` event arrived: only then does
    // everything published afterwards reach this client (and fill its
    // queue). Then it never reads again.
    std::string seen;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{30};
    while (seen.find("event: ready") == std::string::npos ||
           seen.find("\n\n", seen.find("event: ready")) == std::string::npos) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      pollfd p{fd_, POLLIN, 0};
      if (left.count() <= 0 ||
          ::poll(&p, 1, static_cast<int>(left.count())) <= 0)
        throw std::runtime_error("no ready event within 30 s: " + seen);
      char buf[512];
      auto n = ::read(fd_, buf, sizeof(buf));
      if (n <= 0)
        throw std::runtime_error("the stream closed before ready: " + seen);
      seen.append(buf, static_cast<size_t>(n));
    }
  }
  ~stalled_client() { ::close(fd_); }

 private:
  int fd_ = -1;
};

/// The sum of every /metrics sample whose line starts with `line_prefix`
/// (a family's label sets exist at 0 from the start, in no fixed order, so
/// the first match alone may not be the one that counted).
double metric(uint16_t port, const std::string& line_prefix) {
  dt::http_client c{port};
  auto body = c.get("/metrics").body;
  double sum = 0;
  size_t at = 0;
  while ((at = body.find(line_prefix, at)) != std::string::npos) {
    if (at == 0 || body[at - 1] == '\n') {
      auto end = body.find('\n', at);
      auto line = body.substr(at, end - at);
      sum += std::stod(line.substr(line.rfind(' ') + 1));
    }
    at += line_prefix.size();
  }
  return sum;
}

} // namespace

TEST_F(ThoughtNodes, KilledMidThoughtFinishesAfterRestartWithoutRepeats) {
  dt::fake_chat_service chat;
  chat.set_delay(300ms);
  std::vector<std::string> sets{"agents.backend=chat",
                                "agents.chat_url=" + chat.url(),
                                "agents.chat_model=fake"};
  auto user = distiller::make_uuid();
  std::vector<std::string> ids;
  std::map<std::string, std::vector<std::string>> before;
  {
    node_process a{dir_a.path(), up_args(sets)};
    auto port = a.wait_port();
    ASSERT_NE(port, 0);
    for (int i = 0; i < 3; ++i)
      ids.push_back(submit(port, user,
                           "Thought " + std::to_string(i) +
                               ": remember to renew the passport by Friday."));
    ASSERT_TRUE(dt::wait_until(
        [&] {
          auto t = thought(port, ids[0]);
          return !t.empty() && t.at("agents_completed").as_int64() >= 2;
        },
        120s, 20ms));
    a.child().signal(SIGKILL);
    a.child().wait(30s);
  }
  // What the first process saved, to compare after the restart.
  pqxx::connection c{dsn()};
  {
    pqxx::nontransaction tx{c};
    for (auto& id : ids) {
      auto r = tx.exec_params1(
          "SELECT agents_completed, status, classification::text,"
          " analysis::text, value::text, plan::text FROM thoughts"
          " WHERE thought_id = $1",
          id);
      std::vector<std::string> saved;
      for (int k = 0; k < r[0].as<int>(); ++k)
        saved.push_back(r[2 + k].as<std::string>());
      before[id] = saved;
    }
  }
  auto done_at_kill = before[ids[0]].size();
  std::printf("killed with %zu of 5 agents done for the first thought\n",
              done_at_kill);
  ASSERT_LT(done_at_kill, 5u) << "finished before the kill";
  auto calls_before = chat.calls();

  node_process a{dir_a.path(), up_args(sets)};
  auto port = a.wait_port();
  ASSERT_NE(port, 0);
  ASSERT_TRUE(dt::wait_until(
      [&] {
        return scalar("SELECT count(*) FROM thoughts WHERE status IN "
                      "('pending', 'processing')") == 0;
      },
      180s, 100ms));
  pqxx::nontransaction tx{c};
  for (auto& id : ids) {
    auto t = thought(port, id);
    ASSERT_FALSE(t.empty());
    EXPECT_EQ(t.at("status").as_string(), "completed") << json::serialize(t);
    EXPECT_EQ(t.at("agents_completed").as_int64(), 5);
    // Steps saved before the kill kept their results (not run again).
    auto r = tx.exec_params1(
        "SELECT classification::text, analysis::text, value::text,"
        " plan::text FROM thoughts WHERE thought_id = $1",
        id);
    for (size_t k = 0; k < before[id].size() && k < 4; ++k)
      EXPECT_EQ(r[static_cast<int>(k)].as<std::string>(), before[id][k])
          << id << " step " << k + 1;
    // One announcement per step: none repeated, none skipped.
    auto steps = tx.exec_params(
        "SELECT (body->>'step')::int FROM thought_events WHERE thought_id ="
        " $1 AND type = 'thought_agent_completed' ORDER BY seq",
        id);
    std::vector<int> got;
    for (const auto& s : steps)
      got.push_back(s[0].as<int>());
    EXPECT_EQ(got, (std::vector<int>{1, 2, 3, 4, 5})) << id;
  }
  // A step saved before the kill was not asked for again.
  auto calls = chat.calls();
  auto text0 = "Thought 0: remember to renew the passport by Friday.";
  const char* names[] = {"classify", "analyse", "value", "plan", "summarise"};
  for (size_t k = 0; k < done_at_kill; ++k)
    EXPECT_EQ((calls[{text0, names[k]}]), (calls_before[{text0, names[k]}]))
        << names[k];
  // The user's order held across the restart.
  auto order = tx.exec_params(
      "SELECT thought_id::text FROM thought_events WHERE user_id = $1 AND"
      " type = 'thought_completed' ORDER BY seq",
      user);
  ASSERT_EQ(order.size(), 3u);
  for (size_t i = 0; i < 3; ++i)
    EXPECT_EQ(order[static_cast<int>(i)][0].as<std::string>(), ids[i]);
  a.child().signal(SIGINT);
  EXPECT_EQ(a.child().wait(60s), 0) << a.child().err();
}

TEST_F(ThoughtNodes, StreamsOfAnotherNodeCapsHeartbeatsResumeAndSlowClients) {
  node_process a{dir_a.path(), up_args({})};
  auto port_a = a.wait_port();
  ASSERT_NE(port_a, 0);
  ASSERT_TRUE(a.wait_ready());
  auto bootstrap = dt::read_file(dir_a / "kafka.bootstrap");
  while (!bootstrap.empty() &&
         std::isspace(static_cast<unsigned char>(bootstrap.back())))
    bootstrap.pop_back();
  // Node B: the API role only, on A's Kafka and PostgreSQL.
  node_process b{dir_b.path(),
                 {dt::distiller_binary(),
                  "node",
                  "--name",
                  "node-b",
                  "--roles",
                  "api",
                  "--port",
                  "0",
                  "--data-dir",
                  dir_b.path().string(),
                  "--brokers",
                  bootstrap,
                  "--pg",
                  dsn(),
                  "--set",
                  "kafka.catalog=" + catalog(),
                  "--set",
                  "sse.max_connections=4",
                  "--set",
                  "sse.max_per_user=3",
                  "--set",
                  "sse.heartbeat=200ms",
                  "--set",
                  "sse.queue_bytes=256KiB",
                  "--set",
                  "sse.write_timeout=5s"}};
  auto port_b = b.wait_port();
  ASSERT_NE(port_b, 0);
  ASSERT_TRUE(b.wait_ready()) << b.child().err();

  // -- every event of a thought processed by A reaches a client of B -------
  auto user = distiller::make_uuid();
  dt::sse_reader live{port_b, "/thoughts/stream/" + user};
  ASSERT_EQ(live.reply().status, 200u);
  auto ready = live.next(30s);
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->event, "ready");
  auto ready_data = json::parse(ready->data).as_object();
  EXPECT_EQ(ready_data.at("node").as_string(), "node-b");
  EXPECT_EQ(ready_data.at("last_event_id").as_int64(), 0);
  EXPECT_EQ(live.retry(), "2000");
  auto t1 = submit(port_a, user, "Book the train tickets for Tuesday.");
  std::vector<std::string> types;
  std::vector<uint64_t> seqs;
  while (types.size() < 8) {
    auto e = live.next(60s);
    ASSERT_TRUE(e) << "got " << types.size() << " events";
    ASSERT_FALSE(e->id.empty()) << e->event << " " << e->data;
    types.push_back(e->event);
    seqs.push_back(std::stoull(e->id));
    auto d = json::parse(e->data).as_object();
    EXPECT_EQ(d.at("thought_id").as_string(), t1);
    EXPECT_EQ(d.at("seq").as_int64(), static_cast<int64_t>(seqs.back()));
  }
  EXPECT_EQ(types, (std::vector<std::string>{
                       "thought_created", "thought_processing",
                       "thought_agent_completed", "thought_agent_completed",
                       "thought_agent_completed", "thought_agent_completed",
                       "thought_agent_completed", "thought_completed"}));
  EXPECT_EQ(seqs, (std::vector<uint64_t>{1, 2, 3, 4, 5, 6, 7, 8}));

  // -- heartbeats
  // --------------------------------------------------------------
  EXPECT_TRUE(live.wait_comments(2, 10s)) << "no ': ping' within 10 s";

  // -- resume with Last-Event-ID: exactly the missed events
  // ----------------------
  auto t2 = submit(port_a, user, "Then pack the bags.");
  {
    // Wait until the second thought is done, without a stream.
    ASSERT_TRUE(dt::wait_until(
        [&] {
          auto t = thought(port_a, t2);
          return !t.empty() && t.at("status").as_string() == "completed";
        },
        60s, 50ms));
  }
  {
    dt::sse_reader resumed{
        port_b, "/thoughts/stream/" + user, {{"Last-Event-ID", "5"}}};
    ASSERT_EQ(resumed.reply().status, 200u);
    std::vector<uint64_t> got;
    for (;;) {
      auto e = resumed.next(30s);
      ASSERT_TRUE(e);
      if (e->event == "ready") {
        EXPECT_EQ(e->id, "16");
        break;
      }
      ASSERT_FALSE(e->id.empty()) << e->event << " " << e->data;
      got.push_back(std::stoull(e->id));
    }
    std::vector<uint64_t> want;
    for (uint64_t s = 6; s <= 16; ++s)
      want.push_back(s);
    EXPECT_EQ(got, want);
  }
  {
    // An id never given is a reset; a malformed one is a 400.
    dt::sse_reader future{port_b,
                          "/thoughts/stream/" + user + "?last_event_id=999"};
    auto e = future.next(30s);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->event, "reset");
    dt::http_client c{port_b};
    auto bad = c.get("/thoughts/stream/" + user + "?last_event_id=x");
    EXPECT_EQ(bad.status, 400u);
    auto bad_user = c.get("/thoughts/stream/not-a-user");
    EXPECT_EQ(bad_user.status, 422u);
  }

  // -- caps: per user (3) and per node (4) ------------------------------------
  {
    dt::sse_reader s2{port_b, "/thoughts/stream/" + user};
    dt::sse_reader s3{port_b, "/thoughts/stream/" + user};
    ASSERT_EQ(s2.reply().status, 200u);
    ASSERT_EQ(s3.reply().status, 200u);
    ASSERT_TRUE(s3.next(30s)); // admitted and synced
    dt::sse_reader over_user{port_b, "/thoughts/stream/" + user};
    EXPECT_EQ(over_user.reply().status, 503u);
    EXPECT_EQ(over_user.reply().header("retry-after"), "5");
    auto other = distiller::make_uuid();
    dt::sse_reader s4{port_b, "/thoughts/stream/" + other};
    ASSERT_EQ(s4.reply().status, 200u);
    dt::sse_reader over_node{port_b,
                             "/thoughts/stream/" + distiller::make_uuid()};
    EXPECT_EQ(over_node.reply().status, 503u);
    EXPECT_FALSE(over_node.reply().header("retry-after").empty());
  }
  ASSERT_TRUE(dt::wait_until(
      [&] { return metric(port_b, "distiller_sse_connections ") <= 1.0; }, 10s,
      50ms))
      << "closed streams must free their slots";

  // -- a client that stops reading is dropped; the others go on
  // -----------------
  auto busy = distiller::make_uuid();
  auto stalled =
      std::make_unique<stalled_client>(port_b, "/thoughts/stream/" + busy);
  dt::sse_reader fast{port_b, "/thoughts/stream/" + busy};
  ASSERT_TRUE(fast.next(30s)); // ready
  std::string long_text;
  while (long_text.size() < 9000)
    long_text += "The harbour lanterns flicker while the ferries wait. ";
  constexpr int thoughts = 40;
  for (int i = 0; i < thoughts; ++i)
    submit(port_a, busy, std::to_string(i) + " " + long_text);
  std::vector<double> latency_ms;
  int completed = 0;
  uint64_t last = 0;
  while (completed < thoughts) {
    auto e = fast.next(60s);
    ASSERT_TRUE(e) << "the reading client stalled after " << completed;
    ASSERT_FALSE(e->id.empty()) << e->event << " " << e->data;
    auto seq = std::stoull(e->id);
    EXPECT_EQ(seq, last + 1) << "a gap or a repeat";
    last = seq;
    auto d = json::parse(e->data).as_object();
    auto sent = distiller::rfc3339_to_us(d.at("time").as_string());
    latency_ms.push_back(static_cast<double>(distiller::now_us() - sent) /
                         1000.0);
    if (e->event == "thought_completed")
      ++completed;
  }
  EXPECT_TRUE(dt::wait_until(
      [&] {
        return metric(port_b, "distiller_sse_slow_disconnects_total{") >= 1;
      },
      30s, 100ms))
      << "the stalled client was not disconnected";
  // The reading client was not (it is still open and gets the next event).
  auto one_more = submit(port_a, busy, "And one more.");
  bool seen = false;
  while (!seen) {
    auto e = fast.next(60s);
    ASSERT_TRUE(e) << "the reading client lost its stream";
    seen = e->event == "thought_completed" &&
           json::parse(e->data).at("thought_id").as_string() == one_more;
  }
  std::sort(latency_ms.begin(), latency_ms.end());
  std::printf("reading client: %zu events, publish->receive p50 %.1f ms, "
              "p99 %.1f ms (while another client stalled)\n",
              latency_ms.size(), latency_ms[latency_ms.size() / 2],
              latency_ms[latency_ms.size() * 99 / 100]);
  stalled.reset();
  b.child().signal(SIGINT);
  EXPECT_EQ(b.child().wait(60s), 0) << b.child().err();
  a.child().signal(SIGINT);
  EXPECT_EQ(a.child().wait(60s), 0) << a.child().err();
}
