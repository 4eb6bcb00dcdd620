// Randomised runs of the source bridge's core (bridges/kafka/source_core.hpp):
// polls, answers, failures, dead letters, crashes, timeouts, commits and
// revokes in random order, checking after every step that
//   - no commit (tick, revoke reply, final close) passes a record no worker
//     finished (at-least-once);
//   - a lane never has records at two workers, and a key's records finish
//     in offset order within an assignment (retries included);
//   - in-flight limits hold;
// and at the end that everything polled is finished and committed. The seed
// is fixed and printed; DISTILLER_SOURCE_CORE_SEED=<n> replays another.

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "tests/unit/kafka/source_core_driver.hpp"

namespace {

using namespace distiller;
using namespace distiller::kafka;
using namespace distiller::kafka::test;

constexpr int partitions = 3;
constexpr int keys = 4;

std::string key_of(int64_t offset) {
  return "k" + std::to_string(offset % keys);
}

uint64_t seed_from_env(uint64_t fallback) {
  if (auto* s = std::getenv("DISTILLER_SOURCE_CORE_SEED"))
    return std::strtoull(s, nullptr, 10);
  return fallback;
}

class random_run {
 public:
  random_run(ordering mode, uint64_t seed) : rng_(seed), d_(config(mode), 3) {
    std::vector<int32_t> all;
    for (int32_t p = 0; p < partitions; ++p) {
      all.push_back(p);
      next_[p] = 0;
      assigned_.insert(p);
    }
    d_.core.on_assigned(all);
  }

  static source_core_config config(ordering mode) {
    auto c = test_config();
    c.mode = mode;
    c.max_batch = 5;
    c.max_in_flight = 12;
    c.max_in_flight_per_partition = 6;
    c.partition_buffer_limit = 40;
    c.retry = backoff_policy{3, 50ms, 2.0, 1s, 0.0};
    c.drain_timeout = 2s;
    return c;
  }

  void step() {
    auto r = pick(100);
    if (r < 25)
      poll();
    else if (r < 75)
      answer();
    else if (r < 78)
      crash();
    else if (r < 90)
      d_.advance(std::chrono::milliseconds{pick(120)});
    else if (r < 96)
      tick();
    else
      revoke();
    check();
  }

  /// Answers, retries and drains until nothing is left to do.
  void settle() {
    for (int k = 0; k < 10'000; ++k) {
      if (!d_.outstanding.empty())
        d_.succeed(d_.outstanding.front().id);
      else
        d_.advance(500ms);
      after_answers();
      check();
      if (d_.outstanding.empty() && d_.core.pending() == 0 && revoking_.empty())
        break;
    }
    reassign();
    tick();
  }

  /// After settle(): every partition committed everything polled.
  void check_final() {
    EXPECT_EQ(d_.core.pending(), 0u);
    EXPECT_EQ(d_.core.in_flight(), 0u);
    for (int32_t p = 0; p < partitions; ++p)
      EXPECT_EQ(committed_[p], next_[p]) << "partition " << p;
  }

  size_t processed() const { return d_.processed.size(); }
  size_t dead_letters() const { return d_.dead_letters.size(); }
  size_t revokes() const { return revokes_; }

 private:
  size_t pick(size_t n) {
    return std::uniform_int_distribution<size_t>{0, n - 1}(rng_);
  }

  void poll() {
    std::vector<rec> recs;
    auto n = 1 + pick(8);
    auto p = static_cast<int32_t>(pick(partitions));
    if (!assigned_.count(p))
      return;
    for (size_t k = 0; k < n; ++k) {
      auto o = next_[p]++;
      recs.push_back({p, o, key_of(o)});
    }
    d_.poll(recs);
  }

  void answer() {
    if (d_.outstanding.empty())
      return;
    auto& b = d_.outstanding[pick(d_.outstanding.size())];
    auto r = pick(100);
    auto n = b.items.size();
    if (r < 75) {
      d_.succeed(b.id);
    } else {
      auto at = pick(n);
      d_.answer(b.id, at, record_failure{"failed", r >= 95});
    }
    after_answers();
  }

  void crash() {
    d_.crash(pick(3));
    after_answers();
  }

  void tick() {
    auto before = d_.commits.size();
    d_.absorb(d_.core.on_commit_tick());
    std::vector<partition_offset> fresh(d_.commits.begin() + before,
                                        d_.commits.end());
    for (auto& c : fresh) {
      check_commit(c, "tick");
      committed_[c.partition] = c.offset;
    }
    d_.core.on_committed(fresh, std::nullopt);
  }

  void revoke() {
    std::vector<int32_t> choice;
    for (auto p : assigned_)
      if (!revoking_.count(p))
        choice.push_back(p);
    if (choice.empty())
      return;
    auto p = choice[pick(choice.size())];
    bool lost = pick(10) == 0;
    auto token = next_token_++;
    revoking_[p] = {token, lost};
    ++revokes_;
    d_.absorb(d_.core.on_revoked({p}, lost, token));
    after_answers();
  }

  /// Replies that came in: check them; the partition comes back (the next
  /// owner starts at the committed offset: this one, again).
  void after_answers() {
    for (auto i = revoking_.begin(); i != revoking_.end();) {
      auto [p, r] = *i;
      auto reply = d_.replies.find(r.token);
      if (reply == d_.replies.end()) {
        ++i;
        continue;
      }
      if (!r.lost) {
        for (auto& c : reply->second) {
          check_commit(c, "revoke");
          committed_[c.partition] = c.offset;
        }
      }
      assigned_.erase(p);
      returning_.push_back(p);
      i = revoking_.erase(i);
    }
    if (pick(3) == 0)
      reassign();
  }

  void reassign() {
    for (auto p : returning_) {
      ++d_.epochs[p];
      last_done_.erase(p);
      next_[p] = committed_[p];
      assigned_.insert(p);
      d_.core.on_assigned({p});
    }
    returning_.clear();
  }

  void check_commit(const partition_offset& c, const char* what) {
    std::set<int64_t> done;
    for (auto& x : d_.processed)
      if (x.partition == c.partition)
        done.insert(x.offset);
    for (auto& x : d_.dead_letters)
      if (x.partition == c.partition)
        done.insert(x.offset);
    for (int64_t o = 0; o < c.offset; ++o)
      ASSERT_TRUE(done.count(o) != 0)
          << what << " commit " << c.partition << ":" << c.offset
          << " passes unfinished offset " << o;
    ASSERT_GE(c.offset, committed_[c.partition])
        << what << " commit of " << c.partition << " went backwards";
  }

  void check() {
    ASSERT_LE(d_.core.in_flight(), 12u);
    // Lanes: no key of a current assignment at two workers at once.
    if (d_.core.config().mode != ordering::unordered) {
      std::map<std::pair<int32_t, std::string>, uint64_t> owner;
      for (auto& b : d_.outstanding)
        for (auto& x : b.items) {
          if (x.epoch != d_.epochs[x.partition] ||
              !assigned_.count(x.partition))
            continue;
          auto lane = d_.core.config().mode == ordering::key ? key_of(x.offset)
                                                             : std::string{};
          auto [i, fresh] = owner.emplace(std::pair{x.partition, lane}, b.id);
          ASSERT_TRUE(fresh || i->second == b.id)
              << "lane " << x.partition << "/" << lane << " at two workers";
        }
    }
    // A key's records finish in offset order within an assignment.
    for (; seen_ < d_.processed.size(); ++seen_) {
      auto& x = d_.processed[seen_];
      if (x.epoch != d_.epochs[x.partition] ||
          d_.core.config().mode == ordering::unordered)
        continue;
      auto lane = d_.core.config().mode == ordering::key ? key_of(x.offset)
                                                         : std::string{};
      auto& last = last_done_[x.partition][lane];
      if (last.has_value() && d_.core.partition(x.partition) != nullptr) {
        ASSERT_GT(x.offset, *last) << "lane " << x.partition << "/" << lane
                                   << " finished out of order";
      }
      last = x.offset;
    }
  }

  struct revoke_state {
    uint64_t token = 0;
    bool lost = false;
  };

  std::mt19937_64 rng_;
  core_driver d_;
  std::map<int32_t, int64_t> next_;
  std::map<int32_t, int64_t> committed_;
  std::set<int32_t> assigned_;
  std::map<int32_t, revoke_state> revoking_;
  std::vector<int32_t> returning_;
  uint64_t next_token_ = 1;
  size_t revokes_ = 0;
  size_t seen_ = 0;
  std::map<int32_t, std::map<std::string, std::optional<int64_t>>> last_done_;
};

class source_core_random : public ::testing::TestWithParam<ordering> {};

TEST_P(source_core_random, commits_never_pass_an_unfinished_record) {
  auto seed = seed_from_env(20261201);
  std::printf("seed %llu (DISTILLER_SOURCE_CORE_SEED to replay)\n",
              static_cast<unsigned long long>(seed));
  for (uint64_t round = 0; round < 20; ++round) {
    SCOPED_TRACE("seed " + std::to_string(seed) + " round " +
                 std::to_string(round));
    random_run run{GetParam(), seed + round};
    for (int k = 0; k < 1500 && !::testing::Test::HasFatalFailure(); ++k)
      run.step();
    ASSERT_FALSE(::testing::Test::HasFatalFailure());
    run.settle();
    run.check_final();
    if (round == 0)
      std::printf("round 0: %zu processed, %zu dead letters, %zu revokes\n",
                  run.processed(), run.dead_letters(), run.revokes());
  }
}

INSTANTIATE_TEST_SUITE_P(modes, source_core_random,
                         ::testing::Values(ordering::partition, ordering::key,
                                           ordering::unordered),
                         [](const auto& info) {
                           return std::string{to_string(info.param)};
                         });

} // namespace
