#pragma once

/// The thought pipeline's parts shared by its files (pipeline.cpp: the
/// agent pools and bridges; pipeline_services.cpp: the janitor, the stream
/// watcher and the API service): its state and the factories of the parts
/// that only read it. Private to actors/thoughts.

#include <array>
#include <memory>
#include <mutex>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/typed_actor.hpp>
#include <prometheus/counter.h>
#include <prometheus/histogram.h>

#include "actors/broadcast/broadcaster.hpp"
#include "actors/thoughts/agents/agent.hpp"
#include "actors/thoughts/pipeline.hpp"
#include "actors/thoughts/processor.hpp"
#include "actors/thoughts/records.hpp"
#include "actors/thoughts/service.hpp"
#include "actors/thoughts/thought_store.hpp"
#include "runtime/core/type_ids.hpp"
#include "runtime/inspect/registry.hpp"
#include "runtime/tasks/task_pool.hpp"

namespace distiller::thoughts {

/// One agent call, by reference to its input (local only).
struct agent_call {
  std::shared_ptr<const agent_input> input;
};

} // namespace distiller::thoughts

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(distiller::thoughts::agent_call)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(distiller::thoughts::agent_outcome)

namespace distiller::thoughts {

/// One actor of an agent's pool, as the compiler checks it: a call,
/// answered with its outcome (failures are outcomes too).
using agent_worker =
    caf::typed_actor<caf::replies_to<agent_call>::with<agent_outcome>>;

/// The current actors of one agent's pool, replaced when their supervisor
/// restarts one.
class worker_set {
 public:
  void resize(size_t n) {
    std::lock_guard<std::mutex> guard{mtx_};
    slots_.resize(n);
  }
  void set(size_t i, agent_worker a) {
    std::lock_guard<std::mutex> guard{mtx_};
    if (i < slots_.size())
      slots_[i] = std::move(a);
  }
  agent_worker pick() {
    std::lock_guard<std::mutex> guard{mtx_};
    for (size_t k = 0; k < slots_.size(); ++k) {
      auto& a = slots_[next_++ % slots_.size()];
      if (a)
        return a;
    }
    return {};
  }
  void clear() {
    std::lock_guard<std::mutex> guard{mtx_};
    for (auto& a : slots_)
      a = agent_worker{};
  }

 private:
  std::mutex mtx_;
  std::vector<agent_worker> slots_;
  size_t next_ = 0;
};

/// The pipeline's metric families.
struct thought_metrics {
  prometheus::Family<prometheus::Counter>* events = nullptr;
  prometheus::Family<prometheus::Histogram>* agent_seconds = nullptr;
  prometheus::Family<prometheus::Counter>* agent_failures = nullptr;
  prometheus::Histogram* end_to_end = nullptr;

  explicit thought_metrics(metrics::node_metrics* m) {
    if (!m)
      return;
    auto& r = m->registry();
    events = &prometheus::BuildCounter()
                  .Name("distiller_thought_events_total")
                  .Help("Thought events written, by type (thought_completed "
                        "counts completed thoughts)")
                  .Register(r);
    agent_seconds = &prometheus::BuildHistogram()
                         .Name("distiller_thought_agent_seconds")
                         .Help("Time of one agent call")
                         .Register(r);
    agent_failures = &prometheus::BuildCounter()
                          .Name("distiller_thought_agent_failures_total")
                          .Help("Agent calls that failed")
                          .Register(r);
    // The failure series exist at 0 from the start: a series that first
    // appears with its first failure hides that failure from increase()
    // and rate(), which docker/prometheus/alerts.yml and the Grafana
    // dashboard use (a family without series is not exported at all).
    for (auto k : all_agents)
      agent_failures->Add({{"agent", std::string{agent_name(k)}}});
    events->Add({{"type", event_types::failed}});
    end_to_end = &prometheus::BuildHistogram()
                      .Name("distiller_thought_completion_seconds")
                      .Help("From submission to thought_completed")
                      .Register(r)
                      .Add({}, prometheus::Histogram::BucketBoundaries{
                                   0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                                   2.5, 5, 10, 30, 60, 300});
  }

  void agent_call(agent_kind k, const agent_outcome& o) {
    if (!agent_seconds)
      return;
    std::string name{agent_name(k)};
    agent_seconds
        ->Add({{"agent", name}},
              prometheus::Histogram::BucketBoundaries{
                  0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30})
        .Observe(o.duration_ms / 1000.0);
    if (!o.ok)
      agent_failures->Add({{"agent", name}}).Increment();
  }
};

struct pipeline_state {
  caf::actor_system& sys;
  thoughts_config cfg;
  pipeline_deps deps;
  std::shared_ptr<thought_store> store;
  /// The thoughts an attempt runs for in this node (processor.hpp).
  std::shared_ptr<inflight_thoughts> inflight =
      std::make_shared<inflight_thoughts>();
  std::array<agent_ptr, agent_count> agents;
  std::array<worker_set, agent_count> workers;
  std::unique_ptr<tasks::task_pool> api;
  thought_metrics metrics;

  pipeline_state(caf::actor_system& s, thoughts_config c, pipeline_deps d)
      : sys(s), cfg(std::move(c)), deps(std::move(d)), metrics(deps.metrics) {}

  /// The broadcaster event of a thought event.
  static broadcast::event_ptr to_broadcast(const thought_event& e) {
    auto b = std::make_shared<broadcast::event>();
    b->seq = e.seq;
    b->type = e.type;
    b->data = encode(e);
    b->time_us = e.time_us;
    return b;
  }
};

/// The janitor (redrives stuck thoughts, prunes old events): its own timer
/// only.
using janitor_actor = caf::typed_actor<caf::reacts_to<atoms::janitor_atom>>;

janitor_actor spawn_janitor(caf::actor_system& sys,
                            std::shared_ptr<pipeline_state> st,
                            inspect::actor_entry_ptr entry);

/// The stream watcher (the heads of the users this node streams to, every
/// second): its own timer only.
using watcher_actor = caf::typed_actor<caf::reacts_to<atoms::heads_atom>>;

watcher_actor spawn_stream_watcher(caf::actor_system& sys,
                                   std::shared_ptr<pipeline_state> st,
                                   inspect::actor_entry_ptr entry);

/// The API nodes' thought_service: the store behind a task pool, replays
/// from PostgreSQL.
std::shared_ptr<thought_service>
make_pipeline_service(std::shared_ptr<pipeline_state> st);

} // namespace distiller::thoughts
