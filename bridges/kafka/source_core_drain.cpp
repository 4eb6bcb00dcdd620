#include <algorithm>
#include <unordered_map>
#include <utility>

#include "bridges/kafka/source_core.hpp"
#include "runtime/logging/log.hpp"

// Rebalances and shutdown of the source core.
//
//   running ──revoke──► (partitions draining) ──drained or timeout──►
//      │                 reply final offsets, forget them ──► running
//      │
//      └──shutdown──► draining ──drained or timeout──► closing
//                   (all partitions)   close(final offsets)   │ loop stopped
//                                                              ▼
//                                                   stopped (finish_shutdown)

namespace distiller::kafka::detail {

namespace {

bool contains(const std::vector<int32_t>& xs, int32_t x) {
  return std::find(xs.begin(), xs.end(), x) != xs.end();
}

} // namespace

/// Forgets every pending record of `parts` that `pred` selects; returns how
/// many.
template <class Pred>
size_t source_core::abandon_where(const std::vector<int32_t>& parts,
                                  Pred pred) {
  std::vector<uint64_t> victims;
  pending_.for_each([&](uint64_t seq, pending_record& p) {
    if (contains(parts, p.partition) && pred(p))
      victims.push_back(seq);
  });
  for (auto seq : victims)
    abandon(seq);
  return victims.size();
}

/// Forgets `seq` without finishing it (revoke, lost partition): the commit
/// stays below it so the next owner processes it again.
void source_core::abandon(uint64_t seq) {
  auto* found = pending_.find(seq);
  if (found == nullptr)
    return;
  auto& p = *found;
  auto* ps = find_partition(p.partition);
  if (ps != nullptr && ps->pending > 0)
    --ps->pending;
  switch (p.ph) {
  case phase::waiting:
    // Still queued: only drop_partition removes it from the queue, and a
    // record is abandoned only after its partition was dropped.
    break;
  case phase::staged:
  case phase::backoff:
    queue_.finish(seq);
    break;
  case phase::running:
    queue_.finish(seq);
    if (ps != nullptr && ps->running > 0)
      --ps->running;
    break;
  case phase::dead_lettering:
    queue_.finish(seq);
    if (ps != nullptr && ps->dead_lettering > 0)
      --ps->dead_lettering;
    break;
  }
  pending_.erase(seq);
}

void source_core::on_assigned(const std::vector<int32_t>& partitions) {
  for (auto p : partitions) {
    // Sequence numbers go on where the partition's last assignment left
    // them, so that a record id is never given twice: a batch, retry timer
    // or dead letter of a record abandoned by a revoke (lost partitions, a
    // drain timeout) still refers to its id when it comes back, and must
    // not find a record of the next assignment under it. (When they
    // restarted at 1, an abandoned batch's answer finished records of the
    // partition's next assignment that had not run, and the commit passed
    // them: source_rebalance_test's cooperative case, where the mock
    // declares assignments lost and gives the partitions back.)
    uint64_t next = 1;
    if (auto* old = find_partition(p))
      next = old->next_seq;
    if (auto i = next_seqs_.find(p); i != next_seqs_.end())
      next = std::max(next, i->second);
    auto& ps = partitions_[p];
    ps = partition_state{};
    ps.next_seq = next;
  }
  ++stats_.assigns;
  metrics_.rebalances_assign->Increment();
  log::info("partitions_assigned", {{"bridge", cfg_.name},
                                    {"topic", cfg_.topic},
                                    {"partitions", join_partitions(partitions)},
                                    {"owned", partitions_.size()}});
}

source_effects source_core::on_revoked(std::vector<int32_t> partitions,
                                       bool lost, uint64_t token) {
  start_drain(std::move(partitions), lost, false, token);
  return take();
}

void source_core::start_drain(std::vector<int32_t> partitions, bool lost,
                              bool shutdown, uint64_t token) {
  drain_job job;
  job.id = next_drain_++;
  job.lost = lost;
  job.shutdown = shutdown;
  job.token = token;
  job.started_ns = now_ns();
  // The highest record started (running or dead-lettering) per partition:
  // it finishes during the drain.
  std::unordered_map<int32_t, uint64_t> started;
  if (!lost)
    pending_.for_each([&](uint64_t seq, pending_record& p) {
      if (p.ph == phase::running || p.ph == phase::dead_lettering) {
        auto& s = started[p.partition];
        s = std::max(s, seq);
      }
    });
  for (auto p : partitions) {
    auto* ps = find_partition(p);
    if (ps == nullptr)
      continue;
    ps->revoking = true;
    // Records below the highest finished or started one still run: each of
    // them would hold the commit below records already done, which the next
    // owner would then process again. The rest is dropped: unfinished in the
    // tracker, so the commit stops below them and the next owner reads them.
    ps->keep_below = lost ? 0 : std::max(ps->max_finished_seq, started[p]);
    queue_.drop_partition(p, ps->keep_below);
    job.partitions.push_back(p);
  }
  std::vector<uint64_t> victims;
  pending_.for_each([&](uint64_t seq, pending_record& p) {
    if (!contains(job.partitions, p.partition))
      return;
    auto keep_below = partitions_[p.partition].keep_below;
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
    abandon(seq);
  job.abandoned = victims.size();
  for (auto p : job.partitions)
    job.waiting_for += partitions_[p].pending;
  if (!shutdown) {
    ++stats_.revokes;
    metrics_.rebalances_revoke->Increment();
    // Until it ends, only the revoked partitions' records go to workers:
    // the poll thread, and with it the group's rebalance, waits for this
    // drain, and with the cooperative protocol the partitions the bridge
    // keeps would otherwise take most of the workers. (They did in
    // source_rebalance_test's cooperative case: a drain of a few hundred
    // records below the highest finished one ran at half speed into its
    // timeout whenever the revoke was not a lost assignment.)
    ++revokes_draining_;
  }
  log::debug("partitions_draining",
             {{"bridge", cfg_.name},
              {"partitions", join_partitions(job.partitions)},
              {"running", job.waiting_for},
              {"abandoned", job.abandoned},
              {"lost", lost}});
  auto id = job.id;
  drains_.push_back(std::move(job));
  dispatch();
  fx_.timers.push_back(
      {source_effects::timer::drain_timeout, id, cfg_.drain_timeout});
  check_drains();
}

/// Finishes every drain whose partitions have nothing pending any more.
void source_core::check_drains() {
  for (size_t k = 0; k < drains_.size();) {
    auto& job = drains_[k];
    bool done = std::all_of(job.partitions.begin(), job.partitions.end(),
                            [&](int32_t p) {
                              auto* ps = find_partition(p);
                              return ps == nullptr || ps->pending == 0;
                            });
    if (!done) {
      ++k;
      continue;
    }
    auto finished = std::move(job);
    drains_.erase(drains_.begin() + static_cast<std::ptrdiff_t>(k));
    finish_drain(std::move(finished), false);
  }
}

void source_core::finish_drain(drain_job job, bool timed_out) {
  size_t abandoned_running = 0;
  if (timed_out) {
    // Records still waiting in their lanes (below keep_below) leave the
    // queue first; abandon then forgets every record of the partitions.
    for (auto p : job.partitions)
      queue_.drop_partition(p, 0);
    abandoned_running = abandon_where(
        job.partitions, [](const pending_record&) { return true; });
  }
  std::vector<partition_offset> offsets;
  for (auto p : job.partitions) {
    auto i = partitions_.find(p);
    if (i == partitions_.end())
      continue;
    if (!job.lost && i->second.tracker)
      offsets.push_back({p, i->second.tracker->committable()});
    next_seqs_[p] = i->second.next_seq;
    partitions_.erase(i);
  }
  auto ms = (now_ns() - job.started_ns) / 1'000'000;
  log::info("partitions_revoked",
            {{"bridge", cfg_.name},
             {"topic", cfg_.topic},
             {"partitions", join_partitions(job.partitions)},
             {"drained", job.waiting_for - abandoned_running},
             {"abandoned", job.abandoned + abandoned_running},
             {"lost", job.lost},
             {"timed_out", timed_out},
             {"shutdown", job.shutdown},
             {"duration_ms", ms}});
  if (job.shutdown) {
    life_ = lifecycle::closing;
    entry_->set_state("closing");
    fx_.close = std::move(offsets);
  } else {
    fx_.replies.push_back({job.token, std::move(offsets)});
    // The partitions it held back go on.
    if (--revokes_draining_ == 0)
      dispatch();
  }
}

source_effects source_core::on_drain_timeout(uint64_t id) {
  auto i = std::find_if(drains_.begin(), drains_.end(),
                        [id](const drain_job& j) { return j.id == id; });
  if (i == drains_.end())
    return take();
  auto job = std::move(*i);
  drains_.erase(i);
  log::warn("drain_timeout", {{"bridge", cfg_.name},
                              {"partitions", join_partitions(job.partitions)},
                              {"timeout_ms", cfg_.drain_timeout.count()}});
  finish_drain(std::move(job), true);
  return take();
}

source_effects source_core::begin_shutdown(const std::string& reason) {
  if (life_ != lifecycle::running)
    return take();
  life_ = lifecycle::draining;
  entry_->set_state("draining");
  log::info("bridge_stopping", {{"bridge", cfg_.name}, {"reason", reason}});
  fx_.stop_fetching = true;
  std::vector<int32_t> all;
  for (auto& [p, ps] : partitions_)
    if (!ps.revoking)
      all.push_back(p);
  start_drain(std::move(all), false, true, 0);
  return take();
}

bool source_core::finish_shutdown() {
  if (life_ == lifecycle::stopped)
    return false;
  life_ = lifecycle::stopped;
  entry_->set_state("stopped");
  pool_alive_ = false;
  log::info("bridge_stopped", {{"bridge", cfg_.name},
                               {"consumed", stats_.consumed},
                               {"processed", stats_.processed},
                               {"dead_lettered", stats_.dead_lettered},
                               {"retried", stats_.retried}});
  return true;
}

} // namespace distiller::kafka::detail
