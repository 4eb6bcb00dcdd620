#include <algorithm>
#include <utility>

#include "bridges/kafka/source_core.hpp"
#include "runtime/logging/log.hpp"

// The source core's answers: batches done or failed, workers down or
// restarted, retries, dead letters, commits.

namespace distiller::kafka::detail {

// -- failures
// ---------------------------------------------------------------------

/// Counts a failed attempt of `p` with `err`.
void source_core::note_failure(pending_record& p, const std::string& err,
                               bool solo) {
  ++stats_.failed_attempts;
  metrics_.failed_attempts->Increment();
  entry_->add_failure();
  auto ms = wall_ms();
  auto& f = p.failed();
  if (f.first_failure_ms == 0)
    f.first_failure_ms = ms;
  f.last_failure_ms = ms;
  f.last_error = err;
  p.solo = p.solo || solo;
  std::string text;
  append_origin(text, p.rec->topic, p.partition, p.offset);
  text += " attempt ";
  text += std::to_string(p.rec->attempt);
  text += ": ";
  text += f.last_error;
  entry_->record_error(std::move(text));
}

/// One failed attempt of `seq`: retry with backoff, or dead-letter.
void source_core::fail(uint64_t seq, pending_record& p, partition_state& ps,
                       const std::string& err, bool permanent, bool solo) {
  note_failure(p, err, solo);
  if (ps.revoking) {
    // The revoke does not wait for backoff timers.
    // Its partition is going away: the next owner processes it again.
    abandon(seq);
    return;
  }
  if (permanent || !cfg_.retry.may_retry(p.rec->attempt)) {
    p.ph = phase::dead_lettering;
    ++ps.dead_lettering;
    fx_.dead_letters.push_back(seq);
    return;
  }
  p.ph = phase::backoff;
  auto delay = cfg_.retry.delay(p.rec->attempt, rng_);
  ++stats_.retried;
  metrics_.retried->Increment();
  log::debug("record_retry_scheduled", {{"bridge", cfg_.name},
                                        {"topic", p.rec->topic},
                                        {"partition", p.partition},
                                        {"offset", p.offset},
                                        {"attempt", p.rec->attempt},
                                        {"delay_ms", delay.count()},
                                        {"error", p.last_error()},
                                        {"trace_id", p.rec->trace}});
  fx_.timers.push_back({source_effects::timer::retry, seq, delay});
}

/// Reports an acknowledged dead letter to the registry entry and the trace
/// ring: "<topic>/<partition>@<offset> -> <dlq topic> after <n> attempts:
/// <error>".
void source_core::note_dead_letter(const pending_record& p) {
  std::string text;
  append_origin(text, p.rec->topic, p.partition, p.offset);
  text += " -> ";
  text += cfg_.dlq_topic;
  text += " after ";
  text += std::to_string(p.rec->attempt);
  text += p.rec->attempt == 1 ? " attempt: " : " attempts: ";
  text += p.last_error();
  if (trace_ != nullptr)
    trace_->record(p.rec->trace.value(), cfg_.entry_name, "dead_letter", text);
  entry_->record_error(std::move(text));
}

std::optional<batch_info> source_core::release_batch(uint64_t id) {
  auto i = batches_.find(id);
  if (i == batches_.end())
    return std::nullopt;
  auto b = std::move(i->second);
  batches_.erase(i);
  auto& w = workers_[b.worker];
  w.batches -= 1;
  w.records -= b.seqs.size();
  if (w.batches == 0)
    w.exclusive = false;
  in_flight_ -= b.seqs.size();
  if (w.batches == 0 && w.retiring)
    retire_if_idle(b.worker);
  return b;
}

namespace {

/// Gives `p` a copy of its record of its own before the core changes it
/// (the attempt number): a worker that timed out may still be reading the
/// chunk's copy, or the previous own copy, which its batch keeps alive.
in_record& writable(pending_record& p) {
  auto& f = p.failed();
  f.own = std::make_shared<in_record>(*p.rec);
  p.rec = f.own.get();
  return *p.rec;
}

} // namespace

/// Running record `seq` goes back to wait at the front of its lane, or is
/// forgotten if its partition is being revoked.
void source_core::return_to_lane(uint64_t seq, pending_record& p) {
  auto& ps = *find_partition(p.partition);
  if (ps.revoking) {
    // Its partition is going away: the next owner processes it.
    abandon(seq);
    return;
  }
  --ps.running;
  if (queue_.unstart(seq)) {
    p.ph = phase::waiting;
    if (p.solo)
      ++suspects_;
    return;
  }
  // Cannot happen (a lane's running records are all in one batch, given
  // back from the end); keep the record anyway, holding its lane.
  log::error("record_give_back_failed", {{"bridge", cfg_.name},
                                         {"partition", p.partition},
                                         {"offset", p.offset}});
  p.ph = phase::staged;
  retry_ready_.push_front(seq);
}

/// Record `k` of batch `b` was sent but did not run (its worker died before
/// it, or stopped the batch at an earlier failure): it goes back to wait at
/// the front of its lane, without counting an attempt. Called for a batch's
/// records from the last to the first, so that each is the last running
/// record of its lane when it is given back.
void source_core::give_back(const batch_info& b, size_t k) {
  auto seq = b.seqs[k];
  auto* i = pending_.find(seq);
  if (i == nullptr || i->ph != phase::running)
    return;
  return_to_lane(seq, *i);
}

/// The worker running `b` failed (crashed, timed out, or does not speak the
/// protocol) with `cause`; which record did it is unknown, so each counts one
/// attempt (`solo`: and runs alone from now on, so that the next crash is
/// its own fault). The first record of each lane in the batch is retried
/// after its backoff; the records behind it go back to wait behind it in
/// their lane and run after it, in order (a record whose attempts are used
/// up still gets one more, alone, when its turn comes: dead-lettering it
/// now would finish it before the records ahead of it).
void source_core::fail_batch(const batch_info& b, const std::string& cause,
                             bool solo) {
  auto t = now_ns();
  for (size_t k = b.seqs.size(); k-- > 0;) {
    auto seq = b.seqs[k];
    auto* i = pending_.find(seq);
    if (i == nullptr || i->ph != phase::running)
      continue;
    if (queue_.follows(seq)) {
      note_failure(*i, cause, solo);
      auto attempt = std::min(i->rec->attempt + 1, cfg_.retry.max_attempts);
      writable(*i).attempt = attempt;
      return_to_lane(seq, *i);
      continue;
    }
    auto& p = *i;
    auto& ps = *find_partition(p.partition);
    --ps.running;
    processing_.record(t - p.dispatched_ns);
    fail(seq, p, ps, cause, false, solo);
  }
}

// -- answers
// ----------------------------------------------------------------------

source_effects
source_core::on_batch_done(uint64_t id, size_t succeeded,
                           std::optional<record_failure> failure) {
  auto b = release_batch(id);
  if (!b)
    return take();
  auto t = now_ns();
  auto n = b->seqs.size();
  // The worker stops at the first failure (record_worker.hpp); the records
  // after it run again.
  auto stop = std::min(succeeded, n);
  auto ran = std::min(n, failure ? stop + 1 : stop);
  uint64_t ok = 0;
  // The records of a batch were dispatched together: one processing time.
  uint64_t timed = 0;
  int64_t took = 0;
  int32_t last_part = -1;
  partition_state* last_ps = nullptr;
  for (size_t k = 0; k < ran; ++k) {
    auto seq = b->seqs[k];
    auto* i = pending_.find(seq);
    if (i == nullptr || i->ph != phase::running)
      continue; // abandoned by a revoke meanwhile
    auto& p = *i;
    if (last_ps == nullptr || p.partition != last_part) {
      last_part = p.partition;
      last_ps = find_partition(last_part);
    }
    auto& ps = *last_ps;
    --ps.running;
    took = t - p.dispatched_ns;
    ++timed;
    if (k == stop) {
      fail(seq, p, ps, failure->error, failure->permanent, false);
      continue;
    }
    ++ok;
    finish(seq, p, ps, t);
  }
  if (timed > 0) {
    processing_.record(took, timed);
    processing_histogram_.observe(static_cast<double>(took) / 1e9, timed);
  }
  for (auto k = n; k-- > ran;)
    give_back(*b, k);
  stats_.processed += ok;
  entry_->add_processed(ok);
  metrics_.processed->Increment(static_cast<double>(ok));
  flush_histograms();
  dispatch();
  check_drains();
  return take();
}

source_effects source_core::on_batch_failed(uint64_t id, batch_fault fault,
                                            const std::string& error) {
  auto i = batches_.find(id);
  if (i == batches_.end())
    return take();
  if (fault == batch_fault::rejected) {
    // The worker is alive but does not speak the protocol: these records
    // failed, the worker did not.
    auto b = release_batch(id);
    fail_batch(*b, error, false);
    dispatch();
    check_drains();
    return take();
  }
  // A timeout, or the worker died while running the batch (CAF answers the
  // current request with the exit reason, queued ones with
  // request_receiver_down). Either way the worker goes: abandoned work must
  // not run beside its retry (the supervisor restarts it).
  auto who = i->second.incarnation;
  auto index = i->second.worker;
  auto& w = workers_[index];
  if (fault == batch_fault::timeout)
    log::warn("worker_timeout", {{"bridge", cfg_.name},
                                 {"worker", w.name},
                                 {"records", i->second.seqs.size()},
                                 {"timeout_ms", cfg_.worker_timeout.count()}});
  if (w.incarnation != 0 && w.incarnation == who) {
    fx_.kills.push_back({index, w.name, who});
    w.incarnation = 0;
  }
  worker_down(who, error);
  return take();
}

source_effects source_core::on_worker_down(uint64_t who,
                                           const std::string& reason) {
  worker_down(who, reason);
  return take();
}

void source_core::worker_down(uint64_t who, const std::string& reason) {
  for (auto& w : workers_)
    if (w.incarnation != 0 && w.incarnation == who)
      w.incarnation = 0; // until the supervisor announces the restart
  std::vector<uint64_t> ids;
  for (auto& [id, b] : batches_)
    if (b.incarnation == who)
      ids.push_back(id);
  if (ids.empty())
    return;
  std::sort(ids.begin(), ids.end());
  // Workers take batches in order: the oldest one was running.
  auto running = release_batch(ids.front());
  fail_batch(*running, reason, true);
  for (size_t k = 1; k < ids.size(); ++k) {
    auto queued = release_batch(ids[k]);
    for (size_t r = queued->seqs.size(); r-- > 0;)
      give_back(*queued, r);
  }
  dispatch();
  check_drains();
}

source_effects source_core::on_worker_restarted(const std::string& name,
                                                uint64_t who,
                                                const std::string& why) {
  std::vector<uint64_t> dead;
  for (size_t i = 0; i < workers_.size(); ++i) {
    auto& w = workers_[i];
    // A worker on its way out of the pool (or out already) is not used
    // again, whatever incarnation the supervisor reports.
    if (w.name != name || w.removing || w.gone)
      continue;
    // Batches of a previous incarnation are lost even if its down_msg has
    // not arrived yet.
    for (auto& [id, b] : batches_)
      if (b.worker == i && b.incarnation != who)
        dead.push_back(b.incarnation);
    w.incarnation = who;
    if (who != 0)
      fx_.adopted.push_back(i);
  }
  for (auto x : dead)
    worker_down(x, why);
  dispatch();
  return take();
}

// -- retries and dead letters
// -----------------------------------------------------

source_effects source_core::on_retry_due(uint64_t seq) {
  auto* i = pending_.find(seq);
  if (i == nullptr)
    return take();
  auto& p = *i;
  if (p.ph == phase::backoff) {
    auto attempt = p.rec->attempt + 1;
    writable(p).attempt = attempt;
    p.ph = phase::staged;
    retry_ready_.push_back(seq);
    dispatch();
  } else if (p.ph == phase::dead_lettering) {
    fx_.dead_letters.push_back(seq);
  }
  return take();
}

std::optional<source_core::dead_letter_request>
source_core::dead_letter_of(uint64_t seq) {
  auto* i = pending_.find(seq);
  if (i == nullptr || i->ph != phase::dead_lettering)
    return std::nullopt;
  auto* f = i->failures.get();
  return dead_letter_request{i->rec, i->last_error(), i->rec->attempt,
                             f ? f->first_failure_ms : 0,
                             f ? f->last_failure_ms : 0};
}

source_effects source_core::on_dead_lettered(uint64_t seq,
                                             std::optional<std::string> error) {
  auto* i = pending_.find(seq);
  if (i == nullptr || i->ph != phase::dead_lettering)
    return take();
  auto& p = *i;
  if (error) {
    // The record stays unfinished (the commit cannot pass it) and its
    // dead letter is produced again.
    log::warn("dead_letter_failed", {{"bridge", cfg_.name},
                                     {"topic", p.rec->topic},
                                     {"partition", p.partition},
                                     {"offset", p.offset},
                                     {"dlq_topic", cfg_.dlq_topic},
                                     {"error", *error}});
    fx_.timers.push_back(
        {source_effects::timer::retry, seq, std::chrono::seconds{1}});
    return take();
  }
  auto& ps = *find_partition(p.partition);
  --ps.dead_lettering;
  ++stats_.dead_lettered;
  metrics_.dead_lettered->Increment();
  log::warn("record_dead_lettered", {{"bridge", cfg_.name},
                                     {"topic", p.rec->topic},
                                     {"partition", p.partition},
                                     {"offset", p.offset},
                                     {"attempts", p.rec->attempt},
                                     {"error", p.last_error()},
                                     {"dlq_topic", cfg_.dlq_topic},
                                     {"trace_id", p.rec->trace}});
  note_dead_letter(p);
  finish(seq, p, ps, now_ns());
  dispatch();
  check_drains();
  return take();
}

// -- commits
// ----------------------------------------------------------------------

void source_core::on_committed(const std::vector<partition_offset>& offsets,
                               const std::optional<std::string>& error) {
  std::string text;
  for (auto& po : offsets) {
    if (!text.empty())
      text += ',';
    text += std::to_string(po.partition) + ':' + std::to_string(po.offset);
    auto* ps = find_partition(po.partition);
    if (ps == nullptr)
      continue;
    if (!error && ps->tracker)
      ps->tracker->mark_committed(po.offset);
    if (ps->committing && *ps->committing == po.offset)
      ps->committing.reset();
  }
  if (error) {
    log::warn("offsets_commit_failed", {{"bridge", cfg_.name},
                                        {"topic", cfg_.topic},
                                        {"offsets", text},
                                        {"error", *error}});
    return;
  }
  ++stats_.commits;
  log::debug("offsets_committed",
             {{"bridge", cfg_.name}, {"topic", cfg_.topic}, {"offsets", text}});
}

source_effects source_core::on_commit_tick() {
  if (life_ == lifecycle::stopped)
    return take();
  size_t buffered = 0;
  size_t paused = 0;
  for (auto& [p, ps] : partitions_) {
    buffered += ps.buffered;
    paused += ps.paused ? 1 : 0;
    if (life_ != lifecycle::running || ps.revoking || !ps.tracker)
      continue;
    auto c = ps.tracker->pending_commit();
    if (!c || (ps.committing && *ps.committing == *c))
      continue;
    ps.committing = *c;
    fx_.commits.push_back({p, *c});
  }
  stats_.buffered = buffered;
  stats_.paused_partitions = paused;
  paused_partitions_ = paused;
  flush_histograms();
  metrics_.in_flight->Set(static_cast<double>(in_flight_));
  metrics_.buffered->Set(static_cast<double>(buffered));
  metrics_.paused_partitions->Set(static_cast<double>(paused));
  return take();
}

} // namespace distiller::kafka::detail
