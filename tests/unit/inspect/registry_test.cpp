#include <gtest/gtest.h>

#include <thread>
#include <vector>

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
