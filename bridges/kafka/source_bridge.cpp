#include "bridges/kafka/source_bridge.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "bridges/kafka/source_state.hpp"
#include "runtime/core/type_ids.hpp"
#include "runtime/logging/log.hpp"

namespace distiller::kafka {

namespace detail {

namespace {

/// The poll thread's reports, as messages to the bridge.
class bridge_events : public consumer_events {
 public:
  explicit bridge_events(caf::actor bridge) : bridge_(std::move(bridge)) {}

  void on_records(chunk_ptr records, int64_t polled_ns) override {
    caf::anon_send(bridge_, poll_atom::value, std::move(records), polled_ns);
  }

  void on_assigned(std::vector<int32_t> partitions) override {
    caf::anon_send(bridge_, assign_atom::value, std::move(partitions));
  }

  std::future<std::vector<partition_offset>>
  on_revoked(std::vector<int32_t> partitions, bool lost) override {
    auto reply = std::make_shared<offsets_promise>();
    auto result = reply->get_future();
    caf::anon_send(
        bridge_, revoke_atom::value,
        revoke_request{std::move(partitions), lost, std::move(reply)});
    return result;
  }

  void on_committed(std::vector<partition_offset> offsets,
                    caf::error err) override {
    caf::anon_send(bridge_, committed_atom::value, std::move(offsets),
                   std::move(err));
  }

  void on_error(caf::error err, bool fatal) override {
    caf::anon_send(bridge_, loop_error_atom::value, std::move(err), fatal);
  }

  void on_stopped() override {
    caf::anon_send(bridge_, loop_stopped_atom::value);
  }

 private:
  caf::actor bridge_;
};

/// Spawns the pool and asks for its workers' handles.
void start_pool(src_actor self) {
  auto& st = self->state;
  std::vector<supervision::child_spec> children;
  st.core->start_pool(static_cast<size_t>(st.binding.pool_size));
  st.handles.resize(st.core->workers().size());
  for (auto& w : st.core->workers())
    children.push_back({w.name, "worker", worker_child(st.binding)});
  st.pool = supervision::spawn_supervisor(
      self->system(), st.binding.name, st.binding.pool_policy,
      std::move(children), {st.deps.actors, st.deps.metrics});
  self->monitor(st.pool);
  auto me = caf::actor_cast<caf::actor>(self);
  self->request(st.pool, std::chrono::seconds{10},
                distiller::atoms::restarted_atom_v, me)
      .then([] {},
            [self](caf::error& err) {
              log::error("pool_subscribe_failed",
                         {{"bridge", self->state.binding.name},
                          {"error", self->system().render(err)}});
            });
  for (auto& w : st.core->workers()) {
    auto name = w.name;
    self->request(st.pool, std::chrono::seconds{10},
                  distiller::atoms::child_atom_v, name)
        .then(
            [self, name](caf::actor& handle) {
              auto fx = self->state.core->on_worker_found(
                  name, handle ? handle.id() : 0);
              perform(self, std::move(fx), &handle);
            },
            [](caf::error&) {
              // Not running right now: its restart notification brings it.
            });
  }
}

source_bridge_actor::behavior_type
source_bridge_behavior(src_actor self, std::string brokers,
                       source_binding binding, bridge_deps deps) {
  auto& st = self->state;
  st.brokers = std::move(brokers);
  st.binding = std::move(binding);
  st.deps = std::move(deps);
  st.dlq_topic = st.binding.dlq_topic();
  st.entry_name = st.binding.name + "-source";
  st.entry = st.deps.actors->enroll(st.entry_name, "bridge");
  st.entry->set_state("starting");
  st.metrics =
      std::make_unique<source_metrics>(st.deps.metrics, st.binding.name);
  st.core = std::make_unique<source_core>(core_config(st.binding), *st.metrics,
                                          st.entry, st.deps.trace);
  self->set_exit_handler([self](caf::exit_msg& em) {
    if (em.reason)
      begin_shutdown(self, std::move(em.reason));
  });
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    if (st.pool && dm.source == st.pool.address()) {
      st.pool = nullptr;
      st.core->set_pool_alive(false);
      if (st.core->life() == lifecycle::running) {
        log::error("worker_pool_failed",
                   {{"bridge", st.binding.name},
                    {"reason", self->system().render(dm.reason)}});
        begin_shutdown(self, dm.reason);
      }
      return;
    }
    on_worker_down(self, dm.source, dm.reason);
  });
  auto me = caf::actor_cast<caf::actor>(self);
  if (st.deps.dlq_sink)
    log::warn("dlq_sink_ignored",
              {{"bridge", st.binding.name},
               {"reason", "the sink bridge is not wired yet; dead letters go "
                          "through the bridge's own producer"}});
  st.dlq_producer = std::make_unique<dead_letter_producer>(
      st.brokers, st.binding.name + "-dlq",
      std::map<std::string, std::string>{},
      [me](uint64_t token, caf::error err) {
        caf::anon_send(me, dlq_done_atom::value, token, std::move(err));
      },
      std::chrono::milliseconds{5000}, st.deps.codecs);
  consumer_loop::config lc;
  lc.brokers = st.brokers;
  lc.topic = st.binding.topic;
  lc.group = st.binding.group;
  lc.client_id = st.binding.name + "-source";
  lc.auto_offset_reset = st.binding.auto_offset_reset;
  lc.cooperative = st.binding.cooperative;
  lc.properties = st.binding.consumer_properties;
  lc.revoke_timeout = st.binding.drain_timeout + std::chrono::seconds{5};
  lc.stall_after = st.binding.stall_after;
  lc.bridge_name = st.binding.name;
  lc.max_poll_records = st.binding.max_poll_records;
  // Spare chunks: a chunk comes back only when all of its records are done,
  // so in key mode several times the buffer limit's worth are alive at once;
  // keeping about that many spare avoids refilling from scratch (new strings
  // for every record). Their records keep their strings' capacity.
  auto buffered = st.binding.max_buffered > 0
                      ? st.binding.max_buffered
                      : st.binding.max_buffered_per_partition;
  st.record_pool = std::make_shared<record_chunk_pool>(
      4 * (buffered / st.binding.max_poll_records) + 8);
  lc.pool = st.record_pool;
  if (st.binding.max_buffered > 0) {
    st.gate = std::make_shared<flow_gate>(st.binding.max_buffered,
                                          st.binding.max_buffered / 2);
    lc.gate = st.gate;
  }
  st.loop = std::make_unique<consumer_loop>(
      std::move(lc), std::make_shared<bridge_events>(me), st.metrics.get(),
      st.deps.on_commit);
  start_pool(self);
  st.loop->start();
  self->delayed_send(self, st.binding.commit_interval, commit_tick_atom::value);
  st.entry->set_state("running");
  log::info("bridge_started", {{"bridge", st.binding.name},
                               {"topic", st.binding.topic},
                               {"group", st.binding.group},
                               {"ordering", to_string(st.binding.mode)},
                               {"pool_size", st.binding.pool_size},
                               {"dlq_topic", st.dlq_topic}});
  return {
      [self](poll_atom, chunk_ptr& records, int64_t polled_ns) {
        auto& st = self->state;
        if (st.gate)
          st.gate->received(records->size);
        perform(self, st.core->on_records(records, polled_ns));
      },
      [self](assign_atom, const std::vector<int32_t>& partitions) {
        self->state.core->on_assigned(partitions);
      },
      [self](revoke_atom, revoke_request& req) {
        auto& st = self->state;
        auto token = st.next_revoke++;
        st.revokes.emplace(token, std::move(req.reply));
        perform(self, st.core->on_revoked(std::move(req.partitions), req.lost,
                                          token));
      },
      [self](committed_atom, std::vector<partition_offset>& offsets,
             const caf::error& err) { on_committed(self, offsets, err); },
      [self](loop_error_atom, const caf::error& err, bool fatal) {
        if (fatal)
          begin_shutdown(self, err);
      },
      [self](loop_stopped_atom) { finish_shutdown(self); },
      [self](retry_atom, uint64_t seq) {
        perform(self, self->state.core->on_retry_due(seq));
      },
      [self](dlq_done_atom, uint64_t seq, const caf::error& err) {
        std::optional<std::string> error;
        if (err)
          error = self->system().render(err);
        perform(self, self->state.core->on_dead_lettered(seq, error));
      },
      [self](drain_timeout_atom, uint64_t id) {
        perform(self, self->state.core->on_drain_timeout(id));
      },
      [self](close_timeout_atom) {
        auto& st = self->state;
        if (st.core->life() == lifecycle::stopped)
          return;
        log::warn("bridge_close_timeout", {{"bridge", st.binding.name}});
        st.loop->abort();
        finish_shutdown(self);
      },
      [self](commit_tick_atom) { on_commit_tick(self); },
      [self](distiller::atoms::restarted_atom, const std::string& name,
             caf::actor& handle) {
        on_worker_restarted(self, name, std::move(handle));
      },
      [self](atoms::stats_atom) { return make_stats(self); },
      [self](atoms::pause_atom) { perform(self, self->state.core->pause()); },
      [self](atoms::resume_atom) { perform(self, self->state.core->resume()); },
      [self](atoms::scale_atom, int32_t n) { return scale_pool(self, n); },
  };
}

std::string join(const std::vector<std::string>& xs) {
  std::string out;
  for (auto& x : xs) {
    if (!out.empty())
      out += "; ";
    out += x;
  }
  return out;
}

} // namespace

} // namespace detail

source_bridge_actor spawn_source_bridge(caf::actor_system& sys,
                                        std::string brokers,
                                        source_binding binding,
                                        bridge_deps deps) {
  auto problems = validate(binding);
  if (deps.actors == nullptr)
    problems.emplace_back("deps.actors (the inspection registry) is required");
  if (brokers.empty())
    problems.emplace_back("brokers must not be empty");
  if (!problems.empty())
    throw std::invalid_argument("source bridge " + binding.name + ": " +
                                detail::join(problems));
  // Surfaces a rejected consumer property here, not inside the actor.
  (void)make_conf(binding.consumer_properties);
  return sys.spawn(detail::source_bridge_behavior, std::move(brokers),
                   std::move(binding), std::move(deps));
}

} // namespace distiller::kafka
