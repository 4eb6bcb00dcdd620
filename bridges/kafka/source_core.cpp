#include "bridges/kafka/source_core.hpp"

#include <algorithm>
#include <utility>

#include "runtime/logging/log.hpp"

// The source bridge's core: records in, dispatch. Answers, retries and
// commits are in source_core_results.cpp, rebalances and shutdown in
// source_core_drain.cpp, the pool and the operator's controls in
// source_core_workers.cpp.

namespace distiller::kafka::detail {

// -- plain helpers
// ----------------------------------------------------------------

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

std::string worker_name(const std::string& bridge, size_t i) {
  return bridge + "-worker-" + std::to_string(i);
}

bool source_effects::empty() const noexcept {
  return pause.empty() && resume.empty() && commits.empty() &&
         !operator_pause && sends.empty() && dead_letters.empty() &&
         timers.empty() && replies.empty() && kills.empty() && adds.empty() &&
         removes.empty() && adopted.empty() && !stop_fetching && !close;
}

namespace {

double seconds(int64_t ns) {
  return static_cast<double>(ns) / 1e9;
}

} // namespace

source_core::source_core(source_core_config cfg, source_metrics& metrics,
                         inspect::actor_entry_ptr entry,
                         inspect::trace_ring* trace, source_clock clock)
    : cfg_(std::move(cfg)), metrics_(metrics), entry_(std::move(entry)),
      trace_(trace), clock_(std::move(clock)),
      // A run covers at most max_batch consecutive records of its
      // partition, so a revoke, which lets everything below the highest
      // started record finish, waits for little more than what is at the
      // workers.
      queue_(cfg_.mode, uint64_t{cfg_.max_batch} << pending_table::slot_bits),
      rng_(cfg_.seed != 0 ? cfg_.seed : std::random_device{}()) {}

int64_t source_core::now_ns() const {
  if (clock_.steady_ns)
    return clock_.steady_ns();
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int64_t source_core::wall_ms() const {
  if (clock_.wall_ms)
    return clock_.wall_ms();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

partition_state* source_core::find_partition(int32_t p) {
  auto i = partitions_.find(p);
  return i != partitions_.end() ? &i->second : nullptr;
}

const partition_state* source_core::partition(int32_t p) const {
  auto i = partitions_.find(p);
  return i != partitions_.end() ? &i->second : nullptr;
}

const worker_slot* source_core::batch_worker(uint64_t batch) const {
  auto i = batches_.find(batch);
  return i != batches_.end() ? &workers_[i->second.worker] : nullptr;
}

size_t source_core::batch_size(uint64_t batch) const {
  auto i = batches_.find(batch);
  return i != batches_.end() ? i->second.seqs.size() : 0;
}

void source_core::note_ack(int64_t ns) noexcept {
  if (ack_run_count_ > 0 && ns == ack_run_ns_) {
    ++ack_run_count_;
    return;
  }
  flush_acks();
  ack_run_ns_ = ns;
  ack_run_count_ = 1;
}

void source_core::flush_acks() noexcept {
  if (ack_run_count_ == 0)
    return;
  ack_latency_.record(ack_run_ns_, ack_run_count_);
  ack_histogram_.observe(seconds(ack_run_ns_), ack_run_count_);
  ack_run_count_ = 0;
}

void source_core::flush_histograms() {
  flush_acks();
  processing_histogram_.flush(*metrics_.processing);
  ack_histogram_.flush(*metrics_.ack_latency);
}

/// Finished for good (processed, or dead letter acknowledged): the lane
/// moves on, the tracker may move the commit, the buffer shrinks.
void source_core::finish(uint64_t seq, pending_record& p, partition_state& ps,
                         int64_t t) {
  queue_.finish(seq);
  if (ps.tracker)
    ps.tracker->complete(p.offset);
  if (ps.buffered > 0)
    --ps.buffered;
  --ps.pending;
  ps.max_finished_seq = std::max(ps.max_finished_seq, seq);
  note_ack(t - p.polled_ns);
  if (ps.paused && !ps.revoking &&
      ps.buffered < cfg_.partition_buffer_limit / 2) {
    ps.paused = false;
    if (paused_partitions_ > 0)
      --paused_partitions_;
    ++stats_.resumes;
    fx_.resume.push_back(p.partition);
    log::info("partition_resumed", {{"bridge", cfg_.name},
                                    {"topic", cfg_.topic},
                                    {"partition", p.partition},
                                    {"buffered", ps.buffered}});
  }
  pending_.erase(seq);
}

// -- records in
// -------------------------------------------------------------------

source_effects source_core::on_records(const chunk_ptr& records,
                                       int64_t polled_ns) {
  std::vector<int32_t> to_pause;
  auto n = records->size;
  stats_.consumed += n;
  metrics_.consumed->Increment(static_cast<double>(n));
  int32_t last_part = -1;
  partition_state* ps = nullptr;
  // The records stay in their chunk; the pending table keeps the chunk while
  // any of them is pending.
  auto chunk = pending_.add_chunk(records);
  for (size_t k = 0; k < n; ++k) {
    auto& r = (*records)[k];
    // A poll's records come in runs of one partition.
    if (ps == nullptr || r.partition != last_part) {
      last_part = r.partition;
      ps = find_partition(last_part);
    }
    if (life_ != lifecycle::running || ps == nullptr || ps->revoking) {
      // Not ours (any more): not tracked, so never committed past.
      ++stats_.dropped;
      continue;
    }
    if (!ps->tracker)
      ps->tracker.emplace(r.offset);
    if (!ps->tracker->track(r.offset)) {
      ++stats_.dropped;
      log::debug("record_redelivered", {{"bridge", cfg_.name},
                                        {"partition", r.partition},
                                        {"offset", r.offset}});
      continue;
    }
    auto seq = pending_.insert(ps->next_seq++, chunk, &r, polled_ns);
    ++ps->pending;
    if (r.key)
      queue_.push(seq, r.partition, *r.key, true);
    else
      queue_.push(seq, r.partition, {}, false);
    if (++ps->buffered >= cfg_.partition_buffer_limit && !ps->paused) {
      ps->paused = true;
      ++paused_partitions_;
      to_pause.push_back(r.partition);
    }
  }
  pending_.drop_chunk_if_unused(chunk);
  if (!to_pause.empty()) {
    stats_.pauses += to_pause.size();
    for (auto p : to_pause)
      log::info("partition_paused", {{"bridge", cfg_.name},
                                     {"topic", cfg_.topic},
                                     {"partition", p},
                                     {"buffered", partitions_[p].buffered}});
    fx_.pause = std::move(to_pause);
  }
  dispatch();
  return take();
}

size_t source_core::held() const {
  size_t held = pending_.size();
  if (paused_partitions_ > 0)
    for (auto& [id, ps] : partitions_)
      if (ps.paused)
        held -= std::min(held, ps.pending);
  return held;
}

// -- dispatch
// ---------------------------------------------------------------------

void source_core::send_batch(size_t worker, std::vector<uint64_t> seqs,
                             bool exclusive) {
  auto& w = workers_[worker];
  record_batch recs;
  recs.reserve(seqs.size());
  auto t = now_ns();
  for (auto seq : seqs) {
    auto& p = *pending_.find(seq);
    p.ph = phase::running;
    p.dispatched_ns = t;
    // By reference: the batch holds the record's chunk (or own copy).
    if (auto* own = p.own())
      recs.add(p.rec, *own);
    else
      recs.add(p.rec, pending_.chunk(p.chunk));
  }
  in_flight_ += seqs.size();
  ++stats_.batches;
  stats_.max_in_flight = std::max<uint64_t>(stats_.max_in_flight, in_flight_);
  w.batches += 1;
  w.records += seqs.size();
  w.exclusive = exclusive;
  auto id = next_batch_++;
  batches_.emplace(id, batch_info{worker, std::move(seqs), w.incarnation});
  fx_.sends.push_back({worker, w.incarnation, id, std::move(recs)});
}

size_t source_core::budget(size_t reserved) const noexcept {
  auto used = in_flight_ + reserved;
  return used < cfg_.max_in_flight ? cfg_.max_in_flight - used : size_t{0};
}

/// A suspect (a batch-mate of a crash) popped with new records runs alone on
/// an idle worker, or waits for one with the retries, holding its lane.
void source_core::run_alone(uint64_t seq, pending_record& p,
                            partition_state& ps) {
  auto w = pick_idle_worker();
  if (w >= 0) {
    ++ps.running;
    send_batch(static_cast<size_t>(w), {seq}, true);
    return;
  }
  p.ph = phase::staged;
  retry_ready_.push_back(seq);
}

/// Hands ready records to workers within the in-flight limits, as runs:
/// consecutive records of one lane that must go to one worker, in order.
void source_core::dispatch() {
  // While a shutdown drains, the kept records of the partitions still run.
  if (life_ != lifecycle::running && life_ != lifecycle::draining)
    return;
  // An operator's pause holds everything back except what drains wait for
  // (records of revoked partitions, below keep_below).
  if (operator_paused_ && drains_.empty())
    return;
  std::vector<uint64_t> normal;
  std::vector<size_t> runs;
  size_t reserved = 0;
  dispatch_retries(normal, runs, reserved);
  take_runs(normal, runs, reserved);
  pack_batches(normal, runs);
}

/// 1. Retries whose backoff elapsed (and records sent to a worker that died
///    before starting them), as runs of one. Suspects run alone on an idle
///    worker.
void source_core::dispatch_retries(std::vector<uint64_t>& normal,
                                   std::vector<size_t>& runs,
                                   size_t& reserved) {
  std::deque<uint64_t> later;
  while (!retry_ready_.empty()) {
    auto seq = retry_ready_.front();
    retry_ready_.pop_front();
    auto* i = pending_.find(seq);
    if (i == nullptr || i->ph != phase::staged)
      continue;
    auto& p = *i;
    auto* ps = find_partition(p.partition);
    if (ps == nullptr)
      continue;
    if (ps->revoking && seq >= ps->keep_below) {
      abandon(seq);
      continue;
    }
    if (held(*ps) || budget(reserved) == 0 ||
        ps->running >= cfg_.max_in_flight_per_partition) {
      later.push_back(seq);
      continue;
    }
    if (p.solo) {
      auto w = pick_idle_worker();
      if (w < 0) {
        later.push_back(seq);
        continue;
      }
      ++ps->running;
      send_batch(static_cast<size_t>(w), {seq}, true);
    } else {
      ++ps->running;
      ++reserved;
      normal.push_back(seq);
      runs.push_back(1);
    }
  }
  retry_ready_ = std::move(later);
}

/// 2. New records: a lane's waiting records at once, partitions taking
///    turns, each within its in-flight cap and the room the free batches
///    leave.
///    While every worker still has a batch to run, the in-flight budget is
///    taken in whole shares (max_in_flight spread over the pool, at most
///    max_batch): the freed room of one answered batch waits for the next
///    answer instead of going out as a small batch, so batches stay large
///    and the pool is not handed twice the batches it needs. An idle worker
///    takes whatever is ready at once.
void source_core::take_runs(std::vector<uint64_t>& normal,
                            std::vector<size_t>& runs, size_t& reserved) {
  size_t slots = 0;
  size_t pool = 0;
  bool idle = false;
  for (auto& w : workers_) {
    if (w.incarnation != 0 && !w.retiring)
      ++pool;
    if (available(w)) {
      slots += cfg_.max_batches_per_worker - w.batches;
      idle = idle || w.batches == 0;
    }
  }
  auto capacity = slots * cfg_.max_batch;
  size_t share = 1;
  if (!idle && in_flight_ > 0 && pool > 0)
    share = std::clamp<size_t>(cfg_.max_in_flight / pool, 1, cfg_.max_batch);
  // Whole shares of the budget this round started with.
  auto start = reserved;
  auto whole = budget(start) / share * share;
  auto room = [&] {
    auto taken = reserved - start;
    return std::min({budget(reserved), whole > taken ? whole - taken : 0,
                     capacity > normal.size() ? capacity - normal.size() : 0});
  };
  auto room_of = [&](int32_t part) {
    auto* ps = find_partition(part);
    if (ps == nullptr || held(*ps) ||
        ps->running >= cfg_.max_in_flight_per_partition)
      return size_t{0};
    return cfg_.max_in_flight_per_partition - ps->running;
  };
  std::vector<uint64_t> run;
  std::vector<size_t> run_sizes;
  while (room() > 0) {
    run.clear();
    if (suspects_ == 0) {
      // The usual case: whole turns of a partition, several lanes at once.
      run_sizes.clear();
      int32_t part = 0;
      if (queue_.pop_runs(std::min(room(), cfg_.max_batch), run, run_sizes,
                          part, room_of) == 0)
        break;
      find_partition(part)->running += run.size();
      reserved += run.size();
      normal.insert(normal.end(), run.begin(), run.end());
      runs.insert(runs.end(), run_sizes.begin(), run_sizes.end());
      continue;
    }
    // Suspects wait somewhere: one lane at a time, looking for them.
    if (queue_.pop_run(std::min(room(), cfg_.max_batch), run, room_of) == 0)
      break;
    auto& first = *pending_.find(run.front());
    auto& ps = *find_partition(first.partition);
    size_t clean = run.size();
    for (size_t k = 0; k < run.size(); ++k)
      if (pending_.find(run[k])->solo) {
        clean = k;
        break;
      }
    if (clean < run.size()) {
      if (queue_.mode() == ordering::unordered) {
        // Independent records: the suspects go alone, the rest as usual.
        size_t kept = 0;
        for (auto seq : run) {
          auto& p = *pending_.find(seq);
          if (p.solo) {
            --suspects_;
            run_alone(seq, p, ps);
          } else {
            run[kept++] = seq;
          }
        }
        run.resize(kept);
      } else {
        // The run stops before the suspect; it starts the lane's next run.
        for (auto k = run.size(); k-- > std::max<size_t>(clean, 1);)
          queue_.unstart(run[k]);
        run.resize(std::max<size_t>(clean, 1));
        if (clean == 0) {
          --suspects_;
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
}

/// 3. As few batches as max_batch allows, but at least one per idle worker
///    while there are runs for them, so that a few ready lanes still run in
///    parallel; a run is never split. Each batch goes to the least-loaded
///    worker.
void source_core::pack_batches(std::vector<uint64_t>& normal,
                               const std::vector<size_t>& runs) {
  size_t idle = 0;
  size_t slots = 0;
  for (auto& w : workers_)
    if (available(w)) {
      slots += cfg_.max_batches_per_worker - w.batches;
      idle += w.batches == 0 ? 1 : 0;
    }
  auto wanted = std::max((normal.size() + cfg_.max_batch - 1) / cfg_.max_batch,
                         std::min(idle, runs.size()));
  auto batches = std::max<size_t>(std::min(slots, wanted), 1);
  auto target =
      std::min(cfg_.max_batch, (normal.size() + batches - 1) / batches);
  size_t pos = 0;
  size_t r = 0;
  size_t sent = 0;
  while (r < runs.size()) {
    auto w = pick_worker();
    if (w < 0)
      break;
    // Runs do not always pack to the target exactly: the last batch there
    // is room for takes the rest, up to max_batch.
    auto limit = ++sent >= batches || sent >= slots ? cfg_.max_batch : target;
    auto n = runs[r++];
    while (r < runs.size() && n + runs[r] <= limit)
      n += runs[r++];
    std::vector<uint64_t> chunk(
        normal.begin() + static_cast<std::ptrdiff_t>(pos),
        normal.begin() + static_cast<std::ptrdiff_t>(pos + n));
    pos += n;
    send_batch(static_cast<size_t>(w), std::move(chunk), false);
  }
  // Runs that did not fit into the free batches (they do not always pack
  // into max_batch): back to their lanes, from the end, for the next round.
  for (auto k = normal.size(); k-- > pos;) {
    auto seq = normal[k];
    auto& p = *pending_.find(seq);
    --find_partition(p.partition)->running;
    if (queue_.unstart(seq)) {
      p.ph = phase::waiting;
    } else {
      p.ph = phase::staged;
      retry_ready_.push_front(seq);
    }
  }
}

} // namespace distiller::kafka::detail
