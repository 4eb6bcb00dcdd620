#pragma once

/// Drives a source_core (bridges/kafka/source_core.hpp) the way the bridge
/// actor does, without actors or a broker: a fake clock, timers that fire
/// when the test advances it, workers that are slot indices answering
/// whatever the test says, and a record of every effect — commits, pauses,
/// resumes, replies, dead letters — to assert on. Deterministic: nothing
/// here reads the real clock or sleeps.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "bridges/kafka/record_chunk.hpp"
#include "bridges/kafka/source_core.hpp"
#include "bridges/kafka/source_metrics.hpp"
#include "runtime/inspect/registry.hpp"
#include "runtime/logging/log.hpp"

namespace distiller::kafka {

inline void PrintTo(const partition_offset& x, std::ostream* os) {
  *os << x.partition << ":" << x.offset;
}

} // namespace distiller::kafka

namespace distiller::kafka::test {

using detail::batch_fault;
using detail::record_failure;
using detail::source_core;
using detail::source_core_config;
using detail::source_effects;
using namespace std::chrono_literals;

/// A record to poll.
struct rec {
  int32_t partition = 0;
  int64_t offset = 0;
  /// Empty: no key.
  std::string key;
};

/// A batch a worker holds.
struct held_batch {
  uint64_t id = 0;
  size_t worker = 0;
  /// (partition, offset, attempt) of each record, in batch order.
  struct item {
    int32_t partition = 0;
    int64_t offset = 0;
    int attempt = 0;
    /// The partition's assignment (core_driver::epochs) when it was sent.
    int epoch = 0;
    bool operator==(const item&) const = default;
    friend void PrintTo(const item& x, std::ostream* os) {
      *os << x.partition << "@" << x.offset << " attempt " << x.attempt;
    }
  };
  std::vector<item> items;
};

inline source_core_config test_config() {
  source_core_config c;
  c.name = "t";
  c.topic = "topic";
  c.dlq_topic = "topic.dlq";
  c.entry_name = "t-source";
  c.mode = ordering::key;
  c.retry = backoff_policy{3, 100ms, 2.0, 10s, 0.0};
  c.max_in_flight = 1000;
  c.max_in_flight_per_partition = 500;
  c.partition_buffer_limit = 1000;
  c.max_batch = 256;
  c.max_batches_per_worker = 2;
  c.worker_timeout = 30s;
  c.drain_timeout = 10s;
  c.seed = 42;
  return c;
}

class core_driver {
 public:
  explicit core_driver(source_core_config cfg = test_config(),
                       size_t workers = 2)
      : core(std::move(cfg), metrics,
             std::make_shared<inspect::actor_entry>("t-source", "bridge",
                                                    "test", ""),
             nullptr,
             {[this] { return now_ns; },
              [this] {
                return wall_ms();
              }}) {
    log::set_sink([this](std::string_view line) { lines.emplace_back(line); });
    core.start_pool(workers);
    for (size_t i = 0; i < workers; ++i)
      absorb(core.on_worker_found(detail::worker_name("t", i), incarnation(i)));
  }

  ~core_driver() { log::set_sink({}); }

  /// Captured log lines containing every one of `parts`.
  size_t logged(const std::vector<std::string>& parts) const {
    size_t n = 0;
    for (auto& l : lines) {
      bool all = true;
      for (auto& p : parts)
        all = all && l.find(p) != std::string::npos;
      n += all ? 1 : 0;
    }
    return n;
  }

  // -- the world
  // ----------------------------------------------------------------

  /// Worker slot i's current incarnation id (bumped by restart).
  uint64_t incarnation(size_t i) {
    auto& x = incarnations_[i];
    if (x == 0)
      x = 100 + i;
    return x;
  }

  int64_t wall_ms() const { return 1'700'000'000'000 + now_ns / 1'000'000; }

  /// One poll's records, polled now.
  void poll(const std::vector<rec>& recs) {
    auto c = std::make_shared<record_chunk>();
    for (auto& r : recs) {
      auto& x = c->append();
      x.topic = "topic";
      x.partition = r.partition;
      x.offset = r.offset;
      if (r.key.empty())
        x.key.reset();
      else
        x.key = r.key;
      x.value = "v" + std::to_string(r.offset);
    }
    absorb(core.on_records(c, now_ns));
  }

  /// `n` records of `partition` from `first` on, keys k<offset % keys>.
  void poll_range(int32_t partition, int64_t first, int64_t n, int keys = 1) {
    std::vector<rec> recs;
    for (auto o = first; o < first + n; ++o)
      recs.push_back({partition, o, "k" + std::to_string(o % keys)});
    poll(recs);
  }

  /// Lets the clock run; fires due timers in time order.
  void advance(std::chrono::milliseconds d) {
    auto until = now_ns + d.count() * 1'000'000;
    for (;;) {
      auto i =
          std::min_element(timers_.begin(), timers_.end(),
                           [](auto& a, auto& b) { return a.first < b.first; });
      if (i == timers_.end() || i->first > until)
        break;
      now_ns = std::max(now_ns, i->first);
      auto t = i->second;
      timers_.erase(i);
      if (t.kind == source_effects::timer::retry)
        absorb(core.on_retry_due(t.id));
      else
        absorb(core.on_drain_timeout(t.id));
    }
    now_ns = until;
  }

  // -- workers
  // ------------------------------------------------------------------

  /// Answers the oldest outstanding batch (or batch `id`) with `succeeded`
  /// records done and optionally the next one failed.
  void answer(uint64_t id, size_t succeeded,
              std::optional<record_failure> failure = std::nullopt) {
    auto i = find_batch(id);
    EXPECT_NE(i, outstanding.end()) << "batch " << id;
    if (i == outstanding.end())
      return;
    auto b = *i;
    outstanding.erase(i);
    for (size_t k = 0; k < std::min(succeeded, b.items.size()); ++k)
      processed.push_back(b.items[k]);
    absorb(core.on_batch_done(b.id, succeeded, std::move(failure)));
  }

  /// Answers batch `id` completely.
  void succeed(uint64_t id) {
    auto i = find_batch(id);
    ASSERT_NE(i, outstanding.end());
    answer(id, i->items.size());
  }

  /// Answers every outstanding batch (and those its answers cause) until
  /// none is left or `rounds` ran out.
  void succeed_all(int rounds = 1000) {
    while (!outstanding.empty() && rounds-- > 0)
      succeed(outstanding.front().id);
  }

  /// Worker slot i crashes: its incarnation goes down, the pool restarts it.
  void crash(size_t i, const std::string& why = "boom") {
    auto old = incarnation(i);
    std::erase_if(outstanding,
                  [i](const held_batch& b) { return b.worker == i; });
    absorb(core.on_worker_down(old, why));
    incarnations_[i] = old + 1000;
    absorb(core.on_worker_restarted(detail::worker_name("t", i), incarnation(i),
                                    "restarted"));
  }

  std::vector<held_batch>::iterator find_batch(uint64_t id) {
    return std::find_if(outstanding.begin(), outstanding.end(),
                        [id](const held_batch& b) { return b.id == id; });
  }

  // -- effects
  // ------------------------------------------------------------------

  void absorb(source_effects fx) {
    for (auto p : fx.pause)
      paused.insert(p);
    for (auto p : fx.resume)
      paused.erase(p);
    pauses += fx.pause.size();
    resumes += fx.resume.size();
    for (auto& c : fx.commits)
      commits.push_back(c);
    for (auto& s : fx.sends) {
      EXPECT_EQ(s.incarnation, incarnation(s.worker))
          << "a batch went to a dead incarnation";
      held_batch b;
      b.id = s.batch;
      b.worker = s.worker;
      for (size_t k = 0; k < s.records.size(); ++k)
        b.items.push_back({s.records[k].partition, s.records[k].offset,
                           s.records[k].attempt,
                           epochs[s.records[k].partition]});
      outstanding.push_back(std::move(b));
    }
    for (auto seq : fx.dead_letters) {
      auto req = core.dead_letter_of(seq);
      EXPECT_TRUE(req.has_value());
      if (!req)
        continue;
      dead_letters.push_back(
          {req->rec->partition, req->rec->offset, req->attempts});
      // Acknowledged at once unless the test holds dead letters back.
      if (!hold_dead_letters)
        absorb(core.on_dead_lettered(seq, std::nullopt));
      else
        held_dead_letters.push_back(seq);
    }
    for (auto& t : fx.timers)
      timers_.emplace_back(now_ns + t.delay.count() * 1'000'000, t);
    for (auto& r : fx.replies)
      replies[r.token] = r.offsets;
    for (auto& k : fx.kills)
      kills.push_back(k.index);
    if (fx.close)
      closed = *fx.close;
  }

  /// The offsets a reply or close carried for `p` (-1 if none).
  static int64_t offset_of(const std::vector<partition_offset>& xs, int32_t p) {
    for (auto& x : xs)
      if (x.partition == p)
        return x.offset;
    return -1;
  }

  size_t pending_timers() const { return timers_.size(); }

  std::vector<std::string> lines;
  int64_t now_ns = 1'000'000'000;
  metrics::node_metrics node{"test-node"};
  source_metrics metrics{&node, "t"};
  source_core core;

  std::vector<held_batch> outstanding;
  std::vector<held_batch::item> processed;
  std::vector<held_batch::item> dead_letters;
  bool hold_dead_letters = false;
  std::vector<uint64_t> held_dead_letters;
  std::vector<partition_offset> commits;
  std::set<int32_t> paused;
  size_t pauses = 0;
  size_t resumes = 0;
  std::map<uint64_t, std::vector<partition_offset>> replies;
  std::vector<size_t> kills;
  std::optional<std::vector<partition_offset>> closed;
  /// Assignment numbers per partition, for tests that revoke and reassign.
  std::map<int32_t, int> epochs;

 private:
  std::map<size_t, uint64_t> incarnations_;
  std::vector<std::pair<int64_t, source_effects::timer>> timers_;
};

} // namespace distiller::kafka::test
