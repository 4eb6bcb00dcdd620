// The thought store (actors/thoughts/thought_store.hpp) on a private
// PostgreSQL: submissions with their event and outbox rows, per-user event
// numbering without gaps (also under concurrent submissions), the
// idempotent processing steps, keyset pagination, replays and re-drives.

#include <gtest/gtest.h>

#include <mutex>

#include <condition_variable>

#include <set>
#include <thread>

#include <boost/json.hpp>
#include <pqxx/pqxx>

#include "actors/thoughts/processor.hpp"
#include "actors/thoughts/thought_store.hpp"
#include "bridges/embedded/pg_cluster.hpp"
#include "bridges/kafka/in_record.hpp"
#include "bridges/postgres/connection.hpp"
#include "bridges/postgres/migrations.hpp"
#include "runtime/core/ids.hpp"
#include "tests/support/private_pg.hpp"
#include "tests/support/testing.hpp"

using namespace std::chrono_literals;
namespace th = distiller::thoughts;
namespace dt = distiller::testing;
namespace pg = distiller::postgres;
namespace json = boost::json;
using distiller::make_uuid;
using distiller::embedded::pg_cluster;

namespace {

class thought_store_test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<dt::temp_dir>("distiller-thoughts");
    cluster_ = std::make_unique<pg_cluster>(dt::private_pg_config(dir_->path()),
                                            pg_cluster::options{true});
    cluster_->start();
  }

  static void TearDownTestSuite() {
    if (cluster_)
      cluster_->stop();
    cluster_.reset();
    dir_.reset();
  }

  void SetUp() override {
    static int next = 0;
    auto name = "thoughts_" + std::to_string(++next);
    {
      auto admin = pg::connect(cluster_->admin_dsn(), 10s);
      pqxx::nontransaction tx{*admin};
      tx.exec0("DROP DATABASE IF EXISTS " + admin->quote_name(name));
      tx.exec0("CREATE DATABASE " + admin->quote_name(name));
    }
    dsn_ = cluster_->dsn();
    dsn_.replace(dsn_.find("dbname=distiller"), 16, "dbname=" + name);
    conn_ = pg::connect(dsn_, 10s);
    pg::migrate(*conn_);
    th::thought_store_config cfg;
    cfg.dsn = dsn_;
    cfg.pool_size = 4;
    store_ = std::make_unique<th::thought_store>(cfg);
  }

  th::thought_store::created submit(const std::string& user,
                                    const std::string& text = "a thought") {
    return store_->create({make_uuid(), user, text, "trace-1"});
  }

  int64_t scalar(const std::string& sql) {
    pqxx::nontransaction tx{*conn_};
    return tx.exec1(sql)[0].as<int64_t>();
  }

  /// Runs a thought through all five steps.
  void complete(const std::string& id) {
    store_->begin({{id, 1}});
    for (int k = 1; k <= 5; ++k)
      store_->save_step(
          k, {{id, R"({"step":)" + std::to_string(k) + "}", "builtin", 0.5}});
  }

  static std::unique_ptr<dt::temp_dir> dir_;
  static std::unique_ptr<pg_cluster> cluster_;
  std::string dsn_;
  std::unique_ptr<pqxx::connection> conn_;
  std::unique_ptr<th::thought_store> store_;
};

std::unique_ptr<dt::temp_dir> thought_store_test::dir_;
std::unique_ptr<pg_cluster> thought_store_test::cluster_;

} // namespace

TEST_F(thought_store_test, a_submission_writes_thought_event_and_outbox_row) {
  auto user = make_uuid();
  auto c = submit(user, "call mum");
  EXPECT_EQ(c.thought.status, th::thought_status::pending);
  EXPECT_EQ(c.thought.user_id, user);
  EXPECT_EQ(c.thought.agents_completed, 0);
  EXPECT_EQ(c.thought.trace_id, "trace-1");
  EXPECT_EQ(c.event.type, "thought_created");
  EXPECT_EQ(c.event.seq, 1u);
  EXPECT_EQ(c.event.body.at("text").as_string(), "call mum");
  EXPECT_EQ(c.event.time, c.thought.created_at);
  pqxx::nontransaction tx{*conn_};
  auto rows = tx.exec("SELECT topic, convert_from(key, 'UTF8'),"
                      " convert_from(payload, 'UTF8'), headers->>'x-trace-id'"
                      " FROM outbox ORDER BY id");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0].as<std::string>(), "thought-processing");
  EXPECT_EQ(rows[0][1].as<std::string>(), user);
  // Built in SQL: the same record as encode(thought_created).
  auto created = th::decode_thought_created(rows[0][2].as<std::string>());
  EXPECT_EQ(created.thought_id, c.thought.thought_id);
  EXPECT_EQ(created.user_id, user);
  EXPECT_EQ(created.created_at, c.thought.created_at);
  EXPECT_EQ(created.trace_id, "trace-1");
  EXPECT_EQ(json::parse(rows[0][2].as<std::string>()).at("type").as_string(),
            "ThoughtCreated");
  EXPECT_EQ(rows[0][3].as<std::string>(), "trace-1");
  EXPECT_EQ(c.event.body.at("status").as_string(), "pending");
  EXPECT_EQ(c.event.body.at("created_at").as_string(), c.thought.created_at);
}

TEST_F(thought_store_test, each_user_numbers_its_events_without_gaps) {
  auto a = make_uuid(), b = make_uuid();
  auto a1 = submit(a);
  auto b1 = submit(b);
  auto a2 = submit(a);
  EXPECT_EQ(a1.event.seq, 1u);
  EXPECT_EQ(b1.event.seq, 1u);
  EXPECT_EQ(a2.event.seq, 2u);
  complete(a1.thought.thought_id); // processing + 5 agents + completed
  auto page = store_->events_after(a, 0, 100);
  ASSERT_EQ(page.events.size(), 9u);
  for (size_t i = 0; i < page.events.size(); ++i)
    EXPECT_EQ(page.events[i].seq, i + 1);
  EXPECT_EQ(page.head, 9u);
  EXPECT_EQ(page.oldest, 1u);
  EXPECT_EQ(page.events[2].type, "thought_processing");
  EXPECT_EQ(page.events[8].type, "thought_completed");
  EXPECT_EQ(store_->events_after(b, 0, 100).head, 1u);
}

TEST_F(thought_store_test,
       concurrent_submissions_of_one_user_get_distinct_seqs) {
  auto user = make_uuid();
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([&] {
      for (int i = 0; i < 10; ++i)
        submit(user);
    });
  for (auto& t : ts)
    t.join();
  auto page = store_->events_after(user, 0, 100);
  ASSERT_EQ(page.events.size(), 40u);
  for (size_t i = 0; i < 40; ++i)
    EXPECT_EQ(page.events[i].seq, i + 1);
  // The ThoughtCreated rows are in the outbox in the users' commit order:
  // the same order as the thought_created events.
  pqxx::nontransaction tx{*conn_};
  auto rows = tx.exec("SELECT convert_from(payload, 'UTF8') FROM outbox"
                      " WHERE topic = 'thought-processing' ORDER BY id");
  ASSERT_EQ(rows.size(), 40u);
  for (size_t i = 0; i < 40; ++i)
    EXPECT_EQ(
        th::decode_thought_created(rows[i][0].as<std::string>()).thought_id,
        page.events[i].thought_id)
        << i;
}

TEST_F(thought_store_test, steps_are_saved_once_and_in_order) {
  auto user = make_uuid();
  auto id = submit(user).thought.thought_id;
  // Not begun: a step changes nothing.
  EXPECT_TRUE(store_->save_step(1, {{id, "{}", "builtin", 1}}).empty());
  auto begun = store_->begin({{id, 1}});
  ASSERT_EQ(begun.size(), 1u);
  EXPECT_EQ(begun[0].body.at("attempt").as_int64(), 1);
  EXPECT_TRUE(store_->begin({{id, 1}}).empty()) << "the same attempt again";
  EXPECT_TRUE(store_->save_step(2, {{id, "{}", "builtin", 1}}).empty())
      << "step 2 before step 1";
  auto s1 = store_->save_step(1, {{id, R"({"category":"task"})", "m", 2.5}});
  ASSERT_EQ(s1.size(), 1u);
  EXPECT_EQ(s1[0].body.at("agent").as_string(), "classify");
  EXPECT_EQ(s1[0].body.at("result_name").as_string(), "classification");
  EXPECT_EQ(s1[0].body.at("step").as_int64(), 1);
  EXPECT_EQ(s1[0].body.at("total_steps").as_int64(), 5);
  EXPECT_EQ(s1[0].body.at("backend").as_string(), "m");
  EXPECT_EQ(s1[0].body.at("result").at("category").as_string(), "task");
  EXPECT_TRUE(store_->save_step(1, {{id, "{}", "m", 1}}).empty())
      << "a redelivered step 1";
  for (int k = 2; k <= 4; ++k)
    ASSERT_EQ(store_->save_step(k, {{id, "{}", "m", 1}}).size(), 1u);
  auto last = store_->save_step(5, {{id, R"({"title":"T"})", "m", 1}});
  ASSERT_EQ(last.size(), 2u);
  EXPECT_EQ(last[0].type, "thought_agent_completed");
  EXPECT_EQ(last[1].type, "thought_completed");
  EXPECT_EQ(last[1].seq, last[0].seq + 1);
  auto& t = last[1].body.at("thought").as_object();
  EXPECT_EQ(t.at("status").as_string(), "completed");
  EXPECT_EQ(t.at("summary").at("title").as_string(), "T");
  auto row = store_->get(id);
  ASSERT_TRUE(row);
  EXPECT_EQ(row->status, th::thought_status::completed);
  EXPECT_EQ(row->agents_completed, 5);
  EXPECT_TRUE(row->completed_at);
  // Final: nothing moves any more.
  EXPECT_TRUE(store_->begin({{id, 2}}).empty());
  EXPECT_TRUE(store_->fail({{id, "late", 2}}).empty());
  EXPECT_EQ(store_->get(id)->status, th::thought_status::completed);
}

TEST_F(thought_store_test, a_failed_thought_keeps_its_progress_and_reason) {
  auto id = submit(make_uuid()).thought.thought_id;
  store_->begin({{id, 1}});
  store_->save_step(1, {{id, "{}", "builtin", 1}});
  ASSERT_EQ(store_->begin({{id, 2}}).size(), 1u) << "a newer attempt";
  auto evs = store_->fail({{id, "analyse failed: boom", 3}});
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0].type, "thought_failed");
  EXPECT_EQ(evs[0].body.at("error").as_string(), "analyse failed: boom");
  EXPECT_EQ(evs[0].body.at("attempts").as_int64(), 3);
  EXPECT_EQ(evs[0].body.at("agents_completed").as_int64(), 1);
  auto row = store_->get(id);
  EXPECT_EQ(row->status, th::thought_status::failed);
  EXPECT_EQ(row->error.value_or(""), "analyse failed: boom");
  EXPECT_EQ(row->attempts, 3);
  EXPECT_TRUE(store_->save_step(2, {{id, "{}", "builtin", 1}}).empty());
}

TEST_F(thought_store_test, a_whole_wave_moves_in_one_statement_per_step) {
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i)
    ids.push_back(submit(make_uuid()).thought.thought_id);
  std::vector<th::begin_item> begins;
  for (auto& id : ids)
    begins.push_back({id, 1});
  EXPECT_EQ(store_->begin(begins).size(), 20u);
  std::vector<th::step_item> items;
  for (auto& id : ids)
    items.push_back({id, R"({"ok":true})", "builtin", 1});
  items.push_back({make_uuid(), "{}", "builtin", 1}); // unknown: ignored
  items.push_back({"not-a-uuid", "{}", "builtin", 1});
  auto evs = store_->save_step(1, items);
  ASSERT_EQ(evs.size(), 20u);
  for (size_t i = 0; i < ids.size(); ++i)
    EXPECT_EQ(evs[i].thought_id, ids[i]) << "events keep the input order";
  EXPECT_EQ(store_->load(ids).size(), 20u);
  EXPECT_EQ(scalar("SELECT count(*) FROM thoughts WHERE agents_completed = 1"),
            20);
}

TEST_F(thought_store_test, pages_are_newest_first_without_gaps_or_repeats) {
  auto user = make_uuid();
  std::vector<std::string> ids;
  for (int i = 0; i < 25; ++i)
    ids.push_back(submit(user, "t" + std::to_string(i)).thought.thought_id);
  submit(make_uuid()); // someone else's
  std::vector<std::string> seen;
  std::optional<th::list_cursor> before;
  std::vector<size_t> sizes;
  for (int page = 0; page < 10; ++page) {
    auto p = store_->list(user, 10, before);
    sizes.push_back(p.thoughts.size());
    for (auto& t : p.thoughts)
      seen.push_back(t.thought_id);
    if (!p.next)
      break;
    before = p.next;
  }
  EXPECT_EQ(sizes, (std::vector<size_t>{10, 10, 5}));
  std::vector<std::string> newest_first(ids.rbegin(), ids.rend());
  EXPECT_EQ(seen, newest_first);
  EXPECT_TRUE(store_->list(make_uuid(), 10, std::nullopt).thoughts.empty());
  EXPECT_TRUE(store_->list("nope", 10, std::nullopt).thoughts.empty());
}

TEST_F(thought_store_test, replays_page_and_know_what_was_pruned) {
  auto user = make_uuid();
  for (int i = 0; i < 5; ++i)
    submit(user);
  auto page = store_->events_after(user, 1, 2);
  ASSERT_EQ(page.events.size(), 2u);
  EXPECT_EQ(page.events[0].seq, 2u);
  EXPECT_TRUE(page.more);
  EXPECT_EQ(page.head, 5u);
  auto head_only = store_->events_after(user, std::nullopt, 10);
  EXPECT_TRUE(head_only.events.empty());
  EXPECT_EQ(head_only.head, 5u);
  // Age the first three events and prune them.
  {
    pqxx::work tx{*conn_};
    tx.exec_params0("UPDATE thought_events SET created_at = now() - "
                    "interval '2 days' WHERE user_id = $1 AND seq <= 3",
                    user);
    tx.commit();
  }
  EXPECT_EQ(store_->prune_events(24h, 100), 3);
  auto after = store_->events_after(user, 0, 10);
  EXPECT_EQ(after.oldest, 4u);
  EXPECT_EQ(after.events.front().seq, 4u);
  EXPECT_EQ(store_->events_after(make_uuid(), 0, 10).head, 0u);
}

TEST_F(thought_store_test, redrive_supersedes_unsent_rows_and_keeps_order) {
  auto a = make_uuid();
  auto t1 = submit(a).thought.thought_id;
  auto t2 = submit(a).thought.thought_id;
  complete(submit(make_uuid()).thought.thought_id); // final: not re-driven
  // Pretend the first ThoughtCreated was published before a crash.
  {
    pqxx::work tx{*conn_};
    tx.exec0("UPDATE outbox SET sent_at = now() WHERE id = (SELECT min(id)"
             " FROM outbox WHERE topic = 'thought-processing')");
    tx.commit();
  }
  EXPECT_EQ(store_->redrive_all(), 2);
  pqxx::result unsent;
  {
    pqxx::nontransaction tx{*conn_};
    unsent = tx.exec("SELECT convert_from(payload, 'UTF8') FROM outbox"
                     " WHERE topic = 'thought-processing'"
                     " AND sent_at IS NULL ORDER BY id");
  }
  ASSERT_EQ(unsent.size(), 2u);
  EXPECT_EQ(
      th::decode_thought_created(unsent[0][0].as<std::string>()).thought_id,
      t1);
  EXPECT_EQ(
      th::decode_thought_created(unsent[1][0].as<std::string>()).thought_id,
      t2);
  // t2's unsent row and the finished thought's (nothing to do for it).
  EXPECT_EQ(scalar("SELECT count(*) FROM outbox WHERE last_error LIKE "
                   "'superseded%'"),
            2);
  // The reconciler's form: only what is stuck for the given age.
  EXPECT_EQ(store_->redrive(1h, 100), 0);
  EXPECT_EQ(store_->redrive(0ms, 100), 2);
}

// -- the processor on this store ----------------------------------------------

namespace {

/// Agents that answer at once, or — the first call only, when `hold` is set —
/// once released: a slow attempt still running when its record comes again.
class gated_agents : public th::agent_runner {
 public:
  explicit gated_agents(bool hold) : hold_(hold) {}

  std::vector<th::agent_outcome>
  run(th::agent_kind,
      const std::vector<std::shared_ptr<const th::agent_input>>& inputs)
      override {
    {
      std::unique_lock<std::mutex> g{mtx_};
      ++calls_;
      entered_.notify_all();
      if (hold_)
        cv_.wait(g, [&] { return !hold_; });
    }
    std::vector<th::agent_outcome> out(inputs.size());
    for (auto& o : out) {
      o.ok = true;
      o.result = json::object{{"ok", true}};
      o.backend = "test";
    }
    return out;
  }

  void wait_entered() {
    std::unique_lock<std::mutex> g{mtx_};
    ASSERT_TRUE(entered_.wait_for(g, 30s, [&] { return calls_ > 0; }));
  }
  void release() {
    std::lock_guard<std::mutex> g{mtx_};
    hold_ = false;
    cv_.notify_all();
  }
  int calls() {
    std::lock_guard<std::mutex> g{mtx_};
    return calls_;
  }

 private:
  std::mutex mtx_;
  std::condition_variable cv_, entered_;
  bool hold_;
  int calls_ = 0;
};

class no_events : public th::event_sink {
 public:
  void publish(const std::vector<th::thought_event>&) override {}
  caf::error flush() override { return {}; }
};

} // namespace

// A redelivery of a thought whose attempt still runs in this node (a
// rebalance abandoned it after the drain timeout, then gave the partition
// back): without the shared registry it starts attempt 2 beside attempt 1
// and the user's stream gets a second thought_processing; with it, it waits
// for attempt 1, finds the thought completed and changes nothing.
TEST_F(thought_store_test, a_redelivery_waits_for_the_attempt_running_here) {
  auto user = make_uuid();
  auto c = submit(user);
  auto& t = c.thought;
  th::work_item item{
      user, {t.thought_id, user, t.created_at, "trace-1"}, 1, ""};
  auto inflight = std::make_shared<th::inflight_thoughts>();
  gated_agents slow{true}, quick{false};
  no_events events;
  th::processor first{{3, inflight}, *store_, slow, events};
  th::processor again{{3, inflight}, *store_, quick, events};
  std::vector<caf::error> first_result;
  std::thread runner{[&] {
    first_result = first.process({item});
  }};
  slow.wait_entered(); // attempt 1 is in agent 1
  EXPECT_EQ(inflight->size(), 1u);
  std::vector<caf::error> again_result;
  std::thread redelivery{[&] {
    again_result = again.process({item});
  }};
  // The redelivery waits: it has not begun an attempt of its own.
  EXPECT_TRUE(dt::wait_until([&] { return inflight->waiting() == 1; }, 30s));
  EXPECT_EQ(quick.calls(), 0);
  EXPECT_EQ(scalar("SELECT attempts FROM thoughts WHERE thought_id = '" +
                   t.thought_id + "'"),
            1);
  slow.release();
  runner.join();
  redelivery.join();
  ASSERT_EQ(first_result.size(), 1u);
  EXPECT_FALSE(first_result[0]) << caf::to_string(first_result[0]);
  ASSERT_EQ(again_result.size(), 1u);
  EXPECT_FALSE(again_result[0]) << caf::to_string(again_result[0]);
  EXPECT_EQ(quick.calls(), 0) << "the redelivery ran agents again";
  EXPECT_EQ(scalar("SELECT count(*) FROM thought_events WHERE type = "
                   "'thought_processing'"),
            1);
  EXPECT_EQ(scalar("SELECT count(*) FROM thoughts WHERE status = 'completed' "
                   "AND attempts = 1"),
            1);
  EXPECT_EQ(inflight->size(), 0u);
}

// When the attempt here outlasts the wait, the redelivery is retried later
// (a retryable error, not a dead letter) and still starts nothing.
TEST_F(thought_store_test, a_redelivery_that_waited_too_long_is_retried) {
  auto user = make_uuid();
  auto c = submit(user);
  auto& t = c.thought;
  th::work_item item{
      user, {t.thought_id, user, t.created_at, "trace-1"}, 1, ""};
  auto inflight = std::make_shared<th::inflight_thoughts>();
  ASSERT_TRUE(inflight->claim(t.thought_id, 0ms)); // attempt 1, elsewhere
  gated_agents quick{false};
  no_events events;
  th::processor again{{3, inflight, 50ms}, *store_, quick, events};
  auto result = again.process({item});
  ASSERT_EQ(result.size(), 1u);
  ASSERT_TRUE(result[0]);
  EXPECT_FALSE(distiller::kafka::is_permanent(result[0]));
  EXPECT_EQ(quick.calls(), 0);
  EXPECT_EQ(scalar("SELECT count(*) FROM thought_events WHERE type = "
                   "'thought_processing'"),
            0);
  inflight->release(t.thought_id);
  EXPECT_FALSE(again.process({item})[0]); // now it runs
  EXPECT_EQ(quick.calls(), 5);
}
