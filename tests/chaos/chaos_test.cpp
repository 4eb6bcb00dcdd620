// The chaos suite: whole nodes under steady load while something breaks —
// the node killed with SIGKILL, its PostgreSQL killed, the Kafka brokers
// down and answering with errors, a second node started on the same data
// directory — and afterwards the books are checked: every request that got
// a 202 finished exactly once (jobs completed with every chunk indexed once;
// thoughts completed in each user's submission order, each event once).
// Each scenario prints one `chaos:` line with its figures (docs/reliability.md
// keeps the last run's). CHAOS_SECONDS (default 12) sets how long each
// scenario's load runs; `scripts/chaos` runs them longer.

#include <gtest/gtest.h>

#include <signal.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <boost/json.hpp>
#include <pqxx/pqxx>

#include "actors/node/node.hpp"
#include "bridges/embedded/kafka_cluster.hpp"
#include "runtime/core/ids.hpp"
#include "tests/support/document_client.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/testing.hpp"

namespace {

using namespace std::chrono_literals;
namespace dt = distiller::testing;
namespace json = boost::json;
namespace fs = std::filesystem;
using steady = std::chrono::steady_clock;

double secs(steady::duration d) {
  return std::chrono::duration<double>(d).count();
}

std::chrono::milliseconds load_time() {
  if (auto* v = std::getenv("CHAOS_SECONDS"); v && std::atoi(v) > 0)
    return std::chrono::seconds{std::atoi(v)};
  return 12s;
}

std::string catalog() {
  return (dt::source_dir() / "config" / "topics.toml").string();
}

/// A paragraph of its own for upload `n` (distinct content, a few chunks).
std::string document_text(int n) {
  std::string text;
  for (int p = 0; p < 6; ++p)
    text += "Record " + std::to_string(n) + " paragraph " + std::to_string(p) +
            ": the harbour crane lifted container " +
            std::to_string(n * 31 + p) +
            " while the tide turned and the pilot boat waited offshore. " +
            std::string(180, 'a' + static_cast<char>((n + p) % 26)) + "\n\n";
  return text;
}

/// `distiller up` in `dir` as a child process.
class node_process {
 public:
  node_process(const fs::path& dir, std::vector<std::string> extra = {})
      : dir_(dir), extra_(std::move(extra)) {}

  /// Starts it; returns once this process answers /ready (0: it did not).
  uint16_t start() {
    std::vector<std::string> argv{dt::distiller_binary(),
                                  "up",
                                  "--port",
                                  "0",
                                  "--name",
                                  "chaos",
                                  "--data-dir",
                                  dir_.string(),
                                  "--set",
                                  "kafka.catalog=" + catalog()};
    for (auto& e : extra_) {
      argv.push_back("--set");
      argv.push_back(e);
    }
    child_ = std::make_unique<dt::child_process>(argv);
    uint16_t port = 0;
    bool up = dt::wait_until(
        [&] {
          if (!child_->running())
            return true;
          boost::system::error_code ec;
          auto doc = json::parse(dt::read_file(dir_ / "node.json"), ec);
          if (ec || !doc.is_object() ||
              doc.as_object().at("pid").as_int64() != child_->pid())
            return false;
          port =
              static_cast<uint16_t>(doc.as_object().at("http_port").as_int64());
          try {
            return dt::http_client{port}.get("/ready").status == 200;
          } catch (const std::exception&) {
            return false;
          }
        },
        180s, 50ms);
    EXPECT_TRUE(up && child_->running()) << child_->err();
    port_ = up && child_->running() ? port : 0;
    return port_;
  }

  void kill9() {
    child_->signal(SIGKILL);
    child_->wait(30s);
  }

  void stop() {
    if (child_ && child_->running()) {
      child_->signal(SIGTERM);
      EXPECT_EQ(child_->wait(60s), 0) << child_->err();
    }
  }

  std::string dsn() const {
    return "host=" + (dir_ / "run").string() +
           " port=5432 dbname=distiller user=postgres";
  }

  pid_t postmaster() const {
    return static_cast<pid_t>(
        std::atoi(dt::read_file(dir_ / "pg" / "postmaster.pid").c_str()));
  }

  uint16_t port() const { return port_; }

  /// A postmaster left by a SIGKILLed node.
  ~node_process() {
    stop();
    std::error_code ec;
    if (!fs::exists(dir_ / "pg" / "postmaster.pid", ec))
      return;
    auto pid = postmaster();
    if (pid > 0 && ::kill(pid, SIGQUIT) == 0)
      dt::wait_until([pid] { return ::kill(pid, 0) != 0; }, 30s);
  }

 private:
  fs::path dir_;
  std::vector<std::string> extra_;
  std::unique_ptr<dt::child_process> child_;
  uint16_t port_ = 0;
};

int64_t scalar(const std::string& dsn, const std::string& sql) {
  pqxx::connection c{dsn};
  pqxx::nontransaction tx{c};
  return tx.exec1(sql)[0].as<int64_t>();
}

/// Uploads at a steady pace from two threads to whatever port `port` holds
/// (0: the node is down, the attempt counts as refused).
class upload_load {
 public:
  explicit upload_load(std::atomic<uint16_t>& port, double per_second = 10)
      : port_(port), every_(std::chrono::duration_cast<steady::duration>(
                         std::chrono::duration<double>(2.0 / per_second))) {}

  void start() {
    for (int t = 0; t < 2; ++t)
      threads_.emplace_back([this, t] { run(t); });
  }

  void stop() {
    stop_ = true;
    for (auto& t : threads_)
      t.join();
    threads_.clear();
  }

  ~upload_load() {
    if (!threads_.empty())
      stop();
  }

  std::vector<std::string> accepted() const {
    std::lock_guard<std::mutex> g{mtx_};
    return accepted_;
  }
  int refused() const { return refused_; }
  int unreachable() const { return unreachable_; }
  /// The slowest answer other than 202 (a refusal must be fast).
  double slowest_refusal_s() const {
    std::lock_guard<std::mutex> g{mtx_};
    return slowest_refusal_;
  }

 private:
  void run(int t) {
    auto next = steady::now();
    for (int i = 0; !stop_; ++i) {
      next += every_;
      std::this_thread::sleep_until(next); // pacing, not synchronisation
      auto port = port_.load();
      if (port == 0) {
        ++unreachable_;
        continue;
      }
      int n = ++sent_;
      auto t0 = steady::now();
      try {
        dt::document_client c{port};
        auto r = c.upload("chaos-" + std::to_string(t) + "-" +
                              std::to_string(i) + ".txt",
                          document_text(n), "text/plain");
        std::lock_guard<std::mutex> g{mtx_};
        if (r.status == 202) {
          accepted_.emplace_back(r.json().at("job_id").as_string());
        } else {
          ++refused_;
          slowest_refusal_ =
              std::max(slowest_refusal_, secs(steady::now() - t0));
        }
      } catch (const std::exception&) {
        ++unreachable_; // connection refused or reset: the node is down
      }
    }
  }

  std::atomic<uint16_t>& port_;
  steady::duration every_;
  std::atomic<bool> stop_{false};
  std::atomic<int> sent_{0}, refused_{0}, unreachable_{0};
  mutable std::mutex mtx_;
  std::vector<std::string> accepted_;
  double slowest_refusal_ = 0;
  std::vector<std::thread> threads_;
};

/// A node in a directory of its own with the upload load running on it
/// (members end in reverse: the load stops before the node).
struct loaded_node {
  explicit loaded_node(const char* dir_name)
      : dir{dir_name}, node{dir.path()}, port{node.start()}, load{port} {
    if (port.load() != 0)
      load.start();
  }

  dt::temp_dir dir;
  node_process node;
  std::atomic<uint16_t> port;
  upload_load load;
};

/// The books of the document pipeline after a run: every accepted job
/// completed, every chunk row once, the index holding each chunk once.
struct document_books {
  int64_t accepted = 0, jobs = 0, completed = 0, not_final = 0, failed = 0,
          chunks = 0, expected_chunks = 0, indexed = -1;
};

document_books check_books(const std::string& dsn, uint16_t port,
                           const std::vector<std::string>& accepted) {
  document_books b;
  b.accepted = static_cast<int64_t>(accepted.size());
  b.jobs = scalar(dsn, "SELECT count(*) FROM document_jobs");
  b.completed = scalar(
      dsn, "SELECT count(*) FROM document_jobs WHERE status = 'completed'");
  b.failed =
      scalar(dsn, "SELECT count(*) FROM document_jobs WHERE status = 'failed'");
  b.not_final = b.jobs - b.completed - b.failed;
  b.chunks = scalar(dsn, "SELECT count(*) FROM document_chunks");
  b.expected_chunks =
      scalar(dsn, "SELECT coalesce(sum(total_chunks), 0) FROM document_jobs");
  // Every job the clients were promised is in the table.
  std::set<std::string> known;
  {
    pqxx::connection c{dsn};
    pqxx::nontransaction tx{c};
    for (auto row : tx.exec("SELECT job_id::text FROM document_jobs"))
      known.insert(row[0].as<std::string>());
  }
  for (auto& id : accepted)
    EXPECT_TRUE(known.count(id)) << "accepted job " << id << " was lost";
  // The dense index: one entry per chunk (a replayed record adds nothing).
  // It follows chunk-embedded, so it may trail the jobs' final status a
  // little (under ASan on a busy machine, more than 30 s): wait until it
  // holds every chunk, then count once more.
  auto indexed = [&] {
    auto metrics = dt::http_client{port}.get("/metrics").body;
    auto at = metrics.find("distiller_index_entries{index=\"dense\"}");
    if (at == std::string::npos)
      return int64_t{-1};
    return static_cast<int64_t>(
        std::atof(metrics.c_str() + metrics.find(' ', at) + 1));
  };
  dt::wait_until([&] { return indexed() >= b.chunks; }, 120s, 50ms);
  b.indexed = indexed();
  return b;
}

void expect_clean(const document_books& b) {
  EXPECT_EQ(b.jobs, b.accepted) << "jobs nobody was promised, or lost ones";
  EXPECT_EQ(b.completed, b.accepted);
  EXPECT_EQ(b.failed, 0);
  EXPECT_EQ(b.chunks, b.expected_chunks);
  EXPECT_EQ(b.indexed, b.chunks) << "a chunk indexed twice or not at all";
}

bool all_final(const std::string& dsn, std::chrono::milliseconds timeout) {
  return dt::wait_until(
      [&] {
        return scalar(dsn, "SELECT count(*) FROM document_jobs WHERE status "
                           "NOT IN ('completed', 'failed')") == 0;
      },
      timeout, 100ms);
}

} // namespace

TEST(chaos, node_killed_mid_load_loses_and_repeats_nothing) {
  loaded_node run{"distiller-chaos-kill"};
  auto& [dir, node, port, load] = run;
  ASSERT_NE(port.load(), 0);
  auto half = load_time() / 2;
  std::this_thread::sleep_for(half); // load runs meanwhile
  port = 0;
  auto killed = steady::now();
  node.kill9();
  auto restarted = node.start();
  ASSERT_NE(restarted, 0);
  auto ready = steady::now();
  port = restarted;
  std::this_thread::sleep_for(half);
  load.stop();
  auto stopped = steady::now();
  ASSERT_TRUE(all_final(node.dsn(), 120s)) << "jobs still in flight";
  auto drained = steady::now();
  auto b = check_books(node.dsn(), restarted, load.accepted());
  std::printf("chaos: kill -9 mid-load: %lld accepted, %lld completed, "
              "%lld lost, %lld duplicated chunks, %lld refused while down; "
              "down → ready %.1f s, load end → all final %.1f s\n",
              static_cast<long long>(b.accepted),
              static_cast<long long>(b.completed),
              static_cast<long long>(b.accepted - b.completed),
              static_cast<long long>(b.indexed - b.chunks),
              static_cast<long long>(load.unreachable() + load.refused()),
              secs(ready - killed), secs(drained - stopped));
  expect_clean(b);
  EXPECT_GT(b.accepted, 10);
}

TEST(chaos, postgres_killed_under_load_fails_fast_and_heals) {
  loaded_node run{"distiller-chaos-pg"};
  auto& [dir, node, port, load] = run;
  ASSERT_NE(port.load(), 0);
  std::this_thread::sleep_for(load_time() / 3);
  auto old = node.postmaster();
  ASSERT_GT(old, 0);
  auto killed = steady::now();
  ASSERT_EQ(::kill(old, SIGKILL), 0);
  // The node's keeper starts a new postmaster; the node is ready again.
  bool healed = dt::wait_until(
      [&] {
        try {
          auto pid = node.postmaster();
          return pid > 0 && pid != old &&
                 dt::http_client{port}.get("/ready").status == 200;
        } catch (const std::exception&) {
          return false;
        }
      },
      60s, 50ms);
  auto back = steady::now();
  ASSERT_TRUE(healed) << "the node did not restart its PostgreSQL";
  std::this_thread::sleep_for(load_time() / 3);
  load.stop();
  ASSERT_TRUE(all_final(node.dsn(), 120s)) << "jobs still in flight";
  auto b = check_books(node.dsn(), port, load.accepted());
  std::printf("chaos: PostgreSQL SIGKILL under load: %lld accepted, %lld "
              "completed, %lld lost, %d refused (503) — slowest refusal "
              "%.3f s; killed → ready again %.1f s\n",
              static_cast<long long>(b.accepted),
              static_cast<long long>(b.completed),
              static_cast<long long>(b.accepted - b.completed), load.refused(),
              load.slowest_refusal_s(), secs(back - killed));
  expect_clean(b);
  // Known down means an answer at once, not a wait behind a connect.
  EXPECT_LT(load.slowest_refusal_s(), 1.0);
}

TEST(chaos, a_second_node_on_the_same_directory_changes_nothing) {
  loaded_node run{"distiller-chaos-second"};
  auto& [dir, node, port, load] = run;
  ASSERT_NE(port.load(), 0);
  std::this_thread::sleep_for(load_time() / 3);
  auto t0 = steady::now();
  auto second = dt::run_process({dt::distiller_binary(), "up", "--port", "0",
                                 "--data-dir", dir.path().string(), "--set",
                                 "kafka.catalog=" + catalog()},
                                {}, 60s);
  auto took = secs(steady::now() - t0);
  EXPECT_EQ(second.exit_code, 2) << second.err;
  EXPECT_NE(second.err.find("pid"), std::string::npos) << second.err;
  std::this_thread::sleep_for(load_time() / 3);
  load.stop();
  ASSERT_TRUE(all_final(node.dsn(), 120s));
  auto b = check_books(node.dsn(), port, load.accepted());
  std::printf("chaos: second node on the same directory: refused in %.2f s "
              "(exit %d); the first served %lld uploads, %d refused, %lld "
              "lost\n",
              took, second.exit_code, static_cast<long long>(b.accepted),
              load.refused() + load.unreachable(),
              static_cast<long long>(b.accepted - b.completed));
  expect_clean(b);
  EXPECT_EQ(load.refused() + load.unreachable(), 0);
  EXPECT_EQ(dt::http_client{port}.get("/ready").status, 200u);
}

TEST(chaos, broker_faults_keep_every_thought_once_and_in_order) {
  dt::temp_dir dir{"distiller-chaos-kafka"};
  namespace node = distiller::node;
  node::node_config cfg;
  cfg.runtime.node.name = "chaos-kafka";
  cfg.runtime.node.data_dir = dir.path().string();
  cfg.kafka.catalog = catalog();
  cfg.http.port = 0;
  node::resolve_paths(cfg);
  node::node n{cfg};
  n.start();
  auto* mock = n.kafka_mock()->mock();
  const int brokers = n.config().kafka.embedded_brokers;

  constexpr int users = 20;
  std::vector<std::string> ids;
  for (int u = 0; u < users; ++u)
    ids.push_back(distiller::make_uuid());
  std::map<std::string, std::vector<std::string>> submitted;
  std::mutex mtx;
  std::atomic<bool> stop{false};
  std::atomic<int> refused{0};
  // One submitter: a user's order is the order it sends in.
  std::thread submitter{[&] {
    dt::http_client c{n.http_port()};
    auto next = steady::now();
    for (int k = 0; !stop; ++k) {
      next += 50ms;
      std::this_thread::sleep_until(next); // pacing: 20 thoughts a second
      auto& user = ids[static_cast<size_t>(k % users)];
      auto r = c.post("/thoughts",
                      json::serialize(json::object{
                          {"text", "thought " + std::to_string(k) +
                                       ": call the harbour master before the "
                                       "tide, and what about the crane?"},
                          {"user_id", user}}));
      if (r.status != 202) {
        ++refused;
        continue;
      }
      std::lock_guard<std::mutex> g{mtx};
      submitted[user].push_back(
          std::string{r.json().at("thought_id").as_string()});
    }
  }};
  auto third = load_time() / 3;
  std::this_thread::sleep_for(third);
  // Request errors first: produce and fetch answered with retriable errors.
  constexpr int16_t produce = 0, fetch = 1;
  for (int i = 0; i < 5; ++i) {
    rd_kafka_mock_push_request_errors(
        mock, produce, 3, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
        RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
        RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS);
    rd_kafka_mock_push_request_errors(
        mock, fetch, 2, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
        RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT);
  }
  std::this_thread::sleep_for(third / 2);
  // Then every broker away for a while, and back.
  auto down = steady::now();
  for (int32_t id = 1; id <= brokers; ++id)
    ASSERT_EQ(rd_kafka_mock_broker_set_down(mock, id),
              RD_KAFKA_RESP_ERR_NO_ERROR);
  std::this_thread::sleep_for(3s);
  for (int32_t id = 1; id <= brokers; ++id)
    ASSERT_EQ(rd_kafka_mock_broker_set_up(mock, id),
              RD_KAFKA_RESP_ERR_NO_ERROR);
  auto up = steady::now();
  std::this_thread::sleep_for(third);
  stop = true;
  submitter.join();
  auto stopped = steady::now();
  auto dsn = n.pg_dsn();
  ASSERT_TRUE(dt::wait_until(
      [&] {
        return scalar(dsn, "SELECT count(*) FROM thoughts WHERE status IN "
                           "('pending', 'processing')") == 0;
      },
      180s, 100ms))
      << "thoughts still running";
  auto drained = steady::now();
  size_t total = 0;
  pqxx::connection c{dsn};
  for (auto& [user, tids] : submitted) {
    total += tids.size();
    pqxx::nontransaction tx{c};
    auto rows = tx.exec_params(
        "SELECT thought_id::text, type FROM thought_events WHERE user_id = "
        "$1 AND type IN ('thought_processing', 'thought_completed') ORDER BY "
        "seq",
        user);
    std::vector<std::string> order, expected;
    for (const auto& r : rows)
      order.push_back(r[1].as<std::string>() + ":" + r[0].as<std::string>());
    for (auto& id : tids) {
      expected.push_back("thought_processing:" + id);
      expected.push_back("thought_completed:" + id);
    }
    EXPECT_EQ(order, expected) << "user " << user;
  }
  auto completed = scalar(dsn, "SELECT count(*) FROM thoughts WHERE status = "
                               "'completed' AND agents_completed = 5");
  auto gaps = scalar(dsn, "SELECT count(*) FROM (SELECT user_id FROM "
                          "thought_events GROUP BY user_id HAVING max(seq) "
                          "<> count(*)) x");
  auto events = scalar(dsn, "SELECT count(*) FROM thought_events");
  std::printf("chaos: Kafka request errors + brokers down %.1f s: %zu "
              "thoughts accepted (%d refused), %lld completed, %lld users "
              "with a gap, %lld events (%zu expected); load end → all final "
              "%.1f s\n",
              secs(up - down), total, refused.load(),
              static_cast<long long>(completed), static_cast<long long>(gaps),
              static_cast<long long>(events), total * 8,
              secs(drained - stopped));
  EXPECT_EQ(completed, static_cast<int64_t>(total));
  EXPECT_EQ(gaps, 0);
  EXPECT_EQ(events, static_cast<int64_t>(total * 8));
  EXPECT_EQ(refused.load(), 0) << "the outbox takes thoughts while Kafka is "
                                  "down";
  EXPECT_GT(total, 20u);
  n.stop();
}
