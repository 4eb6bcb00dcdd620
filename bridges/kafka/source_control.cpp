#include <algorithm>
#include <chrono>
#include <string>
#include <utility>

#include "bridges/kafka/source_state.hpp"
#include "runtime/core/errc.hpp"
#include "runtime/core/type_ids.hpp"
#include "runtime/logging/log.hpp"

// What an operator does to a running source bridge: pause and resume the
// binding, scale its pool, read its numbers. The worker slots' life cycle is
// drawn above worker_slot (source_state.hpp).

namespace distiller::kafka::detail {

namespace {

/// How long the bridge waits for the pool to add or remove one worker: a
/// removal may wait for the worker to stop (the pool's shutdown_timeout).
std::chrono::milliseconds pool_request_timeout(const source_state& st) {
  return st.binding.pool_policy.shutdown_timeout + std::chrono::seconds{10};
}

/// Drops the gone slots at the end of the pool (no batch refers to them).
void trim_workers(src_actor self) {
  auto& ws = self->state.workers;
  while (!ws.empty() && ws.back().gone && !ws.back().adding &&
         !ws.back().removing)
    ws.pop_back();
}

void add_worker(src_actor self, size_t index);

void on_worker_added(src_actor self, size_t index, const std::string& name,
                     caf::actor handle) {
  auto& st = self->state;
  if (index >= st.workers.size() || st.workers[index].name != name)
    return;
  auto& w = st.workers[index];
  w.adding = false;
  w.handle = std::move(handle);
  if (w.handle)
    self->monitor(w.handle);
  log::info("worker_added", {{"bridge", st.binding.name},
                             {"worker", name},
                             {"pool_size", st.pool_size}});
  if (w.retiring)
    retire_if_idle(self, index); // scaled down again meanwhile
  dispatch(self);
}

void on_worker_removed(src_actor self, size_t index, const std::string& name,
                       const caf::error& err) {
  auto& st = self->state;
  if (index >= st.workers.size() || st.workers[index].name != name)
    return;
  auto& w = st.workers[index];
  w.removing = false;
  w.gone = true;
  if (err)
    log::warn("worker_remove_failed", {{"bridge", st.binding.name},
                                       {"worker", name},
                                       {"error", self->system().render(err)}});
  else
    log::info("worker_retired", {{"bridge", st.binding.name},
                                 {"worker", name},
                                 {"pool_size", st.pool_size}});
  if (!w.retiring && st.life == lifecycle::running)
    add_worker(self, index); // scaled up again while it was being removed
  trim_workers(self);
}

/// Asks the pool to start worker slot `index` again (or for the first time).
void add_worker(src_actor self, size_t index) {
  auto& st = self->state;
  auto& w = st.workers[index];
  w.gone = false;
  w.retiring = false;
  w.adding = true;
  w.handle = nullptr;
  auto name = w.name;
  self->request(st.pool, pool_request_timeout(st),
                distiller::atoms::add_child_atom_v,
                supervision::child_spec{name, "worker", st.binding.worker})
      .then(
          [self, index, name](caf::actor& handle) {
            on_worker_added(self, index, name, std::move(handle));
          },
          [self, index, name](caf::error& err) {
            auto& st = self->state;
            if (index >= st.workers.size() || st.workers[index].name != name)
              return;
            log::error("worker_add_failed",
                       {{"bridge", st.binding.name},
                        {"worker", name},
                        {"error", self->system().render(err)}});
            st.workers[index].adding = false;
            st.workers[index].gone = true;
            trim_workers(self);
          });
}

} // namespace

std::string worker_name(const source_binding& b, size_t i) {
  return b.name + "-worker-" + std::to_string(i);
}

// -- pause and resume
// ----------------------------------------------------------

void pause_binding(src_actor self) {
  auto& st = self->state;
  if (st.operator_paused)
    return;
  st.operator_paused = true;
  st.loop->operator_pause();
  if (st.life == lifecycle::running)
    st.entry->set_state("paused");
  log::info("binding_paused", {{"bridge", st.binding.name},
                               {"topic", st.binding.topic},
                               {"in_flight", st.in_flight},
                               {"buffered", st.pending.size()}});
}

void resume_binding(src_actor self) {
  auto& st = self->state;
  if (!st.operator_paused)
    return;
  st.operator_paused = false;
  st.loop->operator_resume();
  if (st.life == lifecycle::running)
    st.entry->set_state("running");
  log::info("binding_resumed", {{"bridge", st.binding.name},
                                {"topic", st.binding.topic},
                                {"buffered", st.pending.size()}});
  dispatch(self);
}

// -- scaling
// -------------------------------------------------------------------

caf::result<int32_t> scale_pool(src_actor self, int32_t n) {
  auto& st = self->state;
  if (n < min_pool_size || n > max_pool_size)
    return caf::make_error(caf::sec::invalid_argument,
                           "scale " + st.binding.name +
                               ": the pool size must be 1..1024, got " +
                               std::to_string(n));
  if (st.life != lifecycle::running || !st.pool)
    return caf::make_error(runtime_errc::service_unavailable,
                           "scale " + st.binding.name +
                               ": the bridge is stopping");
  auto before = st.pool_size;
  st.pool_size = n;
  auto target = static_cast<size_t>(n);
  for (size_t i = 0; i < target; ++i) {
    if (i >= st.workers.size()) {
      worker_slot slot;
      slot.name = worker_name(st.binding, i);
      st.workers.push_back(std::move(slot));
      add_worker(self, i);
      continue;
    }
    auto& w = st.workers[i];
    w.retiring = false;
    // A slot still being removed comes back once the removal is answered.
    if (w.gone && !w.removing && !w.adding)
      add_worker(self, i);
  }
  for (size_t i = target; i < st.workers.size(); ++i) {
    auto& w = st.workers[i];
    if (w.gone)
      continue;
    w.retiring = true;
    retire_if_idle(self, i);
  }
  trim_workers(self);
  log::info("pool_scaled", {{"bridge", st.binding.name},
                            {"from", before},
                            {"to", n},
                            {"in_flight", st.in_flight}});
  dispatch(self);
  return n;
}

void retire_if_idle(src_actor self, size_t index) {
  auto& st = self->state;
  auto& w = st.workers[index];
  if (!w.retiring || w.removing || w.adding || w.gone || w.batches > 0 ||
      !st.pool)
    return;
  w.removing = true;
  w.exclusive = false;
  // Its incarnation stops now: its down_msg is no failure of ours.
  if (w.handle) {
    self->demonitor(w.handle);
    w.handle = nullptr;
  }
  auto name = w.name;
  self->request(st.pool, pool_request_timeout(st),
                distiller::atoms::remove_child_atom_v, name)
      .then([self, index, name] { on_worker_removed(self, index, name, {}); },
            [self, index, name](caf::error& err) {
              on_worker_removed(self, index, name, err);
            });
}

// -- numbers
// -------------------------------------------------------------------

source_stats make_stats(src_actor self) {
  auto& st = self->state;
  auto s = st.stats;
  s.in_flight = st.in_flight;
  s.fetch_holds = st.gate ? st.gate->closings() : 0;
  s.buffered = 0;
  s.paused_partitions = 0;
  for (auto& [p, ps] : st.partitions) {
    s.buffered += ps.buffered;
    s.paused_partitions += ps.paused ? 1 : 0;
    s.assigned.push_back(p);
  }
  std::sort(s.assigned.begin(), s.assigned.end());
  st.flush_acks();
  s.ack_p50_ns = st.ack_latency.quantile(0.5);
  s.ack_p99_ns = st.ack_latency.quantile(0.99);
  s.processing_p50_ns = st.processing.quantile(0.5);
  s.processing_p99_ns = st.processing.quantile(0.99);
  s.state = to_string(st.life);
  s.pool_size = st.pool_size;
  s.busy_workers = static_cast<int32_t>(
      std::count_if(st.workers.begin(), st.workers.end(),
                    [](const worker_slot& w) { return w.batches > 0; }));
  s.operator_paused = st.operator_paused;
  // librdkafka's cached numbers; not while the consumer closes (the poll
  // thread then destroys the client under the lock partition_views takes).
  std::vector<consumer_loop::partition_view> views;
  if (st.life == lifecycle::running || st.life == lifecycle::draining)
    views = st.loop->partition_views(s.assigned);
  s.partitions.reserve(s.assigned.size());
  for (size_t k = 0; k < s.assigned.size(); ++k) {
    auto p = s.assigned[k];
    auto& ps = st.partitions[p];
    partition_stats x;
    x.partition = p;
    if (ps.tracker)
      if (auto c = ps.tracker->last_committed())
        x.committed = *c;
    // The views come in the order they were asked for.
    if (k < views.size() && views[k].partition == p) {
      x.high_watermark = views[k].high_watermark;
      x.position = views[k].position;
    }
    if (x.high_watermark >= 0) {
      if (x.committed >= 0)
        x.lag = std::max<int64_t>(x.high_watermark - x.committed, 0);
      else if (x.position >= 0)
        x.lag = std::max<int64_t>(x.high_watermark - x.position, 0);
      else if (k < views.size() && views[k].low_watermark >= 0)
        // Nothing read or committed yet: all that is there is unread.
        x.lag = x.high_watermark - views[k].low_watermark;
    }
    x.paused = ps.paused || st.operator_paused;
    s.partitions.push_back(x);
  }
  return s;
}

} // namespace distiller::kafka::detail
