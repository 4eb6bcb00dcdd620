#include <algorithm>
#include <unordered_map>
#include <utility>

#include "bridges/kafka/source_state.hpp"
#include "runtime/logging/log.hpp"

// Rebalances and shutdown of the source bridge.
//
//   running ──revoke──► (partitions draining) ──drained or timeout──►
//      │                 reply final offsets, forget them ──► running
//      │
//      └──exit_msg / fatal──► draining ──drained or timeout──► closing
//                              (all partitions)   loop commits, closes
//                                                       │ loop stopped
//                                                       ▼
//                                            stopped: pool stopped, quit

namespace distiller::kafka::detail {

namespace {

std::string join(const std::vector<int32_t>& xs) {
  std::string out;
  for (auto x : xs) {
    if (!out.empty())
      out += ',';
    out += std::to_string(x);
  }
  return out;
}

bool contains(const std::vector<int32_t>& xs, int32_t x) {
  return std::find(xs.begin(), xs.end(), x) != xs.end();
}

/// Forgets every pending record of `parts` that `pred` selects; returns how
/// many.
template <class Pred>
size_t abandon_where(src_actor self, const std::vector<int32_t>& parts,
                     Pred pred) {
  auto& st = self->state;
  std::vector<uint64_t> victims;
  st.pending.for_each([&](uint64_t seq, pending_record& p) {
    if (contains(parts, p.partition) && pred(p))
      victims.push_back(seq);
  });
  for (auto seq : victims)
    abandon(self, seq);
  return victims.size();
}

void finish_drain(src_actor self, drain_job job, bool timed_out) {
  auto& st = self->state;
  size_t abandoned_running = 0;
  if (timed_out) {
    // Records still waiting in their lanes (below keep_below) leave the
    // queue first; abandon then forgets every record of the partitions.
    for (auto p : job.partitions)
      st.queue.drop_partition(p, 0);
    abandoned_running = abandon_where(
        self, job.partitions, [](const pending_record&) { return true; });
  }
  std::vector<partition_offset> offsets;
  for (auto p : job.partitions) {
    auto i = st.partitions.find(p);
    if (i == st.partitions.end())
      continue;
    if (!job.lost && i->second.tracker)
      offsets.push_back({p, i->second.tracker->committable()});
    st.partitions.erase(i);
  }
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                steady::now() - job.started)
                .count();
  log::info("partitions_revoked",
            {{"bridge", st.binding.name},
             {"topic", st.binding.topic},
             {"partitions", join(job.partitions)},
             {"drained", job.waiting_for - abandoned_running},
             {"abandoned", job.abandoned + abandoned_running},
             {"lost", job.lost},
             {"timed_out", timed_out},
             {"shutdown", job.shutdown},
             {"duration_ms", ms}});
  if (job.shutdown) {
    st.life = lifecycle::closing;
    st.entry->set_state("closing");
    st.loop->close(std::move(offsets));
  } else if (job.reply) {
    job.reply->set_value(std::move(offsets));
  }
}

} // namespace

void abandon(src_actor self, uint64_t seq) {
  auto& st = self->state;
  auto* found = st.pending.find(seq);
  if (found == nullptr)
    return;
  auto& p = *found;
  auto pi = st.partitions.find(p.partition);
  auto* ps = pi != st.partitions.end() ? &pi->second : nullptr;
  if (ps != nullptr && ps->pending > 0)
    --ps->pending;
  switch (p.ph) {
  case phase::waiting:
    // Still queued: only drop_partition removes it from the queue, and a
    // record is abandoned only after its partition was dropped.
    break;
  case phase::staged:
  case phase::backoff:
    st.queue.finish(seq);
    break;
  case phase::running:
    st.queue.finish(seq);
    if (ps != nullptr && ps->running > 0)
      --ps->running;
    break;
  case phase::dead_lettering:
    st.queue.finish(seq);
    if (ps != nullptr && ps->dead_lettering > 0)
      --ps->dead_lettering;
    break;
  }
  st.pending.erase(seq);
}

void on_assigned(src_actor self, const std::vector<int32_t>& partitions) {
  auto& st = self->state;
  for (auto p : partitions)
    st.partitions[p] = partition_state{};
  ++st.stats.assigns;
  st.metrics->rebalances_assign->Increment();
  log::info("partitions_assigned", {{"bridge", st.binding.name},
                                    {"topic", st.binding.topic},
                                    {"group", st.binding.group},
                                    {"partitions", join(partitions)},
                                    {"owned", st.partitions.size()}});
}

void start_drain(src_actor self, std::vector<int32_t> partitions, bool lost,
                 bool shutdown, std::shared_ptr<offsets_promise> reply) {
  auto& st = self->state;
  drain_job job;
  job.id = st.next_drain++;
  job.lost = lost;
  job.shutdown = shutdown;
  job.reply = std::move(reply);
  job.started = steady::now();
  // The highest record started (running or dead-lettering) per partition:
  // it finishes during the drain.
  std::unordered_map<int32_t, uint64_t> started;
  if (!lost)
    st.pending.for_each([&](uint64_t seq, pending_record& p) {
      if (p.ph == phase::running || p.ph == phase::dead_lettering) {
        auto& s = started[p.partition];
        s = std::max(s, seq);
      }
    });
  for (auto p : partitions) {
    auto i = st.partitions.find(p);
    if (i == st.partitions.end())
      continue;
    auto& ps = i->second;
    ps.revoking = true;
    // Records below the highest finished or started one still run: each of
    // them would hold the commit below records already done, which the next
    // owner would then process again. The rest is dropped: unfinished in the
    // tracker, so the commit stops below them and the next owner reads them.
    ps.keep_below = lost ? 0 : std::max(ps.max_finished_seq, started[p]);
    st.queue.drop_partition(p, ps.keep_below);
    job.partitions.push_back(p);
  }
  std::vector<uint64_t> victims;
  st.pending.for_each([&](uint64_t seq, pending_record& p) {
    if (!contains(job.partitions, p.partition))
      return;
    auto keep_below = st.partitions[p.partition].keep_below;
    bool drop = false;
    switch (p.ph) {
    case phase::waiting:
    case phase::staged:
      drop = seq >= keep_below;
      break;
    case phase::backoff:
      drop = true; // a drain does not wait for retry timers
      break;
    case phase::running:
    case phase::dead_lettering:
      drop = lost;
      break;
    }
    if (drop)
      victims.push_back(seq);
  });
  for (auto seq : victims)
    abandon(self, seq);
  job.abandoned = victims.size();
  for (auto p : job.partitions)
    job.waiting_for += st.partitions[p].pending;
  if (!shutdown) {
    ++st.stats.revokes;
    st.metrics->rebalances_revoke->Increment();
  }
  log::debug("partitions_draining", {{"bridge", st.binding.name},
                                     {"partitions", join(job.partitions)},
                                     {"running", job.waiting_for},
                                     {"abandoned", job.abandoned},
                                     {"lost", lost}});
  auto id = job.id;
  st.drains.push_back(std::move(job));
  dispatch(self);
  self->delayed_send(self, st.binding.drain_timeout, drain_timeout_atom::value,
                     id);
  check_drains(self);
}

void check_drains(src_actor self) {
  auto& st = self->state;
  for (size_t k = 0; k < st.drains.size();) {
    auto& job = st.drains[k];
    bool done = std::all_of(
        job.partitions.begin(), job.partitions.end(), [&](int32_t p) {
          auto i = st.partitions.find(p);
          return i == st.partitions.end() || i->second.pending == 0;
        });
    if (!done) {
      ++k;
      continue;
    }
    auto finished = std::move(job);
    st.drains.erase(st.drains.begin() + static_cast<std::ptrdiff_t>(k));
    finish_drain(self, std::move(finished), false);
  }
  publish_held(self);
}

void on_drain_timeout(src_actor self, uint64_t id) {
  auto& st = self->state;
  auto i = std::find_if(st.drains.begin(), st.drains.end(),
                        [id](const drain_job& j) { return j.id == id; });
  if (i == st.drains.end())
    return;
  auto job = std::move(*i);
  st.drains.erase(i);
  log::warn("drain_timeout",
            {{"bridge", st.binding.name},
             {"partitions", join(job.partitions)},
             {"timeout_ms", st.binding.drain_timeout.count()}});
  finish_drain(self, std::move(job), true);
}

void begin_shutdown(src_actor self, caf::error reason) {
  auto& st = self->state;
  if (st.life != lifecycle::running)
    return;
  st.life = lifecycle::draining;
  st.exit_reason = std::move(reason);
  st.entry->set_state("draining");
  log::info("bridge_stopping",
            {{"bridge", st.binding.name},
             {"reason", st.exit_reason ? self->system().render(st.exit_reason)
                                       : std::string{"none"}}});
  st.loop->stop_fetching();
  std::vector<int32_t> all;
  for (auto& [p, ps] : st.partitions)
    if (!ps.revoking)
      all.push_back(p);
  // A bound on the whole stop, in case the consumer cannot close.
  self->delayed_send(self, st.binding.drain_timeout + std::chrono::seconds{30},
                     close_timeout_atom::value);
  start_drain(self, std::move(all), false, true, nullptr);
}

void finish_shutdown(src_actor self) {
  auto& st = self->state;
  if (st.life == lifecycle::stopped)
    return;
  st.life = lifecycle::stopped;
  st.entry->set_state("stopped");
  if (st.pool) {
    self->send_exit(st.pool, caf::exit_reason::user_shutdown);
    st.pool = nullptr;
  }
  log::info("bridge_stopped", {{"bridge", st.binding.name},
                               {"consumed", st.stats.consumed},
                               {"processed", st.stats.processed},
                               {"dead_lettered", st.stats.dead_lettered},
                               {"retried", st.stats.retried}});
  self->quit(st.exit_reason);
}

} // namespace distiller::kafka::detail
