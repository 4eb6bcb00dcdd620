#include <gtest/gtest.h>

#include <map>
#include <string>
#include <thread>
#include <vector>

#include "runtime/core/time.hpp"
#include "runtime/inspect/registry.hpp"
#include "runtime/metrics/metrics.hpp"

namespace {

using namespace distiller;

TEST(InspectRegistry, EnrollSnapshotAndRemove) {
  inspect::registry reg{"node-a"};
  auto e = reg.enroll("embedder-1", "embedder", "embedders");
  e->on_message(4);
  e->on_message(2);
  e->add_failure();
  e->add_restart();
  e->set_state("running");
  auto snap = reg.snapshot();
  ASSERT_EQ(snap.size(), 1u);
  EXPECT_EQ(snap[0].name, "embedder-1");
  EXPECT_EQ(snap[0].role, "embedder");
  EXPECT_EQ(snap[0].node, "node-a");
  EXPECT_EQ(snap[0].parent, "embedders");
  EXPECT_EQ(snap[0].processed, 2u);
  EXPECT_EQ(snap[0].mailbox, 2u);
  EXPECT_EQ(snap[0].failures, 1u);
  EXPECT_EQ(snap[0].restarts, 1u);
  EXPECT_EQ(snap[0].state, "running");
  reg.remove("embedder-1");
  EXPECT_TRUE(reg.snapshot().empty());
  EXPECT_EQ(reg.find("embedder-1"), nullptr);
}

TEST(InspectRegistry, ReEnrollKeepsCountsAcrossIncarnations) {
  inspect::registry reg{"n"};
  auto first = reg.enroll("w", "worker");
  first->on_message(0);
  first->add_restart();
  auto second = reg.enroll("w", "worker");
  EXPECT_EQ(first, second);
  EXPECT_EQ(second->processed(), 1u);
  EXPECT_EQ(second->restarts(), 1u);
}

TEST(InspectRegistry, ConcurrentUpdatesAreCounted) {
  inspect::registry reg{"n"};
  auto e = reg.enroll("w", "worker");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        e->on_message(1);
        if (i % 100 == 0)
          reg.snapshot();
      }
    });
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(e->processed(), 40000u);
}

// -- recent errors ------------------------------------------------------------

TEST(InspectRegistry, RecentErrorsKeepTheLastEightNewestFirst) {
  inspect::registry reg{"n"};
  auto e = reg.enroll("w", "worker");
  EXPECT_TRUE(e->recent_errors().empty());
  auto before = now_us();
  for (int i = 0; i < 11; ++i)
    e->record_error("error " + std::to_string(i));
  auto after = now_us();
  auto errors = e->recent_errors();
  ASSERT_EQ(errors.size(), inspect::actor_entry::max_errors);
  for (size_t k = 0; k < errors.size(); ++k) {
    EXPECT_EQ(errors[k].text, "error " + std::to_string(10 - k));
    // RFC 3339 UTC with milliseconds, within the calls' time.
    EXPECT_EQ(errors[k].time.size(), 24u) << errors[k].time;
    EXPECT_EQ(errors[k].time.back(), 'Z');
    auto t = rfc3339_to_us(errors[k].time);
    EXPECT_GE(t, before / 1000 * 1000);
    EXPECT_LE(t, after);
  }
  // The snapshot carries them too, and a re-enrolled actor keeps them.
  auto snap = reg.snapshot();
  ASSERT_EQ(snap.size(), 1u);
  EXPECT_EQ(snap[0].recent_errors, errors);
  EXPECT_EQ(reg.enroll("w", "worker")->recent_errors(), errors);
}

TEST(InspectRegistry, LongErrorsAreCutAtACharacterBoundary) {
  inspect::registry reg{"n"};
  auto e = reg.enroll("w", "worker");
  // "é" is two bytes: a cut at any byte would land inside one half the time.
  std::string text;
  while (text.size() < 5000)
    text += "\xc3\xa9";
  e->record_error(text);
  e->record_error("short");
  auto errors = e->recent_errors();
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].text, "short");
  auto& cut = errors[1].text;
  EXPECT_LE(cut.size(), inspect::actor_entry::max_error_bytes);
  EXPECT_GT(cut.size(), inspect::actor_entry::max_error_bytes - 8);
  ASSERT_GE(cut.size(), 3u);
  EXPECT_EQ(cut.substr(cut.size() - 3), "\u2026");
  auto body = cut.substr(0, cut.size() - 3);
  EXPECT_EQ(body.size() % 2, 0u) << "cut inside a character";
  EXPECT_EQ(body, text.substr(0, body.size()));
}

TEST(InspectRegistry, ConcurrentErrorsStayBounded) {
  inspect::registry reg{"n"};
  auto e = reg.enroll("w", "worker");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5000; ++i) {
        e->record_error("t" + std::to_string(t) + " " + std::to_string(i));
        if (i % 250 == 0) {
          EXPECT_LE(reg.snapshot()[0].recent_errors.size(),
                    inspect::actor_entry::max_errors);
        }
      }
    });
  for (auto& t : threads)
    t.join();
  auto errors = e->recent_errors();
  ASSERT_EQ(errors.size(), inspect::actor_entry::max_errors);
  // Each thread's last error is among the last few (each thread's own
  // errors arrive in its order).
  std::map<std::string, int> last_of;
  for (auto& err : errors) {
    auto space = err.text.find(' ');
    auto thread = err.text.substr(0, space);
    auto n = std::stoi(err.text.substr(space + 1));
    if (last_of.count(thread) == 0) {
      last_of[thread] = n; // newest first: the first seen is its newest
    } else {
      EXPECT_LT(n, last_of[thread]) << err.text;
      last_of[thread] = n;
    }
  }
}

TEST(NodeMetrics, SampleAndRenderExposition) {
  inspect::registry reg{"n"};
  auto e = reg.enroll("probe-kafka", "probe");
  e->on_message(3);
  e->add_failure();
  metrics::node_metrics m{"n"};
  m.actor_restarts()
      .Add({{"actor", "probe-kafka"}, {"role", "probe"}})
      .Increment();
  m.sample(reg);
  auto text = m.render();
  EXPECT_NE(text.find("# TYPE distiller_actor_restarts_total counter"),
            std::string::npos);
  EXPECT_NE(
      text.find(
          R"(distiller_actor_restarts_total{actor="probe-kafka",role="probe"} 1)"),
      std::string::npos)
      << text;
  EXPECT_NE(
      text.find(
          R"(distiller_actor_mailbox_depth{actor="probe-kafka",role="probe"} 3)"),
      std::string::npos)
      << text;
  EXPECT_NE(
      text.find(
          R"(distiller_actor_failures{actor="probe-kafka",role="probe"} 1)"),
      std::string::npos)
      << text;
}

} // namespace
