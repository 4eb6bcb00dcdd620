#include "actors/broadcast/broadcaster.hpp"

#include <chrono>
#include <cmath>
#include <utility>

#include <caf/all.hpp>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>

#include "actors/broadcast/type_ids.hpp"
#include "runtime/core/time.hpp"
#include "runtime/logging/log.hpp"
#include "runtime/tasks/task_pool.hpp"

namespace distiller::broadcast {

// Its messages and interface (messages.hpp) and atoms (type_ids.hpp).
using detail::channels_atom;
using detail::gap_atom;
using detail::head_atom;
using detail::publish_msg;
using detail::replay_msg;
using detail::shutdown_atom;
using detail::subscribe_msg;
using detail::unsubscribe_atom;

// -- metrics ------------------------------------------------------------------

class broadcast_metrics : public hub_observer {
 public:
  explicit broadcast_metrics(metrics::node_metrics* m) {
    if (!m)
      return;
    auto& r = m->registry();
    connections_ = &prometheus::BuildGauge()
                        .Name("distiller_sse_connections")
                        .Help("Open Server-Sent Events streams")
                        .Register(r)
                        .Add({});
    sent_ = &prometheus::BuildCounter()
                 .Name("distiller_sse_events_sent_total")
                 .Help("Events written to SSE streams (replayed included)")
                 .Register(r);
    replayed_ = &prometheus::BuildCounter()
                     .Name("distiller_sse_events_replayed_total")
                     .Help("Events written to SSE streams from a replay "
                           "(resume or gap fill)")
                     .Register(r);
    dropped_ = &prometheus::BuildCounter()
                    .Name("distiller_sse_events_dropped_total")
                    .Help("Events not written: duplicate, stale or the "
                          "client gone")
                    .Register(r);
    recoveries_ = &prometheus::BuildCounter()
                       .Name("distiller_sse_recoveries_total")
                       .Help("Gaps filled from the replay source (fill) and "
                             "resets sent (reset)")
                       .Register(r);
    slow_ = &prometheus::BuildCounter()
                 .Name("distiller_sse_slow_disconnects_total")
                 .Help("Streams ended because the client read too slowly "
                       "(queue_full) or not at all (write_timeout)")
                 .Register(r);
    rejected_ = &prometheus::BuildCounter()
                     .Name("distiller_sse_rejected_total")
                     .Help("Streams refused over a connection cap")
                     .Register(r);
    // The refusal series exist at 0 from the start (the reasons of
    // stream.cpp's open_stream): a series that first appears with its first
    // increment hides it from increase() and rate(), and a family without
    // series is not exported at all (docker/prometheus/alerts.yml, the
    // Grafana dashboard).
    rejected_->Add({{"reason", "node_full"}});
    rejected_->Add({{"reason", "user_full"}});
    latency_ = &prometheus::BuildHistogram()
                    .Name("distiller_sse_publish_to_send_seconds")
                    .Help("From an event's creation to its write to a stream")
                    .Register(r);
  }

  void set_connections(size_t n) {
    if (connections_)
      connections_->Set(static_cast<double>(n));
  }

  void sent(const std::string& stream, const event& e, bool replayed,
            clock::time_point) override {
    if (!sent_)
      return;
    sent_->Add({{"stream", stream}}).Increment();
    if (replayed) {
      replayed_->Add({{"stream", stream}}).Increment();
      return; // a replayed event's age measures the outage, not the path
    }
    if (e.time_us > 0) {
      double secs = static_cast<double>(now_us() - e.time_us) / 1e6;
      latency_
          ->Add({{"stream", stream}},
                prometheus::Histogram::BucketBoundaries{
                    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                    0.5, 1, 2.5, 5})
          .Observe(secs < 0 ? 0 : secs);
    }
  }

  void dropped(const std::string& stream, const char* why) override {
    if (dropped_)
      dropped_->Add({{"stream", stream}, {"reason", why}}).Increment();
  }

  void recovered(const std::string& stream, const char* how) override {
    if (recoveries_)
      recoveries_->Add({{"stream", stream}, {"kind", how}}).Increment();
  }

  /// A stream of kind `stream` opened: its counters exist from now on, at
  /// 0 until they count (see the refusals above), with the reasons and
  /// kinds hub.cpp and stream.cpp count with.
  void stream_opened(const std::string& stream) {
    if (!slow_)
      return;
    sent_->Add({{"stream", stream}});
    replayed_->Add({{"stream", stream}});
    for (auto why : {"duplicate", "stale", "gone"})
      dropped_->Add({{"stream", stream}, {"reason", why}});
    for (auto how : {"fill", "reset"})
      recoveries_->Add({{"stream", stream}, {"kind", how}});
    for (auto why : {"queue_full", "write_timeout"})
      slow_->Add({{"stream", stream}, {"reason", why}});
  }

  void slow(const std::string& stream, const char* reason) {
    if (slow_)
      slow_->Add({{"stream", stream}, {"reason", reason}}).Increment();
  }

  void rejected(const char* reason) {
    if (rejected_)
      rejected_->Add({{"reason", reason}}).Increment();
  }

 private:
  prometheus::Gauge* connections_ = nullptr;
  prometheus::Family<prometheus::Counter>* sent_ = nullptr;
  prometheus::Family<prometheus::Counter>* replayed_ = nullptr;
  prometheus::Family<prometheus::Counter>* dropped_ = nullptr;
  prometheus::Family<prometheus::Counter>* recoveries_ = nullptr;
  prometheus::Family<prometheus::Counter>* slow_ = nullptr;
  prometheus::Family<prometheus::Counter>* rejected_ = nullptr;
  prometheus::Family<prometheus::Histogram>* latency_ = nullptr;
};

// -- replay workers -----------------------------------------------------------

struct broadcaster::replay_pool {
  tasks::task_pool pool;
  replay_pool(caf::actor_system& sys, int n, inspect::registry* actors)
      : pool(sys, "sse-replay", "replay", n, actors) {}
};

namespace {

// -- the actor ----------------------------------------------------------------

struct broadcaster_state {
  static inline const char* name = "broadcaster";
  std::unique_ptr<hub> core;
  std::shared_ptr<broadcast_metrics> metrics;
  std::weak_ptr<tasks::task_pool> replays;
  inspect::actor_entry_ptr entry;
};

using broadcaster_self = broadcaster_actor::stateful_pointer<broadcaster_state>;

void perform(broadcaster_self self, effects& fx,
             const std::shared_ptr<tasks::task_pool>& pool) {
  for (auto& call : fx.replays) {
    if (!pool)
      break;
    auto me = caf::actor_cast<broadcaster_actor>(self);
    auto posted = pool->post([me, call] {
      replay_msg msg;
      msg.id = call.subscriber;
      try {
        msg.result = call.source->replay(call.channel, call.after, call.limit);
      } catch (const std::exception& e) {
        msg.failed = true;
        log::warn("sse_replay_failed",
                  {{"channel", call.channel}, {"error", e.what()}});
      }
      caf::anon_send(me, std::move(msg));
    });
    if (!posted) {
      replay_msg msg;
      msg.id = call.subscriber;
      msg.failed = true;
      self->send(self, std::move(msg));
    }
  }
  auto now = clock::now();
  for (auto& t : fx.timers) {
    auto delay =
        std::chrono::duration_cast<std::chrono::milliseconds>(t.at - now);
    if (delay.count() < 0)
      delay = std::chrono::milliseconds{0};
    self->delayed_send(self, delay, gap_atom::value, t.subscriber);
  }
}

broadcaster_actor::behavior_type
broadcaster_behavior(broadcaster_self self, hub_settings hs,
                     std::shared_ptr<broadcast_metrics> metrics,
                     std::weak_ptr<tasks::task_pool> pool,
                     inspect::actor_entry_ptr entry) {
  self->state.core = std::make_unique<hub>(hs, metrics.get());
  self->state.metrics = std::move(metrics);
  self->state.replays = pool;
  self->state.entry = entry;
  if (entry)
    entry->set_state("running");
  auto done = [self] {
    if (auto& e = self->state.entry)
      e->on_message(self->mailbox().size());
  };
  return {
      [self, done](subscribe_msg& m) {
        effects fx;
        self->state.core->subscribe(m.id, std::move(m.channel), m.after,
                                    std::move(m.source), std::move(m.sink),
                                    std::move(m.options), clock::now(), fx);
        perform(self, fx, self->state.replays.lock());
        done();
      },
      [self, done](unsubscribe_atom, uint64_t id) {
        self->state.core->unsubscribe(id);
        done();
      },
      [self, done](publish_msg& m) {
        effects fx;
        self->state.core->publish(m.channel, m.e, clock::now(), fx);
        perform(self, fx, self->state.replays.lock());
        done();
      },
      [self, done](replay_msg& m) {
        effects fx;
        if (m.failed)
          self->state.core->replay_failed(m.id, clock::now(), fx);
        else
          self->state.core->replayed(m.id, std::move(m.result), clock::now(),
                                     fx);
        perform(self, fx, self->state.replays.lock());
        done();
      },
      [self, done](head_atom, const std::string& channel, uint64_t head) {
        effects fx;
        self->state.core->head(channel, head, clock::now(), fx);
        perform(self, fx, self->state.replays.lock());
        done();
      },
      [self, done](gap_atom, uint64_t id) {
        effects fx;
        self->state.core->timer(id, clock::now(), fx);
        perform(self, fx, self->state.replays.lock());
        done();
      },
      [self](channels_atom, const std::string& prefix) {
        return self->state.core->channel_names(prefix);
      },
      [self](shutdown_atom) {
        self->state.core->close_all("server_stopping",
                                    "the node is stopping; reconnect to "
                                    "another node or retry shortly");
        if (auto& e = self->state.entry)
          e->set_state("stopped");
        self->quit();
      },
  };
}

} // namespace

// -- broadcaster --------------------------------------------------------------

broadcaster::broadcaster(caf::actor_system& sys, broadcast_config cfg,
                         metrics::node_metrics* metrics,
                         inspect::registry* actors)
    : sys_(sys), cfg_(cfg),
      metrics_(std::make_shared<broadcast_metrics>(metrics)) {
  auto m = metrics_;
  caps_ = std::make_shared<admission>(
      static_cast<size_t>(cfg_.max_connections),
      static_cast<size_t>(cfg_.max_per_user),
      [m](size_t open) { m->set_connections(open); });
  replays_ = std::make_shared<replay_pool>(sys, cfg_.replay_workers, actors);
  hub_settings hs;
  hs.reorder_window = cfg_.reorder_window;
  hs.replay_limit = static_cast<size_t>(cfg_.replay_limit);
  // The pool lives as long as this object; the actor only borrows it.
  std::shared_ptr<tasks::task_pool> pool{replays_, &replays_->pool};
  inspect::actor_entry_ptr entry;
  if (actors)
    entry = actors->enroll("broadcaster", "broadcaster");
  actor_ = sys.spawn(broadcaster_behavior, hs, metrics_,
                     std::weak_ptr<tasks::task_pool>{pool}, entry);
}

broadcaster::~broadcaster() {
  stop();
}

uint64_t broadcaster::subscribe(std::string channel,
                                std::optional<uint64_t> after,
                                std::shared_ptr<replay_source> source,
                                std::shared_ptr<client> sink,
                                subscribe_options options) {
  auto id = next_id_.fetch_add(1);
  metrics_->stream_opened(options.stream);
  subscribe_msg m;
  m.id = id;
  m.channel = std::move(channel);
  m.after = after;
  m.source = std::move(source);
  m.sink = std::move(sink);
  m.options = std::move(options);
  caf::anon_send(actor_, std::move(m));
  return id;
}

void broadcaster::unsubscribe(uint64_t id) {
  caf::anon_send(actor_, unsubscribe_atom::value, id);
}

void broadcaster::publish(std::string channel, event_ptr e) {
  caf::anon_send(actor_, publish_msg{std::move(channel), std::move(e)});
}

void broadcaster::head(std::string channel, uint64_t head) {
  caf::anon_send(actor_, head_atom::value, std::move(channel), head);
}

std::vector<std::string> broadcaster::channels(const std::string& prefix) {
  std::vector<std::string> out;
  if (stopped_)
    return out;
  caf::scoped_actor self{sys_};
  self->request(actor_, std::chrono::seconds(5), channels_atom::value, prefix)
      .receive([&](std::vector<std::string>& names) { out = std::move(names); },
               [](caf::error&) {});
  return out;
}

void broadcaster::count_slow_disconnect(const std::string& stream,
                                        const char* reason) {
  metrics_->slow(stream, reason);
}

void broadcaster::count_rejected(const char* reason) {
  metrics_->rejected(reason);
}

void broadcaster::stop() {
  if (stopped_.exchange(true))
    return;
  if (actor_) {
    caf::scoped_actor self{sys_};
    self->monitor(actor_);
    self->send(actor_, shutdown_atom::value);
    self->receive([](const caf::down_msg&) {},
                  caf::after(std::chrono::seconds(5)) >> [] {});
    // actor_ stays set: later messages to the dead actor are dropped,
    // and other threads may still read the handle.
  }
  // The replay workers are detached actors: their threads end only when
  // the last handle goes, and the actor system waits for them.
  replays_->pool.stop();
  replays_.reset();
}

} // namespace distiller::broadcast
