#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "runtime/core/time.hpp"
#include "runtime/inspect/trace_ring.hpp"

namespace {

using namespace distiller;

TEST(TraceRing, DefaultsToFourThousandNinetySixEntries) {
  inspect::trace_ring ring;
  EXPECT_EQ(ring.capacity(), 4096u);
  EXPECT_EQ(ring.size(), 0u);
  EXPECT_EQ(inspect::trace_ring{0}.capacity(), 1u);
}

TEST(TraceRing, FindsATraceOldestFirst) {
  inspect::trace_ring ring{16};
  auto before = now_us();
  ring.record("t1", "chunker-worker-0", "record", "docs/0@1 ok");
  ring.record("t2", "http", "http", "GET /health 200 0.1 ms");
  ring.record("t1", "embedder-worker-3", "record", "chunks/2@7 ok");
  ring.record("t1", "chunker-source", "dead_letter", "docs/0@2 -> docs.dlq");
  auto found = ring.find("t1");
  ASSERT_EQ(found.size(), 3u);
  EXPECT_EQ(found[0].actor, "chunker-worker-0");
  EXPECT_EQ(found[0].what, "record");
  EXPECT_EQ(found[0].detail, "docs/0@1 ok");
  EXPECT_EQ(found[1].actor, "embedder-worker-3");
  EXPECT_EQ(found[2].what, "dead_letter");
  for (auto& e : found) {
    EXPECT_EQ(e.trace_id, "t1");
    EXPECT_GE(e.time_us, before);
    EXPECT_LE(e.time_us, now_us());
  }
  EXPECT_LE(found[0].time_us, found[2].time_us);
  EXPECT_EQ(ring.find("t2").size(), 1u);
  EXPECT_TRUE(ring.find("nope").empty());
  EXPECT_TRUE(ring.find("").empty());
}

TEST(TraceRing, IsBoundedAndForgetsTheOldest) {
  inspect::trace_ring ring{8};
  for (int i = 0; i < 20; ++i)
    ring.record(i % 2 == 0 ? "even" : "odd", "w", "record", std::to_string(i));
  EXPECT_EQ(ring.size(), 8u);
  EXPECT_EQ(ring.recorded(), 20u);
  // Entries 12..19 are left.
  auto even = ring.find("even");
  ASSERT_EQ(even.size(), 4u);
  EXPECT_EQ(even[0].detail, "12");
  EXPECT_EQ(even[3].detail, "18");
  auto odd = ring.find("odd");
  ASSERT_EQ(odd.size(), 4u);
  EXPECT_EQ(odd[0].detail, "13");
  EXPECT_EQ(odd[3].detail, "19");
}

TEST(TraceRing, ConcurrentWritersLoseNothingTheRingHolds) {
  constexpr int writers = 4;
  constexpr int per_writer = 20'000;
  inspect::trace_ring ring{1024};
  std::atomic<bool> stop{false};
  // A reader searching all the time must see each writer's entries in its
  // order and never a torn entry.
  std::thread reader{[&] {
    while (!stop) {
      for (int w = 0; w < writers; ++w) {
        auto found = ring.find("writer-" + std::to_string(w));
        int last = -1;
        for (auto& e : found) {
          ASSERT_EQ(e.actor, "actor-" + std::to_string(w));
          auto n = std::stoi(e.detail);
          ASSERT_GT(n, last);
          last = n;
        }
      }
    }
  }};
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w)
    threads.emplace_back([&ring, w] {
      auto trace = "writer-" + std::to_string(w);
      auto actor = "actor-" + std::to_string(w);
      for (int i = 0; i < per_writer; ++i)
        ring.record(trace, actor, "record", std::to_string(i));
    });
  for (auto& t : threads)
    t.join();
  stop = true;
  reader.join();
  EXPECT_EQ(ring.recorded(), uint64_t{writers} * per_writer);
  EXPECT_EQ(ring.size(), 1024u);
  size_t total = 0;
  for (int w = 0; w < writers; ++w) {
    auto found = ring.find("writer-" + std::to_string(w));
    total += found.size();
    // Whatever is left of a writer is its newest entries, in order.
    for (size_t k = 1; k < found.size(); ++k)
      EXPECT_EQ(std::stoi(found[k].detail), std::stoi(found[k - 1].detail) + 1);
  }
  EXPECT_EQ(total, 1024u);
}

} // namespace
