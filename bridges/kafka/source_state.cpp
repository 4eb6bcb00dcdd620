#include "bridges/kafka/source_state.hpp"

#include <algorithm>
#include <utility>

#include "runtime/logging/log.hpp"

namespace distiller::kafka::detail {

// -- helpers
// ------------------------------------------------------------------------

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             steady::now().time_since_epoch())
      .count();
}

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const char* to_string(lifecycle x) {
  switch (x) {
  case lifecycle::running:
    return "running";
  case lifecycle::draining:
    return "draining";
  case lifecycle::closing:
    return "closing";
  case lifecycle::stopped:
    return "stopped";
  }
  return "unknown";
}

source_state::~source_state() {
  // An orderly stop has closed the consumer and handed the pool a
  // user_shutdown already; anything still here means the bridge was killed.
  if (loop)
    loop->abort();
  loop.reset();
  dlq_producer.reset();
  if (pool)
    caf::anon_send_exit(pool, caf::exit_reason::kill);
}

namespace {

double seconds(int64_t ns) {
  return static_cast<double>(ns) / 1e9;
}

} // namespace

void source_state::flush_acks() noexcept {
  if (ack_run_count == 0)
    return;
  ack_latency.record(ack_run_ns, ack_run_count);
  ack_histogram.observe(seconds(ack_run_ns), ack_run_count);
  ack_run_count = 0;
}

namespace {

partition_state* find_partition(src_actor self, int32_t p) {
  auto i = self->state.partitions.find(p);
  return i != self->state.partitions.end() ? &i->second : nullptr;
}

/// Finished for good (processed, or dead letter acknowledged): the lane
/// moves on, the tracker may move the commit, the buffer shrinks.
void finish(src_actor self, uint64_t seq, pending_record& p,
            partition_state& ps, int64_t t) {
  auto& st = self->state;
  st.queue.finish(seq);
  if (ps.tracker)
    ps.tracker->complete(p.offset);
  if (ps.buffered > 0)
    --ps.buffered;
  --ps.pending;
  ps.max_finished_seq = std::max(ps.max_finished_seq, seq);
  st.note_ack(t - p.polled_ns);
  if (ps.paused && !ps.revoking &&
      ps.buffered < st.binding.partition_buffer_limit() / 2) {
    ps.paused = false;
    if (st.paused_partitions > 0)
      --st.paused_partitions;
    ++st.stats.resumes;
    st.loop->resume({p.partition});
    log::info("partition_resumed", {{"bridge", st.binding.name},
                                    {"topic", st.binding.topic},
                                    {"partition", p.partition},
                                    {"buffered", ps.buffered}});
  }
  st.pending.erase(seq);
}

/// Reports an acknowledged dead letter to the registry entry and the trace
/// ring: "<topic>/<partition>@<offset> -> <dlq topic> after <n> attempts:
/// <error>".
void note_dead_letter(src_actor self, const pending_record& p) {
  auto& st = self->state;
  std::string text;
  append_origin(text, p.rec->topic, p.partition, p.offset);
  text += " -> ";
  text += st.dlq_topic;
  text += " after ";
  text += std::to_string(p.rec->attempt);
  text += p.rec->attempt == 1 ? " attempt: " : " attempts: ";
  text += p.last_error;
  if (st.deps.trace != nullptr)
    st.deps.trace->record(p.rec->trace.value(), st.entry_name, "dead_letter",
                          text);
  st.entry->record_error(std::move(text));
}

void produce_dead_letter(src_actor self, uint64_t seq) {
  auto& st = self->state;
  auto* i = st.pending.find(seq);
  if (i == nullptr)
    return;
  auto& p = (*i);
  failure_info why{p.last_error, p.rec->attempt, p.first_failure_ms,
                   p.last_failure_ms, st.binding.name};
  auto letter = make_dead_letter(*p.rec, st.dlq_topic, why);
  // The sink bridge (deps.dlq_sink) is not wired yet: see bridge_deps.
  if (auto err = st.dlq_producer->write(seq, letter))
    on_dead_lettered(self, seq, err);
}

/// One failed attempt of `seq`: retry with backoff, or dead-letter.
/// Counts a failed attempt of `p` with `err`.
void note_failure(src_actor self, pending_record& p, const caf::error& err,
                  bool solo) {
  auto& st = self->state;
  ++st.stats.failed_attempts;
  st.metrics->failed_attempts->Increment();
  st.entry->add_failure();
  auto ms = wall_ms();
  if (p.first_failure_ms == 0)
    p.first_failure_ms = ms;
  p.last_failure_ms = ms;
  p.last_error = self->system().render(err);
  p.solo = p.solo || solo;
  std::string text;
  append_origin(text, p.rec->topic, p.partition, p.offset);
  text += " attempt ";
  text += std::to_string(p.rec->attempt);
  text += ": ";
  text += p.last_error;
  st.entry->record_error(std::move(text));
}

void fail(src_actor self, uint64_t seq, pending_record& p, partition_state& ps,
          const caf::error& err, bool solo) {
  auto& st = self->state;
  note_failure(self, p, err, solo);
  if (ps.revoking) {
    // The revoke does not wait for backoff timers.
    // Its partition is going away: the next owner processes it again.
    abandon(self, seq);
    return;
  }
  if (is_permanent(err) || !st.binding.retry.may_retry(p.rec->attempt)) {
    p.ph = phase::dead_lettering;
    ++ps.dead_lettering;
    produce_dead_letter(self, seq);
    return;
  }
  p.ph = phase::backoff;
  auto delay = st.binding.retry.delay(p.rec->attempt, st.rng);
  ++st.stats.retried;
  st.metrics->retried->Increment();
  log::debug("record_retry_scheduled", {{"bridge", st.binding.name},
                                        {"topic", p.rec->topic},
                                        {"partition", p.partition},
                                        {"offset", p.offset},
                                        {"attempt", p.rec->attempt},
                                        {"delay_ms", delay.count()},
                                        {"error", p.last_error},
                                        {"trace_id", p.rec->trace}});
  self->delayed_send(self, delay, retry_atom::value, seq);
}

std::optional<batch_info> release_batch(src_actor self, uint64_t id) {
  auto& st = self->state;
  auto i = st.batches.find(id);
  if (i == st.batches.end())
    return std::nullopt;
  auto b = std::move(i->second);
  st.batches.erase(i);
  auto& w = st.workers[b.worker];
  w.batches -= 1;
  w.records -= b.seqs.size();
  if (w.batches == 0)
    w.exclusive = false;
  st.in_flight -= b.seqs.size();
  if (w.batches == 0 && w.retiring)
    retire_if_idle(self, b.worker);
  return b;
}

void send_batch(src_actor self, size_t worker, std::vector<uint64_t> seqs,
                bool exclusive) {
  auto& st = self->state;
  auto& w = st.workers[worker];
  record_batch recs;
  recs.reserve(seqs.size());
  auto t = now_ns();
  for (auto seq : seqs) {
    auto& p = *st.pending.find(seq);
    p.ph = phase::running;
    p.dispatched_ns = t;
    // By reference: the batch holds the record's chunk (or own copy).
    if (p.own)
      recs.add(p.rec, p.own);
    else
      recs.add(p.rec, st.pending.chunk(p.chunk));
  }
  st.in_flight += seqs.size();
  ++st.stats.batches;
  st.stats.max_in_flight =
      std::max<uint64_t>(st.stats.max_in_flight, st.in_flight);
  w.batches += 1;
  w.records += seqs.size();
  w.exclusive = exclusive;
  auto id = st.next_batch++;
  st.batches.emplace(id,
                     batch_info{worker, std::move(seqs), w.handle.address()});
  self->request(w.handle, st.binding.worker_timeout, std::move(recs))
      .then(
          [self, id](std::vector<caf::error>& results) {
            on_batch_done(self, id, results);
          },
          [self, id](caf::error& err) { on_batch_failed(self, id, err); });
}

bool available(const source_state& st, const worker_slot& w) {
  return w.handle && !w.exclusive && !w.retiring &&
         w.batches < st.binding.max_batches_per_worker;
}

/// The least-loaded worker that takes another batch, or -1.
int pick_worker(src_actor self) {
  auto& st = self->state;
  int best = -1;
  for (size_t i = 0; i < st.workers.size(); ++i) {
    auto& w = st.workers[i];
    if (!available(st, w))
      continue;
    if (best < 0 || w.records < st.workers[best].records ||
        (w.records == st.workers[best].records &&
         w.batches < st.workers[best].batches))
      best = static_cast<int>(i);
  }
  return best;
}

/// An idle worker for a record that must run alone, or -1.
int pick_idle_worker(src_actor self) {
  auto& st = self->state;
  for (size_t i = 0; i < st.workers.size(); ++i)
    if (st.workers[i].handle && !st.workers[i].retiring &&
        st.workers[i].batches == 0)
      return static_cast<int>(i);
  return -1;
}

/// Gives `p` a copy of its record of its own before the bridge changes it
/// (the attempt number): a worker that timed out may still be reading the
/// chunk's copy, or the previous own copy, which its batch keeps alive.
in_record& writable(pending_record& p) {
  p.own = std::make_shared<in_record>(*p.rec);
  p.rec = p.own.get();
  return *p.rec;
}

/// Running record `seq` goes back to
/// wait at the front of its lane, or is forgotten if its partition is being
/// revoked.
void return_to_lane(src_actor self, uint64_t seq, pending_record& p) {
  auto& st = self->state;
  auto& ps = *find_partition(self, p.partition);
  if (ps.revoking) {
    // Its partition is going away: the next owner processes it.
    abandon(self, seq);
    return;
  }
  --ps.running;
  if (st.queue.unstart(seq)) {
    p.ph = phase::waiting;
    if (p.solo)
      ++st.suspects;
    return;
  }
  // Cannot happen (a lane's running records are all in one batch, given
  // back from the end); keep the record anyway, holding its lane.
  log::error("record_give_back_failed", {{"bridge", st.binding.name},
                                         {"partition", p.partition},
                                         {"offset", p.offset}});
  p.ph = phase::staged;
  st.retry_ready.push_front(seq);
}

/// Record `k` of batch `b` was sent but did not run (its worker died before
/// it, or stopped the batch at an earlier failure): it goes back to wait at
/// the front of its lane, without counting an attempt. Called for a batch's
/// records from the last to the first, so that each is the last running
/// record of its lane when it is given back.
void give_back(src_actor self, const batch_info& b, size_t k) {
  auto& st = self->state;
  auto seq = b.seqs[k];
  auto* i = st.pending.find(seq);
  if (i == nullptr || i->ph != phase::running)
    return;
  return_to_lane(self, seq, *i);
}

/// The worker running `b` failed (crashed, timed out, or does not speak the
/// protocol) with `cause`; which record did it is unknown, so each counts one
/// attempt (`solo`: and runs alone from now on, so that the next crash is
/// its own fault). The first record of each lane in the batch is retried
/// after its backoff; the records behind it go back to wait behind it in
/// their lane and run after it, in order (a record whose attempts are used
/// up still gets one more, alone, when its turn comes: dead-lettering it
/// now would finish it before the records ahead of it).
void fail_batch(src_actor self, const batch_info& b, const caf::error& cause,
                bool solo) {
  auto& st = self->state;
  auto t = now_ns();
  for (size_t k = b.seqs.size(); k-- > 0;) {
    auto seq = b.seqs[k];
    auto* i = st.pending.find(seq);
    if (i == nullptr || i->ph != phase::running)
      continue;
    if (st.queue.follows(seq)) {
      note_failure(self, *i, cause, solo);
      auto attempt =
          std::min(i->rec->attempt + 1, st.binding.retry.max_attempts);
      writable(*i).attempt = attempt;
      return_to_lane(self, seq, *i);
      continue;
    }
    auto& p = *i;
    auto& ps = *find_partition(self, p.partition);
    --ps.running;
    st.processing.record(t - p.dispatched_ns);
    fail(self, seq, p, ps, cause, solo);
  }
}

} // namespace

// -- records in
// -----------------------------------------------------------------------

void on_records(src_actor self, chunk_ptr& records, int64_t polled_ns) {
  auto& st = self->state;
  std::vector<int32_t> to_pause;
  auto n = records->size;
  if (st.gate)
    st.gate->received(n);
  st.stats.consumed += n;
  st.metrics->consumed->Increment(static_cast<double>(n));
  int32_t last_part = -1;
  partition_state* ps = nullptr;
  // The records stay in their chunk; the pending table keeps the chunk while
  // any of them is pending.
  auto chunk = st.pending.add_chunk(records);
  for (size_t k = 0; k < n; ++k) {
    auto& r = (*records)[k];
    // A poll's records come in runs of one partition.
    if (ps == nullptr || r.partition != last_part) {
      last_part = r.partition;
      ps = find_partition(self, last_part);
    }
    if (st.life != lifecycle::running || ps == nullptr || ps->revoking) {
      // Not ours (any more): not tracked, so never committed past.
      ++st.stats.dropped;
      continue;
    }
    if (!ps->tracker)
      ps->tracker.emplace(r.offset);
    if (!ps->tracker->track(r.offset)) {
      ++st.stats.dropped;
      log::debug("record_redelivered", {{"bridge", st.binding.name},
                                        {"partition", r.partition},
                                        {"offset", r.offset}});
      continue;
    }
    auto seq = st.pending.insert(ps->next_seq++, chunk, &r, polled_ns);
    ++ps->pending;
    if (r.key)
      st.queue.push(seq, r.partition, *r.key, true);
    else
      st.queue.push(seq, r.partition, {}, false);
    if (++ps->buffered >= st.binding.partition_buffer_limit() && !ps->paused) {
      ps->paused = true;
      ++st.paused_partitions;
      to_pause.push_back(r.partition);
    }
  }
  st.pending.drop_chunk_if_unused(chunk);
  if (!to_pause.empty()) {
    st.stats.pauses += to_pause.size();
    for (auto p : to_pause)
      log::info("partition_paused", {{"bridge", st.binding.name},
                                     {"topic", st.binding.topic},
                                     {"partition", p},
                                     {"buffered", st.partitions[p].buffered}});
    st.loop->pause(std::move(to_pause));
  }
  dispatch(self);
}

// -- dispatch
// ---------------------------------------------------------------------------

void publish_held(src_actor self) {
  auto& st = self->state;
  if (!st.gate)
    return;
  size_t held = st.pending.size();
  if (st.paused_partitions > 0)
    for (auto& [id, ps] : st.partitions)
      if (ps.paused)
        held -= std::min(held, ps.pending);
  st.gate->publish(held);
}

void dispatch(src_actor self) {
  auto& st = self->state;
  auto& b = st.binding;
  publish_held(self);
  // While a shutdown drains, the kept records of the partitions still run.
  if (st.life != lifecycle::running && st.life != lifecycle::draining)
    return;
  // An operator's pause holds everything back except what drains wait for
  // (records of revoked partitions, below keep_below).
  if (st.operator_paused && st.drains.empty())
    return;
  auto held = [&st](const partition_state& ps) {
    return st.operator_paused && !ps.revoking;
  };
  size_t reserved = 0;
  auto budget = [&] {
    auto used = st.in_flight + reserved;
    return used < b.max_in_flight ? b.max_in_flight - used : size_t{0};
  };
  // What goes to workers now, as runs: consecutive records of one lane that
  // must go to one worker, in order. Retried and staged records are runs of
  // one.
  std::vector<uint64_t> normal;
  std::vector<size_t> runs;
  // 1. Retries whose backoff elapsed (and records sent to a worker that died
  //    before starting them). Suspects run alone on an idle worker.
  std::deque<uint64_t> later;
  while (!st.retry_ready.empty()) {
    auto seq = st.retry_ready.front();
    st.retry_ready.pop_front();
    auto* i = st.pending.find(seq);
    if (i == nullptr || i->ph != phase::staged)
      continue;
    auto& p = *i;
    auto* ps = find_partition(self, p.partition);
    if (ps == nullptr)
      continue;
    if (ps->revoking && seq >= ps->keep_below) {
      abandon(self, seq);
      continue;
    }
    if (held(*ps) || budget() == 0 ||
        ps->running >= b.max_in_flight_per_partition) {
      later.push_back(seq);
      continue;
    }
    if (p.solo) {
      auto w = pick_idle_worker(self);
      if (w < 0) {
        later.push_back(seq);
        continue;
      }
      ++ps->running;
      send_batch(self, static_cast<size_t>(w), {seq}, true);
    } else {
      ++ps->running;
      ++reserved;
      normal.push_back(seq);
      runs.push_back(1);
    }
  }
  st.retry_ready = std::move(later);
  size_t slots = 0;
  for (auto& w : st.workers)
    if (available(st, w))
      slots += b.max_batches_per_worker - w.batches;
  auto capacity = slots * b.max_batch;
  auto room = [&] {
    return std::min(budget(),
                    capacity > normal.size() ? capacity - normal.size() : 0);
  };
  // A suspect (a batch-mate of a crash) popped with new records runs alone on
  // an idle worker, or waits for one with the retries, holding its lane.
  auto run_alone = [&](uint64_t seq, pending_record& p, partition_state& ps) {
    auto w = pick_idle_worker(self);
    if (w >= 0) {
      ++ps.running;
      send_batch(self, static_cast<size_t>(w), {seq}, true);
      return;
    }
    p.ph = phase::staged;
    st.retry_ready.push_back(seq);
  };
  // 2. New records: a lane's waiting records at once, partitions taking
  //    turns, each within its in-flight cap.
  auto room_of = [&](int32_t part) {
    auto* ps = find_partition(self, part);
    if (ps == nullptr || held(*ps) ||
        ps->running >= b.max_in_flight_per_partition)
      return size_t{0};
    return b.max_in_flight_per_partition - ps->running;
  };
  std::vector<uint64_t> run;
  std::vector<size_t> run_sizes;
  while (room() > 0) {
    run.clear();
    if (st.suspects == 0) {
      // The usual case: whole turns of a partition, several lanes at once.
      run_sizes.clear();
      int32_t part = 0;
      if (st.queue.pop_runs(std::min(room(), b.max_batch), run, run_sizes, part,
                            room_of) == 0)
        break;
      find_partition(self, part)->running += run.size();
      reserved += run.size();
      normal.insert(normal.end(), run.begin(), run.end());
      runs.insert(runs.end(), run_sizes.begin(), run_sizes.end());
      continue;
    }
    // Suspects wait somewhere: one lane at a time, looking for them.
    if (st.queue.pop_run(std::min(room(), b.max_batch), run, room_of) == 0)
      break;
    auto& first = *st.pending.find(run.front());
    auto& ps = *find_partition(self, first.partition);
    size_t clean = run.size();
    for (size_t k = 0; k < run.size(); ++k)
      if (st.pending.find(run[k])->solo) {
        clean = k;
        break;
      }
    if (clean < run.size()) {
      if (st.queue.mode() == ordering::unordered) {
        // Independent records: the suspects go alone, the rest as usual.
        size_t kept = 0;
        for (auto seq : run) {
          auto& p = *st.pending.find(seq);
          if (p.solo) {
            --st.suspects;
            run_alone(seq, p, ps);
          } else {
            run[kept++] = seq;
          }
        }
        run.resize(kept);
      } else {
        // The run stops before the suspect; it starts the lane's next run.
        for (auto k = run.size(); k-- > std::max<size_t>(clean, 1);)
          st.queue.unstart(run[k]);
        run.resize(std::max<size_t>(clean, 1));
        if (clean == 0) {
          --st.suspects;
          run_alone(run.front(), first, ps);
          run.clear();
        }
      }
      if (run.empty())
        continue;
    }
    ps.running += run.size();
    reserved += run.size();
    normal.insert(normal.end(), run.begin(), run.end());
    runs.push_back(run.size());
  }
  // As few batches as max_batch allows, but at least one per idle worker
  // while there are runs for them, so that a few ready lanes still run in
  // parallel; a run is never split. Each batch goes to the least-loaded
  // worker.
  size_t idle = 0;
  slots = 0;
  for (auto& w : st.workers)
    if (available(st, w)) {
      slots += b.max_batches_per_worker - w.batches;
      idle += w.batches == 0 ? 1 : 0;
    }
  auto wanted = std::max((normal.size() + b.max_batch - 1) / b.max_batch,
                         std::min(idle, runs.size()));
  auto batches = std::max<size_t>(std::min(slots, wanted), 1);
  auto target = std::min(b.max_batch, (normal.size() + batches - 1) / batches);
  size_t pos = 0;
  size_t r = 0;
  size_t sent = 0;
  while (r < runs.size()) {
    auto w = pick_worker(self);
    if (w < 0)
      break;
    // Runs do not always pack to the target exactly: the last batch there
    // is room for takes the rest, up to max_batch.
    auto limit = ++sent >= batches || sent >= slots ? b.max_batch : target;
    auto n = runs[r++];
    while (r < runs.size() && n + runs[r] <= limit)
      n += runs[r++];
    std::vector<uint64_t> chunk(
        normal.begin() + static_cast<std::ptrdiff_t>(pos),
        normal.begin() + static_cast<std::ptrdiff_t>(pos + n));
    pos += n;
    send_batch(self, static_cast<size_t>(w), std::move(chunk), false);
  }
  // Runs that did not fit into the free batches (they do not always pack
  // into max_batch): back to their lanes, from the end, for the next round.
  for (auto k = normal.size(); k-- > pos;) {
    auto seq = normal[k];
    auto& p = *st.pending.find(seq);
    --find_partition(self, p.partition)->running;
    if (st.queue.unstart(seq)) {
      p.ph = phase::waiting;
    } else {
      p.ph = phase::staged;
      st.retry_ready.push_front(seq);
    }
  }
}

// -- results
// ----------------------------------------------------------------------------

void on_batch_done(src_actor self, uint64_t id,
                   std::vector<caf::error>& results) {
  auto& st = self->state;
  auto b = release_batch(self, id);
  if (!b)
    return;
  auto t = now_ns();
  auto n = b->seqs.size();
  // The worker stops at the first failure (record_worker.hpp); results after
  // it are ignored and those records run again. A reply shorter than the
  // batch without a failure is a failure of its first missing record.
  auto stop = n;
  for (size_t k = 0; k < std::min(n, results.size()); ++k)
    if (results[k]) {
      stop = k;
      break;
    }
  if (stop == n && results.size() < n) {
    stop = results.size();
    results.resize(stop + 1);
    results[stop] =
        caf::make_error(caf::sec::invalid_argument,
                        "worker answered fewer results than records");
  }
  uint64_t ok = 0;
  auto ran = std::min(n, stop + 1);
  // The records of a batch were dispatched together: one processing time.
  uint64_t timed = 0;
  int64_t took = 0;
  int32_t last_part = -1;
  partition_state* last_ps = nullptr;
  for (size_t k = 0; k < ran; ++k) {
    auto seq = b->seqs[k];
    auto* i = st.pending.find(seq);
    if (i == nullptr || i->ph != phase::running)
      continue; // abandoned by a revoke meanwhile
    auto& p = *i;
    if (last_ps == nullptr || p.partition != last_part) {
      last_part = p.partition;
      last_ps = find_partition(self, last_part);
    }
    auto& ps = *last_ps;
    --ps.running;
    took = t - p.dispatched_ns;
    ++timed;
    if (k == stop) {
      fail(self, seq, p, ps, results[k], false);
      continue;
    }
    ++ok;
    finish(self, seq, p, ps, t);
  }
  if (timed > 0) {
    st.processing.record(took, timed);
    st.processing_histogram.observe(seconds(took), timed);
  }
  for (auto k = n; k-- > ran;)
    give_back(self, *b, k);
  st.stats.processed += ok;
  // The mailbox depth is sampled by the commit tick: counting it walks the
  // queue.
  st.entry->add_processed(ok);
  st.metrics->processed->Increment(static_cast<double>(ok));
  st.flush_acks();
  st.processing_histogram.flush(*st.metrics->processing);
  st.ack_histogram.flush(*st.metrics->ack_latency);
  dispatch(self);
  check_drains(self);
}

void on_batch_failed(src_actor self, uint64_t id, const caf::error& err) {
  auto& st = self->state;
  auto i = st.batches.find(id);
  if (i == st.batches.end())
    return;
  if (err == caf::sec::unexpected_message ||
      err == caf::sec::unexpected_response) {
    // The worker is alive but does not speak the protocol: these records
    // failed, the worker did not.
    auto b = release_batch(self, id);
    fail_batch(self, *b, err, false);
    dispatch(self);
    check_drains(self);
    return;
  }
  // A timeout, or the worker died while running the batch (CAF answers the
  // current request with the exit reason, queued ones with
  // request_receiver_down). Either way the worker goes: abandoned work must
  // not run beside its retry (the supervisor restarts it).
  auto who = i->second.incarnation;
  auto& w = st.workers[i->second.worker];
  caf::error cause = err;
  if (err == caf::sec::request_timeout) {
    log::warn("worker_timeout",
              {{"bridge", st.binding.name},
               {"worker", w.name},
               {"records", i->second.seqs.size()},
               {"timeout_ms", st.binding.worker_timeout.count()}});
    auto text = "worker " + w.name + " did not answer within " +
                std::to_string(st.binding.worker_timeout.count()) + " ms";
    cause = caf::make_error(caf::sec::request_timeout, text);
  }
  if (w.handle && w.handle.address() == who) {
    self->send_exit(w.handle, caf::exit_reason::kill);
    w.handle = nullptr;
  }
  on_worker_failed(self, who, cause);
}

void on_worker_failed(src_actor self, const caf::actor_addr& who,
                      const caf::error& reason) {
  auto& st = self->state;
  for (auto& w : st.workers)
    if (w.handle && w.handle.address() == who)
      w.handle = nullptr; // until the supervisor announces the restart
  std::vector<uint64_t> ids;
  for (auto& [id, b] : st.batches)
    if (b.incarnation == who)
      ids.push_back(id);
  if (ids.empty())
    return;
  std::sort(ids.begin(), ids.end());
  auto cause = reason ? reason
                      : caf::make_error(caf::sec::request_receiver_down,
                                        "worker stopped");
  // Workers take batches in order: the oldest one was running.
  auto running = release_batch(self, ids.front());
  fail_batch(self, *running, cause, true);
  for (size_t k = 1; k < ids.size(); ++k) {
    auto queued = release_batch(self, ids[k]);
    for (size_t r = queued->seqs.size(); r-- > 0;)
      give_back(self, *queued, r);
  }
  dispatch(self);
  check_drains(self);
}

void on_worker_restarted(src_actor self, const std::string& name,
                         caf::actor handle) {
  auto& st = self->state;
  std::vector<caf::actor_addr> dead;
  for (size_t i = 0; i < st.workers.size(); ++i) {
    auto& w = st.workers[i];
    // A worker on its way out of the pool (or out already) is not used
    // again, whatever incarnation the supervisor reports.
    if (w.name != name || w.removing || w.gone)
      continue;
    // Batches of a previous incarnation are lost even if its down_msg has
    // not arrived yet.
    for (auto& [id, b] : st.batches)
      if (b.worker == i && b.incarnation != handle.address())
        dead.push_back(b.incarnation);
    w.handle = handle;
    if (handle)
      self->monitor(handle);
  }
  for (auto& who : dead)
    on_worker_failed(self, who,
                     caf::make_error(caf::sec::request_receiver_down,
                                     "worker " + name + " restarted"));
  dispatch(self);
}

// -- retries and dead letters
// -----------------------------------------------------------

void on_retry_due(src_actor self, uint64_t seq) {
  auto& st = self->state;
  auto* i = st.pending.find(seq);
  if (i == nullptr)
    return;
  auto& p = (*i);
  if (p.ph == phase::backoff) {
    auto attempt = p.rec->attempt + 1;
    writable(p).attempt = attempt;
    p.ph = phase::staged;
    st.retry_ready.push_back(seq);
    dispatch(self);
  } else if (p.ph == phase::dead_lettering) {
    produce_dead_letter(self, seq);
  }
}

void on_dead_lettered(src_actor self, uint64_t seq, const caf::error& err) {
  auto& st = self->state;
  auto* i = st.pending.find(seq);
  if (i == nullptr || (*i).ph != phase::dead_lettering)
    return;
  auto& p = (*i);
  if (err) {
    // The record stays unfinished (the commit cannot pass it) and its
    // dead letter is produced again.
    log::warn("dead_letter_failed", {{"bridge", st.binding.name},
                                     {"topic", p.rec->topic},
                                     {"partition", p.partition},
                                     {"offset", p.offset},
                                     {"dlq_topic", st.dlq_topic},
                                     {"error", self->system().render(err)}});
    self->delayed_send(self, std::chrono::seconds{1}, retry_atom::value, seq);
    return;
  }
  auto& ps = *find_partition(self, p.partition);
  --ps.dead_lettering;
  ++st.stats.dead_lettered;
  st.metrics->dead_lettered->Increment();
  log::warn("record_dead_lettered", {{"bridge", st.binding.name},
                                     {"topic", p.rec->topic},
                                     {"partition", p.partition},
                                     {"offset", p.offset},
                                     {"attempts", p.rec->attempt},
                                     {"error", p.last_error},
                                     {"dlq_topic", st.dlq_topic},
                                     {"trace_id", p.rec->trace}});
  note_dead_letter(self, p);
  finish(self, seq, p, ps, now_ns());
  dispatch(self);
  check_drains(self);
}

// -- commits
// ------------------------------------------------------------------------------

void on_committed(src_actor self, std::vector<partition_offset>& offsets,
                  const caf::error& err) {
  auto& st = self->state;
  std::string text;
  for (auto& po : offsets) {
    if (!text.empty())
      text += ',';
    text += std::to_string(po.partition) + ':' + std::to_string(po.offset);
    auto* ps = find_partition(self, po.partition);
    if (ps == nullptr)
      continue;
    if (!err && ps->tracker)
      ps->tracker->mark_committed(po.offset);
    if (ps->committing && *ps->committing == po.offset)
      ps->committing.reset();
  }
  if (err) {
    log::warn("offsets_commit_failed", {{"bridge", st.binding.name},
                                        {"topic", st.binding.topic},
                                        {"offsets", text},
                                        {"error", self->system().render(err)}});
    return;
  }
  ++st.stats.commits;
  log::debug("offsets_committed", {{"bridge", st.binding.name},
                                   {"topic", st.binding.topic},
                                   {"offsets", text}});
}

void on_commit_tick(src_actor self) {
  auto& st = self->state;
  if (st.life == lifecycle::stopped)
    return;
  std::vector<partition_offset> offsets;
  size_t buffered = 0;
  size_t paused = 0;
  for (auto& [p, ps] : st.partitions) {
    buffered += ps.buffered;
    paused += ps.paused ? 1 : 0;
    if (st.life != lifecycle::running || ps.revoking || !ps.tracker)
      continue;
    auto c = ps.tracker->pending_commit();
    if (!c || (ps.committing && *ps.committing == *c))
      continue;
    ps.committing = *c;
    offsets.push_back({p, *c});
  }
  if (!offsets.empty())
    st.loop->commit(std::move(offsets));
  st.stats.buffered = buffered;
  st.stats.paused_partitions = paused;
  st.paused_partitions = paused;
  st.flush_acks();
  st.processing_histogram.flush(*st.metrics->processing);
  st.ack_histogram.flush(*st.metrics->ack_latency);
  st.metrics->in_flight->Set(static_cast<double>(st.in_flight));
  st.metrics->buffered->Set(static_cast<double>(buffered));
  st.metrics->paused_partitions->Set(static_cast<double>(paused));
  if (st.gate) {
    auto holds = st.gate->closings();
    st.metrics->fetch_holds->Increment(
        static_cast<double>(holds - st.fetch_holds_reported));
    st.fetch_holds_reported = holds;
  }
  st.entry->set_mailbox(self->mailbox().size());
  self->delayed_send(self, st.binding.commit_interval, commit_tick_atom::value);
}

} // namespace distiller::kafka::detail
