#include <algorithm>
#include <chrono>
#include <string>
#include <utility>

#include "bridges/kafka/source_state.hpp"
#include "runtime/core/errc.hpp"
#include "runtime/core/type_ids.hpp"
#include "runtime/logging/log.hpp"

// What an operator does to a running source bridge, on the actor's side:
// scaling's requests to the pool supervisor and the stats' librdkafka
// numbers. The decisions are the core's (source_core_workers.cpp).

namespace distiller::kafka::detail {

namespace {

/// How long the bridge waits for the pool to add or remove one worker: a
/// removal may wait for the worker to stop (the pool's shutdown_timeout).
std::chrono::milliseconds pool_request_timeout(const source_state& st) {
  return st.binding.pool_policy.shutdown_timeout + std::chrono::seconds{10};
}

} // namespace

void add_worker(src_actor self, const source_effects::worker_ref& w) {
  auto& st = self->state;
  auto index = w.index;
  auto name = w.name;
  if (index < st.handles.size())
    st.handles[index] = nullptr;
  self->request(
          st.pool, pool_request_timeout(st), distiller::atoms::add_child_atom_v,
          supervision::child_spec{name, "worker", worker_child(st.binding)})
      .then(
          [self, index, name](caf::actor& handle) {
            auto fx = self->state.core->on_worker_added(
                index, name, handle ? handle.id() : 0);
            perform(self, std::move(fx), &handle);
          },
          [self, index, name](caf::error& err) {
            self->state.core->on_worker_add_failed(index, name,
                                                   self->system().render(err));
          });
}

void remove_worker(src_actor self, const source_effects::worker_ref& w) {
  auto& st = self->state;
  auto index = w.index;
  auto name = w.name;
  // Its incarnation stops now: its down_msg is no failure of ours.
  if (index < st.handles.size()) {
    auto& h = st.handles[index];
    if (h && h.id() == w.incarnation)
      self->demonitor(h.address());
    h = nullptr;
  }
  self->request(st.pool, pool_request_timeout(st),
                distiller::atoms::remove_child_atom_v, name)
      .then(
          [self, index, name] {
            perform(self, self->state.core->on_worker_removed(index, name,
                                                              std::nullopt));
          },
          [self, index, name](caf::error& err) {
            perform(self, self->state.core->on_worker_removed(
                              index, name, self->system().render(err)));
          });
}

caf::result<int32_t> scale_pool(src_actor self, int32_t n) {
  auto& st = self->state;
  if (n < min_pool_size || n > max_pool_size)
    return caf::make_error(caf::sec::invalid_argument,
                           "scale " + st.binding.name +
                               ": the pool size must be 1..1024, got " +
                               std::to_string(n));
  if (st.core->life() != lifecycle::running || !st.pool)
    return caf::make_error(runtime_errc::service_unavailable,
                           "scale " + st.binding.name +
                               ": the bridge is stopping");
  perform(self, st.core->scale(n));
  return n;
}

source_stats make_stats(src_actor self) {
  auto& st = self->state;
  auto s = st.core->stats();
  s.fetch_holds = st.gate ? st.gate->closings() : 0;
  // librdkafka's cached numbers; not while the consumer closes (the poll
  // thread then destroys the client under the lock partition_views takes).
  std::vector<consumer_loop::partition_view> views;
  auto life = st.core->life();
  if (life == lifecycle::running || life == lifecycle::draining)
    views = st.loop->partition_views(s.assigned);
  for (size_t k = 0; k < s.partitions.size(); ++k) {
    auto& x = s.partitions[k];
    // The views come in the order they were asked for.
    if (k < views.size() && views[k].partition == x.partition) {
      x.high_watermark = views[k].high_watermark;
      x.position = views[k].position;
      // Nothing committed by this incarnation yet: the group's offset.
      if (x.committed < 0)
        x.committed = views[k].committed;
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
  }
  return s;
}

} // namespace distiller::kafka::detail
