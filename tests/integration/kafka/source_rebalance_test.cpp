#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/source_fixture.hpp"

using namespace distiller;
using namespace distiller::kafka;
using namespace distiller::kafka::test;

namespace {

using steady = std::chrono::steady_clock;

/// The first synchronous (revoke-time) commit a bridge made per partition,
/// and when; and every later commit of such a partition below it.
struct revoke_commits {
  std::mutex mtx;
  std::map<int32_t, int64_t> offset;
  int64_t at_ns = 0;
  std::vector<std::string> regressions;
};

/// The observer shares the record with the test: the bridge may still
/// commit after a failed ASSERT has left the test body (it stops with the
/// fixture), so the record must live as long as the observer.
commit_observer observer_of(std::shared_ptr<revoke_commits> c) {
  return [c](int32_t p, int64_t off, bool sync) {
    std::lock_guard<std::mutex> guard{c->mtx};
    if (auto i = c->offset.find(p); i != c->offset.end()) {
      // Whoever owns the partition now started at the final commit (or, if
      // it comes back here, this bridge did): nothing may go below it. An
      // async commit queued before the revoke and sent after it did — the
      // cause of this test's intermittent cooperative failure.
      if (off < i->second)
        c->regressions.push_back(
            std::to_string(p) + ": " + std::to_string(off) + " after " +
            std::to_string(i->second) + (sync ? " (sync)" : " (async)"));
      return;
    }
    if (!sync)
      return;
    c->offset[p] = off;
    if (c->at_ns == 0)
      c->at_ns = steady::now().time_since_epoch().count();
  };
}

/// The eager (range,roundrobin) protocol; the cooperative-sticky one as
/// usual, where librdkafka 2.0.2's mock mostly declares the first bridge's
/// assignment lost (an async commit lands during the rebalance); and the
/// cooperative one with commits only at the revoke, so that the revoke is
/// always a drain — the path this test took now and then, and failed on
/// while the kept partitions slowed the drain into its timeout.
enum class protocol { eager, cooperative, cooperative_drained };

class source_rebalance : public source_fixture,
                         public ::testing::WithParamInterface<protocol> {};

std::vector<test_message> records(int total, int partitions) {
  std::vector<test_message> msgs;
  for (int i = 0; i < total; ++i)
    msgs.push_back({i % partitions,
                    "key-" + std::to_string(i % 300),
                    "v" + std::to_string(i),
                    {}});
  return msgs;
}

caf::error slow(const in_record&) {
  std::this_thread::sleep_for(std::chrono::milliseconds{2});
  return caf::none;
}

} // namespace

TEST_P(source_rebalance, second_bridge_joins_mid_stream_and_nothing_is_lost) {
  constexpr int partitions = 6;
  constexpr int total = 12'000;
  bool cooperative = GetParam() != protocol::eager;
  auto topic = make_topic("rebalance", partitions);
  produce(topic, records(total, partitions));
  auto log_a = std::make_shared<record_log>();
  auto log_b = std::make_shared<record_log>();
  auto commits_a = std::make_shared<revoke_commits>();
  auto a = make_binding("first", topic, "rebalance-group");
  a.cooperative = cooperative;
  a.pool_size = 2;
  if (GetParam() == protocol::cooperative_drained)
    a.commit_interval = 10min;
  // Until the second bridge holds partitions the first one goes slower, so
  // it cannot finish the topic before the join, however long the group
  // takes to rebalance (seconds more under ASan).
  auto joined = std::make_shared<std::atomic<bool>>(false);
  a.worker = logging_worker(log_a, [joined](const in_record& r) {
    if (!joined->load())
      std::this_thread::sleep_for(std::chrono::milliseconds{8});
    return slow(r);
  });
  auto first = start(a, observer_of(commits_a));
  ASSERT_TRUE(dt::wait_until([&] { return log_a->size() >= 1000; }, 60s));
  auto b = make_binding("second", topic, "rebalance-group");
  b.cooperative = cooperative;
  b.pool_size = 2;
  b.worker = logging_worker(log_b, slow);
  auto second = start(b);
  // The partitions split: disjoint, together all of them.
  std::vector<int32_t> owned_a;
  std::vector<int32_t> owned_b;
  ASSERT_TRUE(dt::wait_until(
      [&] {
        owned_a = stats(first).assigned;
        owned_b = stats(second).assigned;
        if (!owned_b.empty())
          *joined = true;
        return !owned_a.empty() && !owned_b.empty() &&
               owned_a.size() + owned_b.size() == partitions;
      },
      60s, 100ms))
      << owned_a.size() << " + " << owned_b.size();
  std::set<int32_t> all{owned_a.begin(), owned_a.end()};
  all.insert(owned_b.begin(), owned_b.end());
  EXPECT_EQ(all.size(), static_cast<size_t>(partitions));
  ASSERT_LT(log_a->size(), static_cast<size_t>(total))
      << "the first bridge finished before the second joined";
  // No record is lost.
  auto seen = [&] {
    std::map<std::pair<int32_t, int64_t>, int> n;
    for (auto* l : {log_a.get(), log_b.get()})
      for (auto& r : l->items())
        ++n[{r.partition, r.offset}];
    return n;
  };
  ASSERT_TRUE(dt::wait_until([&] { return seen().size() >= total; }, 120s))
      << seen().size() << " of " << total;
  auto revoked = lines->matching({"event=partitions_revoked", "bridge=first"});
  ASSERT_FALSE(revoked.empty());
  EXPECT_EQ(field_of(revoked.front(), "timed_out"), "false");
  bool lost = field_of(revoked.front(), "lost") == "true";
  if (GetParam() == protocol::cooperative_drained) {
    EXPECT_FALSE(lost) << "no commit met the rebalance, yet it was lost";
  }
  auto counts = seen();
  size_t duplicates = 0;
  for (auto& [po, n] : counts)
    duplicates += static_cast<size_t>(n - 1);
  if (lost) {
    // librdkafka 2.0.2's mock answers the cooperative protocol's commits
    // with ILLEGAL_GENERATION and then declares the assignment lost: the
    // bridge abandons it without a commit (nothing else is safe), and the
    // new owners restart from the last commit. Nothing is lost; what the
    // first bridge processed after its last successful commit runs again.
    std::printf("%s: assignment lost (mock), %zu duplicates\n",
                cooperative ? "cooperative-sticky" : "eager", duplicates);
  } else {
    // The first bridge drained the revoked partitions and issued a
    // synchronous commit of exactly what it had processed ...
    std::map<int32_t, int64_t> final_offsets;
    int64_t revoke_ns = 0;
    {
      std::lock_guard<std::mutex> guard{commits_a->mtx};
      final_offsets = commits_a->offset;
      revoke_ns = commits_a->at_ns;
    }
    ASSERT_FALSE(final_offsets.empty());
    for (auto& [p, off] : final_offsets)
      EXPECT_TRUE(log_a->all_below(p, 0, off))
          << "partition " << p << " committed " << off
          << " before draining what it had started";
    // ... and every partition continued at or below that commit, never
    // above it. At it when the coordinator took the commit (real Kafka) or
    // when the partition came back to the same bridge; below it only when
    // the coordinator refused the commit (the mock, during an eager
    // rebalance) and another bridge took over — the documented bound.
    std::map<int32_t, int64_t> resumed;
    for (auto* l : {log_a.get(), log_b.get()})
      for (auto& r : l->items())
        if (r.at_ns > revoke_ns && final_offsets.count(r.partition) != 0) {
          auto i = resumed.find(r.partition);
          if (i == resumed.end() || r.offset < i->second)
            resumed[r.partition] = r.offset;
        }
    size_t bound = 0;
    bool commit_refused = lines->contains(
        {"event=offsets_commit_failed", "bridge=first", "commit (sync)"});
    for (auto& [p, off] : final_offsets) {
      ASSERT_EQ(resumed.count(p), 1u) << "partition " << p;
      EXPECT_LE(resumed[p], off) << "partition " << p << " skipped records";
      bool kept = std::find(owned_a.begin(), owned_a.end(), p) != owned_a.end();
      if (kept || !commit_refused) {
        EXPECT_EQ(resumed[p], off) << "partition " << p;
      }
      bound += static_cast<size_t>(off - resumed[p]);
    }
    EXPECT_EQ(duplicates, bound);
    std::printf("%s: revoke commit %s by the coordinator; %zu duplicates "
                "(bound %zu)\n",
                cooperative ? "cooperative-sticky" : "eager",
                commit_refused ? "refused" : "accepted", duplicates, bound);
  }
  EXPECT_EQ(stop(first), caf::exit_reason::user_shutdown);
  EXPECT_EQ(stop(second), caf::exit_reason::user_shutdown);
  {
    std::lock_guard<std::mutex> guard{commits_a->mtx};
    EXPECT_TRUE(commits_a->regressions.empty())
        << "commits below a revoked partition's final offset: "
        << commits_a->regressions.front();
  }
  std::printf("first bridge processed %zu, second %zu; first owns %zu "
              "partitions, second %zu\n",
              log_a->size(), log_b->size(), owned_a.size(), owned_b.size());
}

INSTANTIATE_TEST_SUITE_P(protocols, source_rebalance,
                         ::testing::Values(protocol::eager,
                                           protocol::cooperative,
                                           protocol::cooperative_drained),
                         [](const auto& info) {
                           switch (info.param) {
                           case protocol::eager:
                             return "eager";
                           case protocol::cooperative:
                             return "cooperative";
                           case protocol::cooperative_drained:
                             break;
                           }
                           return "cooperative_drained";
                         });
