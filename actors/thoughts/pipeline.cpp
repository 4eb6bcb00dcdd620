#include "actors/thoughts/pipeline.hpp"

#include <algorithm>
#include <chrono>
#include <utility>

#include <caf/all.hpp>

#include "actors/thoughts/agents/builtin.hpp"
#include "actors/thoughts/agents/chat_agent.hpp"
#include "actors/thoughts/pipeline_state.hpp"
#include "actors/thoughts/processor.hpp"
#include "actors/thoughts/records.hpp"
#include "bridges/kafka/kafka_config.hpp"
#include "bridges/kafka/record_batch.hpp"
#include "bridges/kafka/record_worker.hpp"
#include "bridges/kafka/source_binding.hpp"
#include "bridges/kafka/source_bridge.hpp"
#include "bridges/kafka/type_ids.hpp"
#include "runtime/core/ids.hpp"
#include "runtime/core/type_ids.hpp"
#include "runtime/logging/log.hpp"
#include "runtime/tasks/task_pool.hpp"

namespace distiller::thoughts {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

double ms_since(steady::time_point t0) {
  return std::chrono::duration<double, std::milli>(steady::now() - t0).count();
}

// -- agents -------------------------------------------------------------------

agent_ptr build_agent(const pipeline_state& st, agent_kind k) {
  if (st.deps.make_agent)
    return st.deps.make_agent(k);
  if (st.cfg.backend_of(k) != "chat")
    return make_builtin_agent(k);
  auto& a = st.cfg.agents[static_cast<size_t>(k)];
  chat_agent_config cc;
  cc.url = a.url.empty() ? st.cfg.chat_url : a.url;
  cc.model = a.model.empty() ? st.cfg.chat_model : a.model;
  cc.api_key = st.cfg.chat_api_key;
  cc.timeout = st.cfg.chat_timeout;
  return make_chat_agent(k, cc);
}

/// One actor of an agent's pool: runs the agent on each call.
agent_worker::behavior_type agent_actor(agent_worker::pointer self,
                                        agent_ptr agent,
                                        inspect::actor_entry_ptr entry,
                                        std::shared_ptr<pipeline_state> st) {
  if (entry)
    entry->set_state("running");
  return {
      [self, agent, entry, st](const agent_call& call) {
        auto t0 = steady::now();
        agent_outcome o;
        o.backend = agent->backend();
        try {
          o.result = agent->run(*call.input);
          o.ok = true;
        } catch (const agent_error& e) {
          o.error = e.what();
          o.retryable = e.retryable();
        } catch (const std::exception& e) {
          o.error = e.what();
          o.retryable = true;
        }
        o.duration_ms = ms_since(t0);
        st->metrics.agent_call(agent->kind(), o);
        if (entry) {
          entry->on_message(self->mailbox().size());
          if (!o.ok)
            entry->add_failure();
        }
        return o;
      },
  };
}

/// Runs a step through the agent's pool: every call is sent first, then
/// the answers are collected, so the pool works on them in parallel.
class pool_runner : public agent_runner {
 public:
  pool_runner(pipeline_state& st, caf::scoped_actor& self)
      : st_(st), self_(self) {}

  std::vector<agent_outcome>
  run(agent_kind kind,
      const std::vector<std::shared_ptr<const agent_input>>& inputs) override {
    using handle = decltype(self_->request(
        std::declval<const agent_worker&>(),
        std::declval<std::chrono::milliseconds>(), agent_call{}));
    std::vector<std::optional<handle>> pending;
    std::vector<agent_outcome> out(inputs.size());
    auto& pool = st_.workers[static_cast<size_t>(kind)];
    for (auto& in : inputs) {
      auto worker = pool.pick();
      if (!worker) {
        pending.emplace_back(std::nullopt);
        continue;
      }
      pending.emplace_back(
          self_->request(worker, st_.cfg.agent_timeout, agent_call{in}));
    }
    for (size_t i = 0; i < pending.size(); ++i) {
      if (!pending[i]) {
        out[i].error = std::string{"no "} + std::string{agent_name(kind)} +
                       " agent is running";
        continue;
      }
      pending[i]->receive([&](agent_outcome& o) { out[i] = std::move(o); },
                          [&](caf::error& e) {
                            out[i].error = caf::to_string(e);
                            out[i].retryable = true;
                          });
    }
    return out;
  }

 private:
  pipeline_state& st_;
  caf::scoped_actor& self_;
};

/// Events to this node's streams at once, and to thought-updates (waited
/// for in flush()).
class kafka_events : public event_sink {
 public:
  kafka_events(pipeline_state& st, caf::scoped_actor& self)
      : st_(st), self_(self) {}

  void publish(const std::vector<thought_event>& events) override {
    if (events.empty())
      return;
    std::vector<kafka::out_record> records;
    records.reserve(events.size());
    for (auto& e : events) {
      if (st_.deps.broadcaster)
        st_.deps.broadcaster->publish(user_channel(e.user_id),
                                      pipeline_state::to_broadcast(e));
      kafka::out_record r;
      r.topic = st_.cfg.updates_topic;
      r.key = e.user_id;
      r.value = encode(e);
      r.trace = trace_id{e.trace_id};
      records.push_back(std::move(r));
      count(e);
    }
    auto sink = st_.deps.sink ? st_.deps.sink->get() : kafka::sink_actor{};
    if (!sink) {
      error_ =
          caf::make_error(caf::sec::runtime_error, "the sink is not running");
      return;
    }
    pending_.push_back(
        self_->request(sink, kafka::produce_wait(st_.deps.delivery_timeout),
                       atoms::produce_atom_v, std::move(records)));
  }

  caf::error flush() override {
    for (auto& h : pending_)
      h.receive([](std::vector<kafka::delivery>&) {},
                [&](caf::error& e) {
                  if (!error_)
                    error_ = std::move(e);
                });
    pending_.clear();
    return std::exchange(error_, caf::error{});
  }

 private:
  void count(const thought_event& e) {
    if (st_.metrics.events)
      st_.metrics.events->Add({{"type", e.type}}).Increment();
    if (e.type == event_types::completed && st_.metrics.end_to_end) {
      auto created = e.body.find("thought");
      if (created != e.body.end() && created->value().is_object()) {
        auto& t = created->value().as_object();
        if (auto c = t.find("created_at");
            c != t.end() && c->value().is_string()) {
          auto t0 = parse_time_us(c->value().as_string());
          if (t0 > 0 && e.time_us >= t0)
            st_.metrics.end_to_end->Observe(
                static_cast<double>(e.time_us - t0) / 1e6);
        }
      }
    }
  }

  /// What requesting a batch of the (typed) sink returns.
  using handle = decltype(std::declval<caf::scoped_actor&>()->request(
      std::declval<const kafka::sink_actor&>(),
      std::declval<std::chrono::milliseconds>(), atoms::produce_atom_v,
      std::declval<std::vector<kafka::out_record>>()));
  pipeline_state& st_;
  caf::scoped_actor& self_;
  std::vector<handle> pending_;
  caf::error error_;
};

// -- the workers of thought-processing
// ------------------------------------------

/// A source bridge's worker (kafka::record_worker_actor) that runs a whole
/// batch through one processor: the agents of its thoughts work in
/// parallel.
kafka::record_worker_actor::behavior_type
thought_worker(kafka::record_worker_actor::pointer self,
               inspect::actor_entry_ptr entry,
               std::shared_ptr<pipeline_state> st) {
  if (entry)
    entry->set_state("running");
  return {
      [self, entry, st](const kafka::record_batch& batch) {
        std::vector<work_item> items(batch.size());
        for (size_t i = 0; i < batch.size(); ++i) {
          auto& rec = batch[i];
          items[i].lane = rec.key.value_or("");
          items[i].attempt = rec.attempt;
          try {
            items[i].created = decode_thought_created(rec.value);
            if (items[i].lane.empty())
              items[i].lane = items[i].created.user_id;
          } catch (const record_error& e) {
            items[i].undecodable = e.what();
          }
        }
        caf::scoped_actor blocking{self->system()};
        pool_runner agents{*st, blocking};
        kafka_events events{*st, blocking};
        processor proc{
            {st->cfg.max_attempts, st->inflight}, *st->store, agents, events};
        auto results = proc.process(items);
        if (entry) {
          entry->set_mailbox(self->mailbox().size());
          entry->add_processed(results.size());
        }
        return results;
      },
  };
}

supervision::child_spec
processing_bridge(const std::shared_ptr<pipeline_state>& st) {
  kafka::source_binding b;
  b.name = "thought-processor";
  b.topic = st->cfg.topic;
  b.group = st->cfg.group;
  b.mode = kafka::ordering::key;
  b.pool_size = st->cfg.workers;
  b.max_batch = static_cast<size_t>(st->cfg.batch);
  b.max_batches_per_worker = 1;
  b.retry = backoff_policy{st->cfg.max_attempts, st->cfg.retry_backoff, 2.0,
                           30s, 0.2};
  b.dead_letter_topic = st->cfg.dead_letter_topic;
  b.commit_interval = 500ms;
  // Five agents per thought, a chat backend may take a minute per call.
  b.worker_timeout = st->cfg.agent_timeout * 6 +
                     kafka::produce_wait(st->deps.delivery_timeout);
  b.max_in_flight = 2000;
  b.max_in_flight_per_partition = 1000;
  b.worker = [st](caf::actor_system& sys, inspect::actor_entry_ptr entry) {
    return sys.spawn<caf::detached>(thought_worker, std::move(entry), st);
  };
  return {"thought-processor-bridge", "bridge",
          [st, b](caf::actor_system& sys, inspect::actor_entry_ptr) {
            kafka::bridge_deps deps;
            deps.actors = st->deps.actors;
            deps.metrics = st->deps.metrics;
            deps.codecs = st->deps.codecs;
            deps.trace = st->deps.trace;
            auto bound = b;
            for (auto& [k, v] : st->deps.consumer_properties)
              bound.consumer_properties.emplace(k, v);
            return caf::actor_cast<caf::actor>(
                kafka::spawn_source_bridge(sys, st->deps.brokers, bound, deps));
          }};
}

// -- the follower of thought-updates
// --------------------------------------------

supervision::child_spec
follower_bridge(const std::shared_ptr<pipeline_state>& st) {
  kafka::source_binding b;
  b.name = "thought-follower";
  b.topic = st->cfg.updates_topic;
  // Every API node sees every event: a fresh group of its own, from the
  // latest offset (a stream syncs from PostgreSQL first, so nothing older
  // is needed).
  b.group = "distiller-thought-updates-" + st->deps.node_name + "-" +
            make_uuid().substr(0, 8);
  b.mode = kafka::ordering::key;
  b.pool_size = 1;
  b.auto_offset_reset = "latest";
  b.commit_interval = 1000ms;
  b.max_batch = 256;
  b.retry = backoff_policy{2, 100ms, 2.0, 1s, 0.2};
  auto factory = kafka::record_worker_factory(
      [st](const kafka::in_record& rec) -> caf::error {
        thought_event e;
        try {
          e = decode_thought_event(rec.value);
        } catch (const record_error& err) {
          return caf::make_error(kafka::record_errc::undecodable, err.what());
        }
        if (st->deps.broadcaster) {
          auto b = std::make_shared<broadcast::event>();
          b->seq = e.seq;
          b->type = e.type;
          b->data = rec.value;
          b->time_us = e.time_us;
          st->deps.broadcaster->publish(user_channel(e.user_id), std::move(b));
        }
        return {};
      },
      {.detached = false, .trace = st->deps.trace});
  b.worker = factory;
  return {"thought-follower-bridge", "bridge",
          [st, b](caf::actor_system& sys, inspect::actor_entry_ptr) {
            kafka::bridge_deps deps;
            deps.actors = st->deps.actors;
            deps.metrics = st->deps.metrics;
            deps.codecs = st->deps.codecs;
            deps.trace = st->deps.trace;
            auto bound = b;
            for (auto& [k, v] : st->deps.consumer_properties)
              bound.consumer_properties.emplace(k, v);
            return caf::actor_cast<caf::actor>(
                kafka::spawn_source_bridge(sys, st->deps.brokers, bound, deps));
          }};
}

} // namespace

// -- pipeline
// -------------------------------------------------------------------

pipeline::pipeline(caf::actor_system& sys, thoughts_config cfg,
                   pipeline_deps deps)
    : state_(std::make_shared<pipeline_state>(sys, std::move(cfg),
                                              std::move(deps))) {}

pipeline::~pipeline() {
  stop();
}

void pipeline::prepare() {
  auto& st = *state_;
  thought_store_config sc;
  sc.dsn = st.deps.dsn;
  sc.pool_size = st.cfg.pg_pool;
  sc.processing_topic = st.cfg.topic;
  st.store = std::make_shared<thought_store>(sc);
  if (st.deps.roles.thoughts) {
    for (auto k : all_agents) {
      st.agents[static_cast<size_t>(k)] = build_agent(st, k);
      st.workers[static_cast<size_t>(k)].resize(
          static_cast<size_t>(st.cfg.agent_pool));
    }
    if (st.deps.embedded_kafka) {
      // The embedded Kafka starts empty: what it held died with the last
      // process, so every unfinished thought is published again now.
      auto n = st.store->redrive_all();
      if (n > 0) {
        log::info("thoughts_redriven", {{"thoughts", n}, {"reason", "start"}});
        if (st.deps.wake_relay)
          st.deps.wake_relay();
      }
    }
  }
  if (st.deps.roles.api)
    st.api = std::make_unique<tasks::task_pool>(
        st.sys, "thought-api", "thought-api", st.cfg.api_workers,
        st.deps.actors, static_cast<size_t>(st.cfg.max_queued));
}

std::vector<supervision::child_spec> pipeline::children() {
  auto st = state_;
  std::vector<supervision::child_spec> out;
  if (st->deps.roles.thoughts) {
    for (auto k : all_agents) {
      for (int i = 0; i < st->cfg.agent_pool; ++i) {
        auto name =
            "agent-" + std::string{agent_name(k)} + "-" + std::to_string(i + 1);
        auto slot = static_cast<size_t>(i);
        out.push_back(
            {name, "agent",
             [st, k, slot](caf::actor_system& sys,
                           inspect::actor_entry_ptr entry) {
               auto agent = st->agents[static_cast<size_t>(k)];
               // Chat agents block on HTTP: their own threads.
               auto a =
                   agent->backend() == "builtin"
                       ? sys.spawn(agent_actor, agent, std::move(entry), st)
                       : sys.spawn<caf::detached>(agent_actor, agent,
                                                  std::move(entry), st);
               st->workers[static_cast<size_t>(k)].set(slot, a);
               return caf::actor_cast<caf::actor>(a);
             }});
      }
    }
    out.push_back(processing_bridge(st));
    out.push_back({"thought-janitor", "janitor",
                   [st](caf::actor_system& sys, inspect::actor_entry_ptr e) {
                     return caf::actor_cast<caf::actor>(
                         spawn_janitor(sys, st, std::move(e)));
                   }});
  }
  if (st->deps.roles.api) {
    out.push_back(follower_bridge(st));
    out.push_back({"thought-stream-watcher", "watcher",
                   [st](caf::actor_system& sys, inspect::actor_entry_ptr e) {
                     return caf::actor_cast<caf::actor>(
                         spawn_stream_watcher(sys, st, std::move(e)));
                   }});
  }
  return out;
}

std::shared_ptr<thought_service> pipeline::service() {
  if (!state_->deps.roles.api)
    return nullptr;
  return make_pipeline_service(state_);
}

void pipeline::stop() {
  if (state_->api)
    state_->api->stop();
}

void pipeline::release_actors() {
  for (auto& w : state_->workers)
    w.clear();
  state_->api.reset();
}

} // namespace distiller::thoughts
