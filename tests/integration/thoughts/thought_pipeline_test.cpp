// The thought pipeline inside one in-process node (embedded Kafka, private
// PostgreSQL, HTTP on a free port), with the built-in agents wrapped to add
// random delays, failures and call counts: per-user order under load, each
// agent once, retries with backoff, dead letters, and submissions while
// every broker is down.

#include <gtest/gtest.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include <boost/json.hpp>
#include <pqxx/pqxx>

#include "actors/node/node.hpp"
#include "actors/thoughts/agents/builtin.hpp"
#include "actors/thoughts/records.hpp"
#include "bridges/embedded/kafka_cluster.hpp"
#include "runtime/core/ids.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/kafka_reader.hpp"
#include "tests/support/testing.hpp"

namespace {

using namespace std::chrono_literals;
namespace dt = distiller::testing;
namespace node = distiller::node;
namespace th = distiller::thoughts;
namespace json = boost::json;

/// What the wrapped agents do and saw.
struct agent_lab {
  std::mutex mtx;
  /// (thought text, agent) → calls.
  std::map<std::pair<std::string, std::string>, int> calls;
  /// Largest random delay per call (0: none).
  std::chrono::microseconds max_delay{0};
  std::mt19937 rng{7};
  /// Texts containing "flaky" fail this many times in analyse, then work.
  int flaky_failures = 2;
  std::map<std::string, int> flaky_seen;

  std::chrono::microseconds delay() {
    std::lock_guard<std::mutex> guard{mtx};
    if (max_delay.count() == 0)
      return max_delay;
    std::uniform_int_distribution<long> d{0, max_delay.count()};
    return std::chrono::microseconds{d(rng)};
  }
};

/// A built-in agent with the lab's delays and failures.
class lab_agent : public th::agent {
 public:
  lab_agent(th::agent_kind k, agent_lab& lab)
      : inner_(th::make_builtin_agent(k)), lab_(lab) {}

  th::agent_kind kind() const noexcept override { return inner_->kind(); }
  std::string backend() const override { return "builtin"; }

  boost::json::object run(const th::agent_input& in) const override {
    std::string name{th::agent_name(kind())};
    {
      std::lock_guard<std::mutex> guard{lab_.mtx};
      ++lab_.calls[{in.text, name}];
      if (kind() == th::agent_kind::analyse &&
          in.text.find("flaky") != std::string::npos &&
          lab_.flaky_seen[in.text]++ < lab_.flaky_failures)
        throw th::agent_error("the analysis service hiccuped", true);
      if (kind() == th::agent_kind::value &&
          in.text.find("doomed") != std::string::npos)
        throw th::agent_error("the value model is down", true);
    }
    if (auto d = lab_.delay(); d.count() > 0)
      std::this_thread::sleep_for(d);
    return inner_->run(in);
  }

 private:
  th::agent_ptr inner_;
  agent_lab& lab_;
};

class thought_node : public ::testing::Test {
 protected:
  dt::temp_dir dir{"distiller-thoughts"};
  agent_lab lab;
  std::unique_ptr<node::node> n;

  void start(int workers = 4,
             std::chrono::milliseconds delivery_timeout = 30s) {
    node::node_config cfg;
    cfg.kafka.delivery_timeout = delivery_timeout;
    cfg.runtime.node.name = "thought-test";
    cfg.runtime.node.data_dir = dir.path().string();
    cfg.kafka.catalog = (dt::source_dir() / "config" / "topics.toml").string();
    cfg.http.port = 0;
    cfg.thoughts.workers = workers;
    cfg.thoughts.retry_backoff = 100ms;
    node::resolve_paths(cfg);
    node::node_hooks hooks;
    hooks.make_agent = [this](th::agent_kind k) {
      return std::make_shared<lab_agent>(k, lab);
    };
    n = std::make_unique<node::node>(cfg, hooks);
    n->start();
  }

  void TearDown() override {
    if (n)
      n->stop();
  }

  int64_t scalar(const std::string& sql) {
    pqxx::connection c{n->pg_dsn()};
    pqxx::nontransaction tx{c};
    return tx.exec1(sql)[0].as<int64_t>();
  }

  /// POST /thoughts; returns the thought id.
  std::string submit(dt::http_client& c, const std::string& user,
                     const std::string& text) {
    auto r = c.post("/thoughts", json::serialize(json::object{
                                     {"text", text}, {"user_id", user}}));
    EXPECT_EQ(r.status, 202u) << r.body;
    auto o = json::parse(r.body).as_object();
    EXPECT_EQ(o.at("status").as_string(), "pending");
    EXPECT_EQ(o.at("message").as_string(), "Processing started");
    return std::string{o.at("thought_id").as_string()};
  }

  json::object thought(const std::string& id) {
    dt::http_client c{n->http_port()};
    auto r = c.get("/thoughts/" + id);
    EXPECT_EQ(r.status, 200u) << r.body;
    return json::parse(r.body).as_object();
  }

  /// Waits until no thought is pending or processing.
  bool wait_all_final(std::chrono::milliseconds timeout) {
    return dt::wait_until(
        [&] {
          return scalar("SELECT count(*) FROM thoughts WHERE status IN "
                        "('pending', 'processing')") == 0;
        },
        timeout, 100ms);
  }

  void set_brokers(bool up) {
    auto* mock = n->kafka_mock()->mock();
    for (int32_t id = 1; id <= n->config().kafka.embedded_brokers; ++id) {
      auto err = up ? rd_kafka_mock_broker_set_up(mock, id)
                    : rd_kafka_mock_broker_set_down(mock, id);
      ASSERT_EQ(err, RD_KAFKA_RESP_ERR_NO_ERROR) << id;
    }
  }
};

} // namespace

TEST_F(thought_node, many_users_keep_submission_order_and_run_each_agent_once) {
  lab.max_delay = 2000us;
  start();
  constexpr int users = 200;
  constexpr int per_user = 5;
  std::vector<std::string> user_ids;
  for (int u = 0; u < users; ++u)
    user_ids.push_back(distiller::make_uuid());
  // Users interleaved; each user's thoughts in order. Two submitters, each
  // owning half the users, so a user's order is its submitter's order.
  std::map<std::string, std::vector<std::string>> submitted;
  std::mutex mtx;
  auto submitter = [&](int half) {
    dt::http_client c{n->http_port()};
    for (int k = 0; k < per_user; ++k)
      for (int u = half; u < users; u += 2) {
        auto text = "user " + std::to_string(u) + " thought " +
                    std::to_string(k) +
                    ": I need to call the dentist by Friday, but what if "
                    "we painted the fence first?";
        auto id = submit(c, user_ids[u], text);
        std::lock_guard<std::mutex> guard{mtx};
        submitted[user_ids[u]].push_back(id);
      }
  };
  std::thread a{submitter, 0}, b{submitter, 1};
  a.join();
  b.join();
  ASSERT_TRUE(wait_all_final(180s)) << "thoughts still running";
  EXPECT_EQ(scalar("SELECT count(*) FROM thoughts WHERE status = "
                   "'completed' AND agents_completed = 5 AND "
                   "summary IS NOT NULL"),
            users * per_user);
  pqxx::connection c{n->pg_dsn()};
  for (auto& [user, ids] : submitted) {
    // Per user: thought k+1 started (thought_processing) only after thought
    // k completed (thought_completed) — the events are numbered in commit
    // order per user.
    pqxx::nontransaction tx{c};
    auto rows =
        tx.exec_params("SELECT thought_id::text, type, seq FROM thought_events"
                       " WHERE user_id = $1 AND type IN ('thought_processing',"
                       " 'thought_completed') ORDER BY seq",
                       user);
    std::vector<std::string> order;
    for (const auto& r : rows)
      order.push_back(r[1].as<std::string>() + ":" + r[0].as<std::string>());
    std::vector<std::string> expected;
    for (auto& id : ids) {
      expected.push_back("thought_processing:" + id);
      expected.push_back("thought_completed:" + id);
    }
    ASSERT_EQ(order, expected) << "user " << user;
  }
  // Each agent ran exactly once per thought.
  std::lock_guard<std::mutex> guard{lab.mtx};
  EXPECT_EQ(lab.calls.size(), size_t{users * per_user * 5});
  for (auto& [key, calls] : lab.calls)
    ASSERT_EQ(calls, 1) << key.first << " / " << key.second;
  // Every user's events are numbered 1..n without a gap.
  EXPECT_EQ(scalar("SELECT count(*) FROM (SELECT user_id FROM thought_events"
                   " GROUP BY user_id HAVING max(seq) <> count(*)) x"),
            0);
  EXPECT_EQ(scalar("SELECT count(*) FROM thought_events"),
            users * per_user * 8);
}

TEST_F(thought_node, an_agent_that_fails_twice_then_works_completes_in_three) {
  start(2);
  dt::http_client c{n->http_port()};
  auto user = distiller::make_uuid();
  auto id = submit(c, user, "A flaky thought about the garden.");
  auto next = submit(c, user, "Then water the tomatoes.");
  ASSERT_TRUE(wait_all_final(60s));
  auto t = thought(id);
  EXPECT_EQ(t.at("status").as_string(), "completed");
  EXPECT_EQ(t.at("attempts").as_int64(), 3);
  EXPECT_EQ(t.at("agents_completed").as_int64(), 5);
  EXPECT_TRUE(t.at("error").is_null());
  EXPECT_EQ(thought(next).at("status").as_string(), "completed");
  // classify ran once (its result was kept across the retries), analyse
  // three times, the rest once.
  std::lock_guard<std::mutex> guard{lab.mtx};
  auto text = std::string{"A flaky thought about the garden."};
  EXPECT_EQ((lab.calls[{text, "classify"}]), 1);
  EXPECT_EQ((lab.calls[{text, "analyse"}]), 3);
  EXPECT_EQ((lab.calls[{text, "summarise"}]), 1);
  // Three attempts were announced.
  EXPECT_EQ(scalar("SELECT count(*) FROM thought_events WHERE thought_id = '" +
                   id + "' AND type = 'thought_processing'"),
            3);
}

TEST_F(thought_node, a_thought_that_always_fails_is_dead_lettered) {
  start(2);
  dt::http_client c{n->http_port()};
  auto user = distiller::make_uuid();
  auto doomed = submit(c, user, "This doomed thought cannot be valued.");
  auto after = submit(c, user, "But this one is fine.");
  ASSERT_TRUE(wait_all_final(60s));
  auto t = thought(doomed);
  EXPECT_EQ(t.at("status").as_string(), "failed");
  EXPECT_EQ(t.at("attempts").as_int64(), 3);
  EXPECT_EQ(t.at("agents_completed").as_int64(), 2);
  auto error = std::string{t.at("error").as_string()};
  EXPECT_NE(error.find("value failed"), std::string::npos) << error;
  EXPECT_NE(error.find("value model is down"), std::string::npos) << error;
  // The user's next thought went on.
  EXPECT_EQ(thought(after).at("status").as_string(), "completed");
  EXPECT_EQ(scalar("SELECT count(*) FROM thought_events WHERE thought_id = '" +
                   doomed + "' AND type = 'thought_failed'"),
            1);
  // One dead letter with the standard headers.
  auto dead =
      dt::read_back(n->kafka_bootstrap(), "thought-processing.dlq", 3, 1, 30s);
  ASSERT_EQ(dead.size(), 1u);
  auto& d = dead[0];
  EXPECT_EQ(d.key, user);
  EXPECT_EQ(th::decode_thought_created(d.value).thought_id, doomed);
  EXPECT_EQ(d.header("x-origin-topic"), "thought-processing");
  EXPECT_TRUE(d.header("x-origin-partition").has_value());
  EXPECT_TRUE(d.header("x-origin-offset").has_value());
  EXPECT_TRUE(d.header("x-attempts").has_value());
  auto why = std::string{d.header("x-error").value_or("")};
  EXPECT_NE(why.find("value failed"), std::string::npos) << why;
  EXPECT_TRUE(d.header("x-trace-id").has_value());
}

TEST_F(thought_node, submissions_while_kafka_is_down_complete_when_it_returns) {
  // kafka.delivery_timeout = 5s: the relay's produce fails after 5 s, not
  // the default 30 s.
  start(2, 5s);
  dt::http_client c{n->http_port()};
  auto warm = submit(c, distiller::make_uuid(), "Warm up the agents.");
  ASSERT_TRUE(wait_all_final(60s));
  ASSERT_EQ(thought(warm).at("status").as_string(), "completed");
  set_brokers(false);
  auto user = distiller::make_uuid();
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i)
    ids.push_back(submit(c, user, "Outage thought " + std::to_string(i)));
  EXPECT_EQ(thought(ids[0]).at("status").as_string(), "pending");
  EXPECT_TRUE(dt::wait_until(
      [&] {
        return scalar("SELECT count(*) FROM outbox WHERE sent_at IS NULL "
                      "AND attempts > 0") >= 1;
      },
      20s, 100ms))
      << "the relay should have tried and failed while Kafka is down, "
         "after kafka.delivery_timeout (5 s)";
  set_brokers(true);
  ASSERT_TRUE(wait_all_final(120s));
  for (auto& id : ids)
    EXPECT_EQ(thought(id).at("status").as_string(), "completed");
  EXPECT_EQ(scalar("SELECT count(*) FROM outbox WHERE sent_at IS NULL"), 0);
}
