#include <algorithm>
#include <utility>

#include "bridges/kafka/source_core.hpp"
#include "runtime/logging/log.hpp"

// The source core's pool and what an operator does to a running bridge:
// pause and resume the binding, scale the pool, read its numbers. The worker
// slots' life cycle is drawn above worker_slot (source_core.hpp).

namespace distiller::kafka::detail {

// -- the pool
// ---------------------------------------------------------------------

/// The least-loaded worker that takes another batch, or -1.
int source_core::pick_worker() const {
  int best = -1;
  for (size_t i = 0; i < workers_.size(); ++i) {
    auto& w = workers_[i];
    if (!available(w))
      continue;
    if (best < 0 || w.records < workers_[best].records ||
        (w.records == workers_[best].records &&
         w.batches < workers_[best].batches))
      best = static_cast<int>(i);
  }
  return best;
}

/// An idle worker for a record that must run alone, or -1.
int source_core::pick_idle_worker() const {
  for (size_t i = 0; i < workers_.size(); ++i)
    if (workers_[i].incarnation != 0 && !workers_[i].retiring &&
        workers_[i].batches == 0)
      return static_cast<int>(i);
  return -1;
}

void source_core::start_pool(size_t n) {
  pool_size_ = static_cast<int32_t>(n);
  pool_alive_ = true;
  for (size_t i = 0; i < n; ++i) {
    worker_slot slot;
    slot.name = worker_name(cfg_.name, i);
    workers_.push_back(std::move(slot));
  }
}

source_effects source_core::on_worker_found(const std::string& name,
                                            uint64_t who) {
  for (size_t i = 0; i < workers_.size(); ++i) {
    auto& slot = workers_[i];
    if (slot.name == name && slot.incarnation == 0 && !slot.removing &&
        !slot.gone) {
      slot.incarnation = who;
      fx_.adopted.push_back(i);
    }
  }
  dispatch();
  return take();
}

/// Drops the gone slots at the end of the pool (no batch refers to them).
void source_core::trim_workers() {
  while (!workers_.empty() && workers_.back().gone && !workers_.back().adding &&
         !workers_.back().removing)
    workers_.pop_back();
}

/// Asks the pool to start worker slot `index` again (or for the first time).
void source_core::add_worker(size_t index) {
  auto& w = workers_[index];
  w.gone = false;
  w.retiring = false;
  w.adding = true;
  w.incarnation = 0;
  fx_.adds.push_back({index, w.name, 0});
}

source_effects source_core::on_worker_added(size_t index,
                                            const std::string& name,
                                            uint64_t who) {
  if (index >= workers_.size() || workers_[index].name != name)
    return take();
  auto& w = workers_[index];
  w.adding = false;
  w.incarnation = who;
  if (who != 0)
    fx_.adopted.push_back(index);
  log::info(
      "worker_added",
      {{"bridge", cfg_.name}, {"worker", name}, {"pool_size", pool_size_}});
  if (w.retiring)
    retire_if_idle(index); // scaled down again meanwhile
  dispatch();
  return take();
}

void source_core::on_worker_add_failed(size_t index, const std::string& name,
                                       const std::string& error) {
  if (index >= workers_.size() || workers_[index].name != name)
    return;
  log::error("worker_add_failed",
             {{"bridge", cfg_.name}, {"worker", name}, {"error", error}});
  workers_[index].adding = false;
  workers_[index].gone = true;
  trim_workers();
}

source_effects
source_core::on_worker_removed(size_t index, const std::string& name,
                               const std::optional<std::string>& error) {
  if (index >= workers_.size() || workers_[index].name != name)
    return take();
  auto& w = workers_[index];
  w.removing = false;
  w.gone = true;
  if (error)
    log::warn("worker_remove_failed",
              {{"bridge", cfg_.name}, {"worker", name}, {"error", *error}});
  else
    log::info(
        "worker_retired",
        {{"bridge", cfg_.name}, {"worker", name}, {"pool_size", pool_size_}});
  if (!w.retiring && life_ == lifecycle::running)
    add_worker(index); // scaled up again while it was being removed
  trim_workers();
  return take();
}

/// Worker slot `index` answered its last batch: if it is retiring, it is
/// taken out of the pool now.
void source_core::retire_if_idle(size_t index) {
  auto& w = workers_[index];
  if (!w.retiring || w.removing || w.adding || w.gone || w.batches > 0 ||
      !pool_alive_)
    return;
  w.removing = true;
  w.exclusive = false;
  // Its incarnation stops now: its down_msg is no failure of ours.
  fx_.removes.push_back({index, w.name, w.incarnation});
  w.incarnation = 0;
}

source_effects source_core::scale(int32_t n) {
  auto before = pool_size_;
  pool_size_ = n;
  auto target = static_cast<size_t>(n);
  for (size_t i = 0; i < target; ++i) {
    if (i >= workers_.size()) {
      worker_slot slot;
      slot.name = worker_name(cfg_.name, i);
      workers_.push_back(std::move(slot));
      add_worker(i);
      continue;
    }
    auto& w = workers_[i];
    w.retiring = false;
    // A slot still being removed comes back once the removal is answered.
    if (w.gone && !w.removing && !w.adding)
      add_worker(i);
  }
  for (size_t i = target; i < workers_.size(); ++i) {
    auto& w = workers_[i];
    if (w.gone)
      continue;
    w.retiring = true;
    retire_if_idle(i);
  }
  trim_workers();
  log::info("pool_scaled", {{"bridge", cfg_.name},
                            {"from", before},
                            {"to", n},
                            {"in_flight", in_flight_}});
  dispatch();
  return take();
}

// -- pause and resume
// -------------------------------------------------------------

source_effects source_core::pause() {
  if (operator_paused_)
    return take();
  operator_paused_ = true;
  fx_.operator_pause = true;
  if (life_ == lifecycle::running)
    entry_->set_state("paused");
  log::info("binding_paused", {{"bridge", cfg_.name},
                               {"topic", cfg_.topic},
                               {"in_flight", in_flight_},
                               {"buffered", pending_.size()}});
  return take();
}

source_effects source_core::resume() {
  if (!operator_paused_)
    return take();
  operator_paused_ = false;
  fx_.operator_pause = false;
  if (life_ == lifecycle::running)
    entry_->set_state("running");
  log::info("binding_resumed", {{"bridge", cfg_.name},
                                {"topic", cfg_.topic},
                                {"buffered", pending_.size()}});
  dispatch();
  return take();
}

// -- numbers
// ----------------------------------------------------------------------

source_stats source_core::stats() {
  auto s = stats_;
  s.in_flight = in_flight_;
  s.buffered = 0;
  s.paused_partitions = 0;
  for (auto& [p, ps] : partitions_) {
    s.buffered += ps.buffered;
    s.paused_partitions += ps.paused ? 1 : 0;
    s.assigned.push_back(p);
  }
  std::sort(s.assigned.begin(), s.assigned.end());
  flush_acks();
  s.ack_p50_ns = ack_latency_.quantile(0.5);
  s.ack_p99_ns = ack_latency_.quantile(0.99);
  s.processing_p50_ns = processing_.quantile(0.5);
  s.processing_p99_ns = processing_.quantile(0.99);
  s.state = to_string(life_);
  s.pool_size = pool_size_;
  s.busy_workers = static_cast<int32_t>(
      std::count_if(workers_.begin(), workers_.end(),
                    [](const worker_slot& w) { return w.batches > 0; }));
  s.operator_paused = operator_paused_;
  s.partitions.reserve(s.assigned.size());
  for (auto p : s.assigned) {
    auto& ps = partitions_[p];
    partition_stats x;
    x.partition = p;
    if (ps.tracker)
      if (auto c = ps.tracker->last_committed())
        x.committed = *c;
    x.paused = ps.paused || operator_paused_;
    s.partitions.push_back(x);
  }
  return s;
}

} // namespace distiller::kafka::detail
