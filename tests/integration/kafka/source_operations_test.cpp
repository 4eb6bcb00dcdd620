// What an operator does to a running source bridge: pause and resume the
// binding, scale its pool, read its per-partition numbers, and what the
// bridge leaves for them in the registry (recent errors) and the trace ring.

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include "tests/support/source_fixture.hpp"

using namespace distiller;
using namespace distiller::kafka;
using namespace distiller::kafka::test;

namespace {

class source_operations : public source_fixture {
 protected:
  ~source_operations() override {
    // Workers write into `ring`, a member of this class: the actors must be
    // gone before it is (the base class would stop them only afterwards).
    for (auto& b : bridges)
      caf::anon_send_exit(b, caf::exit_reason::user_shutdown);
    bridges.clear();
    self.reset();
    sys.reset();
  }

  /// Sends `(atom)` and expects caf::unit.
  template <class Atom>
  void expect_unit(const caf::actor& bridge, Atom atom) {
    bool ok = false;
    (*self)
        ->request(bridge, 10s, atom)
        .receive([&] { ok = true; },
                 [&](caf::error& err) { ADD_FAILURE() << sys->render(err); });
    EXPECT_TRUE(ok);
  }

  caf::expected<int32_t> scale(const caf::actor& bridge, int32_t n) {
    caf::expected<int32_t> result{0};
    (*self)
        ->request(bridge, 10s, atoms::scale_atom_v, n)
        .receive([&](int32_t size) { result = size; },
                 [&](caf::error& err) { result = std::move(err); });
    return result;
  }

  /// Registry entries whose parent is the pool supervisor `pool`.
  std::set<std::string> workers_of(const std::string& pool) {
    std::set<std::string> out;
    for (auto& a : actors.snapshot())
      if (a.parent == pool)
        out.insert(a.name);
    return out;
  }

  /// Records produced and not yet committed by `group`, over `n` partitions.
  int64_t group_lag(const std::string& group, const std::string& topic, int n) {
    auto ends = end_offsets(topic, n);
    auto done = committed(group, topic, n);
    int64_t lag = 0;
    for (auto& [p, end] : ends)
      lag += end - std::max<int64_t>(done[p], 0);
    return lag;
  }

  inspect::trace_ring ring{1 << 16};
};

/// `n` records over `partitions` partitions and `keys` keys (a key stays on
/// one partition), values "record-<first + i>".
std::vector<test_message> keyed(int n, int partitions, int keys,
                                int first = 0) {
  std::vector<test_message> out;
  for (int i = first; i < first + n; ++i) {
    auto k = i % keys;
    test_message m;
    m.partition = k % partitions;
    m.key = "key-" + std::to_string(k);
    m.value = "record-" + std::to_string(i);
    out.push_back(std::move(m));
  }
  return out;
}

/// Every record exactly once, and each key's records in offset order.
void expect_exactly_once_in_key_order(const record_log& log, size_t total) {
  auto items = log.items();
  EXPECT_EQ(items.size(), total);
  EXPECT_EQ(log.distinct(), total);
  std::map<std::string, int64_t> last;
  size_t violations = 0;
  for (auto& r : items) {
    auto i = last.find(r.key);
    if (i != last.end() && r.offset <= i->second)
      ++violations;
    last[r.key] = r.offset;
  }
  EXPECT_EQ(violations, 0u) << "records of one key ran out of offset order";
}

worker_factory traced_worker(std::shared_ptr<record_log> log,
                             inspect::trace_ring* ring,
                             std::chrono::microseconds delay) {
  record_worker_options opts;
  opts.trace = ring;
  return record_worker_factory(
      [log, delay](const in_record& r) -> caf::error {
        if (delay.count() > 0)
          std::this_thread::sleep_for(delay);
        if (r.value == "bad")
          return caf::make_error(record_errc::undecodable, "not a record");
        log->add(r);
        return caf::none;
      },
      opts);
}

} // namespace

// -- pause and resume
// -----------------------------------------------------------

TEST_F(source_operations, pause_holds_the_binding_and_resume_drains_it) {
  constexpr int partitions = 3;
  auto topic = make_topic("pausing", partitions);
  produce(topic, keyed(900, partitions, 60));
  auto log = std::make_shared<record_log>();
  auto b = make_binding("pausing", topic, "pausing-group");
  b.pool_size = 4;
  b.max_batch = 8;
  // Slow enough that the pause lands mid-stream, with records buffered.
  b.worker = traced_worker(log, nullptr, 2ms);
  auto bridge = start(b);
  ASSERT_TRUE(dt::wait_until([&] { return log->size() >= 100; }, 60s));
  expect_unit(bridge, atoms::pause_atom_v);
  expect_unit(bridge, atoms::pause_atom_v); // idempotent
  // What was at workers finishes; then nothing else runs.
  ASSERT_TRUE(dt::wait_until([&] { return stats(bridge).in_flight == 0; }));
  auto held = log->size();
  EXPECT_LT(held, 900u) << "the pause came too late to hold anything";
  auto s = stats(bridge);
  EXPECT_TRUE(s.operator_paused);
  EXPECT_EQ(s.state, "running");
  EXPECT_EQ(actors.find("pausing-source")->state(), "paused");
  ASSERT_EQ(s.partitions.size(), 3u);
  for (auto& p : s.partitions)
    EXPECT_TRUE(p.paused) << p.partition;
  // The group's lag grows with every record produced while paused.
  EXPECT_FALSE(dt::wait_until([&] { return log->size() > held; }, 1500ms));
  auto lag_before = group_lag("pausing-group", topic, partitions);
  EXPECT_GE(lag_before, static_cast<int64_t>(900 - held));
  produce(topic, keyed(300, partitions, 60, 900));
  EXPECT_EQ(group_lag("pausing-group", topic, partitions), lag_before + 300);
  EXPECT_FALSE(dt::wait_until([&] { return log->size() > held; }, 1500ms));
  EXPECT_EQ(log->size(), held);
  EXPECT_EQ(group_lag("pausing-group", topic, partitions), lag_before + 300);
  EXPECT_TRUE(lines->contains({"event=binding_paused", "bridge=pausing"}));
  // Resume: everything runs, exactly once and in key order, and is committed.
  expect_unit(bridge, atoms::resume_atom_v);
  expect_unit(bridge, atoms::resume_atom_v); // idempotent
  EXPECT_EQ(actors.find("pausing-source")->state(), "running");
  ASSERT_TRUE(dt::wait_until([&] { return log->size() >= 1200; }, 60s))
      << log->size();
  ASSERT_TRUE(dt::wait_until(
      [&] { return group_lag("pausing-group", topic, partitions) == 0; }, 20s));
  s = stats(bridge);
  EXPECT_FALSE(s.operator_paused);
  for (auto& p : s.partitions)
    EXPECT_FALSE(p.paused) << p.partition;
  EXPECT_EQ(stop(bridge), caf::exit_reason::user_shutdown);
  expect_exactly_once_in_key_order(*log, 1200);
  EXPECT_TRUE(lines->contains({"event=binding_resumed", "bridge=pausing"}));
}

TEST_F(source_operations, a_paused_binding_still_drains_on_shutdown) {
  auto topic = make_topic("pause-stop", 1);
  produce(topic, keyed(200, 1, 5));
  auto log = std::make_shared<record_log>();
  auto b = make_binding("pause-stop", topic, "pause-stop-group");
  b.worker = traced_worker(log, nullptr, 20ms);
  b.max_batch = 4;
  auto bridge = start(b);
  ASSERT_TRUE(dt::wait_until([&] { return log->size() >= 4; }, 60s));
  expect_unit(bridge, atoms::pause_atom_v);
  // The shutdown drains what was at workers, commits and stops in order.
  EXPECT_EQ(stop(bridge), caf::exit_reason::user_shutdown);
  auto done = log->size();
  EXPECT_LT(done, 200u);
  auto c = committed("pause-stop-group", topic, 1);
  EXPECT_EQ(c[0], static_cast<int64_t>(done))
      << "the commit must cover exactly what ran";
}

// -- scaling
// --------------------------------------------------------------------

TEST_F(source_operations, scaling_up_and_down_while_records_flow) {
  constexpr int partitions = 4;
  constexpr int total = 6000;
  auto topic = make_topic("scaling", partitions);
  produce(topic, keyed(total, partitions, 400));
  auto log = std::make_shared<record_log>();
  auto b = make_binding("scaling", topic, "scaling-group");
  b.pool_size = 4;
  b.max_batch = 16;
  b.worker = traced_worker(log, nullptr, 300us);
  auto bridge = start(b);
  // The pool's supervisor starts its workers just after the bridge.
  std::set<std::string> four{"scaling-worker-0", "scaling-worker-1",
                             "scaling-worker-2", "scaling-worker-3"};
  EXPECT_TRUE(dt::wait_until([&] { return workers_of("scaling") == four; }));
  ASSERT_TRUE(dt::wait_until([&] { return log->size() >= 500; }, 60s));
  // Out of range: refused, nothing changes.
  for (int32_t bad : {0, -1, 1025}) {
    auto r = scale(bridge, bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error(), caf::sec::invalid_argument);
  }
  auto up = scale(bridge, 8);
  ASSERT_TRUE(up) << sys->render(up.error());
  EXPECT_EQ(*up, 8);
  std::set<std::string> eight;
  for (int i = 0; i < 8; ++i)
    eight.insert("scaling-worker-" + std::to_string(i));
  ASSERT_TRUE(dt::wait_until([&] { return workers_of("scaling") == eight; }));
  EXPECT_EQ(stats(bridge).pool_size, 8);
  // The new workers take batches.
  ASSERT_TRUE(dt::wait_until(
      [&] {
        for (int i = 4; i < 8; ++i) {
          auto e = actors.find("scaling-worker-" + std::to_string(i));
          if (!e || e->processed() == 0)
            return false;
        }
        return true;
      },
      30s));
  EXPECT_LT(log->size(), static_cast<size_t>(total))
      << "the stream ended before the pool shrank";
  auto down = scale(bridge, 2);
  ASSERT_TRUE(down);
  EXPECT_EQ(*down, 2);
  ASSERT_TRUE(dt::wait_until(
      [&] {
        return workers_of("scaling") ==
               std::set<std::string>{"scaling-worker-0", "scaling-worker-1"};
      },
      30s));
  ASSERT_TRUE(dt::wait_until([&] { return log->size() >= total; }, 120s))
      << log->size();
  auto s = stats(bridge);
  EXPECT_EQ(s.pool_size, 2);
  EXPECT_LE(s.busy_workers, 2);
  EXPECT_EQ(actors.find("scaling-worker-6"), nullptr);
  EXPECT_NE(actors.find("scaling-worker-1"), nullptr);
  EXPECT_TRUE(lines->contains(
      {"event=pool_scaled", "bridge=scaling", "from=4", "to=8"}));
  EXPECT_TRUE(lines->contains(
      {"event=worker_retired", "bridge=scaling", "worker=scaling-worker-7"}));
  auto ends = end_offsets(topic, partitions);
  ASSERT_TRUE(dt::wait_until(
      [&] { return committed("scaling-group", topic, partitions) == ends; },
      20s));
  EXPECT_EQ(stop(bridge), caf::exit_reason::user_shutdown);
  expect_exactly_once_in_key_order(*log, total);
}

TEST_F(source_operations, scaling_back_up_reuses_the_names) {
  auto topic = make_topic("rescale", 2);
  produce(topic, keyed(400, 2, 40));
  auto log = std::make_shared<record_log>();
  auto b = make_binding("rescale", topic, "rescale-group");
  b.pool_size = 3;
  b.worker = traced_worker(log, nullptr, 0us);
  auto bridge = start(b);
  ASSERT_TRUE(dt::wait_until([&] { return log->size() >= 400; }, 60s));
  // Down and straight up again: the retiring slots come back (or are added
  // again once their removal is answered).
  ASSERT_TRUE(scale(bridge, 1));
  ASSERT_TRUE(scale(bridge, 5));
  std::set<std::string> five;
  for (int i = 0; i < 5; ++i)
    five.insert("rescale-worker-" + std::to_string(i));
  ASSERT_TRUE(
      dt::wait_until([&] { return workers_of("rescale") == five; }, 20s));
  produce(topic, keyed(400, 2, 40, 400));
  ASSERT_TRUE(dt::wait_until([&] { return log->size() >= 800; }, 60s));
  EXPECT_EQ(stats(bridge).pool_size, 5);
  EXPECT_EQ(stop(bridge), caf::exit_reason::user_shutdown);
  expect_exactly_once_in_key_order(*log, 800);
}

// -- numbers
// --------------------------------------------------------------------

TEST_F(source_operations, stats_report_offsets_and_lag_per_partition) {
  auto topic = make_topic("numbers", 2);
  std::vector<test_message> msgs;
  for (int i = 0; i < 50; ++i)
    msgs.push_back({0, "a" + std::to_string(i % 5), "v", {}});
  for (int i = 0; i < 30; ++i)
    msgs.push_back({1, "b" + std::to_string(i % 5), "v", {}});
  produce(topic, msgs);
  auto log = std::make_shared<record_log>();
  auto b = make_binding("numbers", topic, "numbers-group");
  b.pool_size = 3;
  b.worker = traced_worker(log, nullptr, 0us);
  auto bridge = start(b);
  ASSERT_TRUE(dt::wait_until([&] { return log->size() >= 80; }, 60s));
  auto settled = [&](int64_t end0, int64_t end1) {
    auto s = stats(bridge);
    return s.partitions.size() == 2 && s.partitions[0].committed == end0 &&
           s.partitions[1].committed == end1 &&
           s.partitions[0].high_watermark == end0 &&
           s.partitions[1].high_watermark == end1;
  };
  ASSERT_TRUE(dt::wait_until([&] { return settled(50, 30); }, 20s));
  auto s = stats(bridge);
  EXPECT_EQ(s.pool_size, 3);
  EXPECT_EQ(s.busy_workers, 0);
  EXPECT_FALSE(s.operator_paused);
  EXPECT_EQ(s.partitions[0], (partition_stats{0, 50, 50, 50, 0, false}));
  EXPECT_EQ(s.partitions[1], (partition_stats{1, 30, 30, 30, 0, false}));
  // Paused: reported per partition; the committed offset stays.
  expect_unit(bridge, atoms::pause_atom_v);
  s = stats(bridge);
  EXPECT_TRUE(s.partitions[0].paused);
  EXPECT_TRUE(s.partitions[1].paused);
  EXPECT_EQ(s.partitions[0].committed, 50);
  expect_unit(bridge, atoms::resume_atom_v);
  // More records: the numbers follow.
  std::vector<test_message> more;
  for (int i = 0; i < 20; ++i)
    more.push_back({0, "a" + std::to_string(i % 5), "v", {}});
  produce(topic, more);
  ASSERT_TRUE(dt::wait_until([&] { return settled(70, 30); }, 20s));
  s = stats(bridge);
  EXPECT_EQ(s.partitions[0], (partition_stats{0, 70, 70, 70, 0, false}));
  // The stats travel between nodes: they survive CAF's serialization.
  std::vector<char> buf;
  caf::binary_serializer sink{*sys, buf};
  ASSERT_FALSE(sink(s));
  source_stats back;
  caf::binary_deserializer source{*sys, buf};
  ASSERT_FALSE(source(back));
  EXPECT_EQ(back.partitions, s.partitions);
  EXPECT_EQ(back.pool_size, 3);
  EXPECT_EQ(back.processed, s.processed);
  EXPECT_EQ(stop(bridge), caf::exit_reason::user_shutdown);
}

TEST_F(source_operations, a_new_owner_measures_lag_from_the_groups_offsets) {
  // Records read and committed by one bridge; then another member of the
  // group owns the partitions and has nothing to read. It has no position
  // and has committed nothing itself: the group's offsets count, so the lag
  // is zero (it was the whole partition, the low watermark's distance).
  auto topic = make_topic("moved", 2);
  std::vector<test_message> msgs;
  for (int i = 0; i < 40; ++i)
    msgs.push_back({i % 2, "k" + std::to_string(i % 4), "v", {}});
  produce(topic, msgs);
  auto log = std::make_shared<record_log>();
  auto b = make_binding("moved", topic, "moved-group");
  b.worker = traced_worker(log, nullptr, 0us);
  auto first = start(b);
  ASSERT_TRUE(dt::wait_until(
      [&] {
        auto s = stats(first);
        return s.partitions.size() == 2 && s.partitions[0].committed == 20 &&
               s.partitions[1].committed == 20;
      },
      60s));
  EXPECT_EQ(stop(first), caf::exit_reason::user_shutdown);
  auto second = start(b);
  ASSERT_TRUE(dt::wait_until(
      [&] {
        auto s = stats(second);
        return s.partitions.size() == 2 &&
               s.partitions[0].high_watermark == 20 &&
               s.partitions[1].high_watermark == 20;
      },
      30s));
  auto s = stats(second);
  for (auto& p : s.partitions) {
    EXPECT_EQ(p.committed, 20) << p.partition;
    EXPECT_EQ(p.lag, 0) << p.partition;
  }
  EXPECT_EQ(log->size(), 40u); // nothing read twice
  EXPECT_EQ(stop(second), caf::exit_reason::user_shutdown);
}

// -- recent errors and the trace ring
// ---------------------------------------------------

TEST_F(source_operations, dead_letters_reach_recent_errors_and_the_ring) {
  trace = &ring;
  auto topic = make_topic("traced", 1);
  cluster->create_topic(topic + ".dlq", 1, 1);
  produce(topic, {{0, "k", "good-1", {{"x-trace-id", "trace-good"}}},
                  {0, "k", "bad", {{"x-trace-id", "trace-bad"}}},
                  {0, "k", "good-2", {}}});
  auto log = std::make_shared<record_log>();
  auto b = make_binding("traced", topic, "traced-group");
  b.pool_size = 1;
  b.worker = traced_worker(log, &ring, 0us);
  auto bridge = start(b);
  ASSERT_TRUE(dt::wait_until(
      [&] { return stats(bridge).dead_lettered == 1 && log->size() == 2; },
      60s));
  auto origin = topic + "/0@1";
  // The worker's entry: its handler error.
  auto worker_errors = actors.find("traced-worker-0")->recent_errors();
  ASSERT_EQ(worker_errors.size(), 1u);
  EXPECT_EQ(worker_errors[0].text.rfind(origin + ": ", 0), 0u)
      << worker_errors[0].text;
  EXPECT_NE(worker_errors[0].text.find("undecodable"), std::string::npos);
  // The bridge's entry: the failed attempt, then (newest) the dead letter.
  auto bridge_errors = actors.find("traced-source")->recent_errors();
  ASSERT_EQ(bridge_errors.size(), 2u);
  EXPECT_EQ(bridge_errors[0].text.rfind(
                origin + " -> " + topic + ".dlq after 1 attempt: ", 0),
            0u)
      << bridge_errors[0].text;
  EXPECT_EQ(bridge_errors[1].text.rfind(origin + " attempt 1: ", 0), 0u)
      << bridge_errors[1].text;
  // The ring: the worker ran it, the bridge dead-lettered it.
  auto bad = ring.find("trace-bad");
  ASSERT_EQ(bad.size(), 2u);
  EXPECT_EQ(bad[0].actor, "traced-worker-0");
  EXPECT_EQ(bad[0].what, "record");
  EXPECT_EQ(bad[0].detail.rfind(origin + " ", 0), 0u) << bad[0].detail;
  EXPECT_NE(bad[0].detail.find("undecodable"), std::string::npos);
  EXPECT_EQ(bad[1].actor, "traced-source");
  EXPECT_EQ(bad[1].what, "dead_letter");
  EXPECT_EQ(bad[1].detail.rfind(origin + " -> ", 0), 0u) << bad[1].detail;
  auto good = ring.find("trace-good");
  ASSERT_EQ(good.size(), 1u);
  EXPECT_EQ(good[0].detail, topic + "/0@0 ok");
  // A record without a trace header is traced under its derived id.
  auto items = log->items();
  ASSERT_EQ(items.size(), 2u);
  auto derived = ring.find(items[1].trace);
  ASSERT_EQ(derived.size(), 1u);
  EXPECT_EQ(derived[0].detail, topic + "/0@2 ok");
  EXPECT_EQ(stop(bridge), caf::exit_reason::user_shutdown);
}

namespace {

TEST_F(source_operations,
       a_partition_whose_fetches_fail_is_sought_and_finishes) {
  // The stall watch (stall_watch.hpp): after the first Fetch, every Fetch
  // fails for a while (the mock answers NOT_LEADER_FOR_PARTITION, librdkafka
  // backs off and asks again), so the partition's position stands still
  // with records waiting. The bridge logs the stall, seeks the partition to
  // its own position, and once the fetches succeed again every record runs
  // exactly once, in key order.
  constexpr int batches = 30;
  constexpr int per_batch = 100;
  constexpr int total = batches * per_batch;
  auto topic = make_topic("stalling", 1);
  // One producer per call: one record batch each, and a Fetch returns at
  // least one whole batch, so small fetches take the partition in steps.
  for (int i = 0; i < batches; ++i)
    produce(topic, keyed(per_batch, 1, 20, i * per_batch));
  // The first Fetch succeeds (the consumer learns the high watermark), the
  // next 12 fail; with a 400 ms backoff that is ~5 s without progress.
  std::vector<rd_kafka_resp_err_t> errors(
      13, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION);
  errors[0] = RD_KAFKA_RESP_ERR_NO_ERROR;
  // The Kafka protocol's ApiKey of Fetch (librdkafka keeps its RD_KAFKAP_*
  // names in an internal header).
  constexpr int16_t fetch_api_key = 1;
  rd_kafka_mock_push_request_errors_array(cluster->mock(), fetch_api_key,
                                          errors.size(), errors.data());
  auto log = std::make_shared<record_log>();
  auto b = make_binding("stalling", topic, "stalling-group");
  b.stall_after = 1500ms;
  b.consumer_properties["max.partition.fetch.bytes"] = "2048";
  b.consumer_properties["fetch.error.backoff.ms"] = "400";
  b.worker = traced_worker(log, nullptr, 0us);
  auto bridge = start(b);
  ASSERT_TRUE(dt::wait_until(
      [&] {
        return lines->contains({"event=partition_stalled", "bridge=stalling",
                                "partition=0", "action=\"seek to position\""});
      },
      30s))
      << log->size() << " records ran";
  auto stalled = lines->matching({"event=partition_stalled"}).front();
  EXPECT_LT(std::stoll(field_of(stalled, "position")) + 1,
            std::stoll(field_of(stalled, "high_watermark")));
  EXPECT_GE(std::stoll(field_of(stalled, "stalled_ms")), 1500);
  ASSERT_TRUE(dt::wait_until([&] { return log->size() >= total; }, 60s))
      << log->size();
  EXPECT_EQ(stop(bridge), caf::exit_reason::user_shutdown);
  expect_exactly_once_in_key_order(*log, total);
}

} // namespace
