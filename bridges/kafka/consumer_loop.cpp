#include "bridges/kafka/consumer_loop.hpp"

#include <pthread.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <utility>

#include "bridges/kafka/fetched_record.hpp"
#include "bridges/kafka/source_metrics.hpp"
#include "runtime/logging/log.hpp"

namespace distiller::kafka {

namespace {

using steady = std::chrono::steady_clock;

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             steady::now().time_since_epoch())
      .count();
}

std::vector<int32_t> partitions_of(const rd_kafka_topic_partition_list_t* l) {
  std::vector<int32_t> out;
  if (l == nullptr)
    return out;
  out.reserve(static_cast<size_t>(l->cnt));
  for (int i = 0; i < l->cnt; ++i)
    out.push_back(l->elems[i].partition);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<int32_t>
partitions_of_offsets(const std::vector<partition_offset>& xs) {
  std::vector<int32_t> out;
  for (auto& x : xs)
    out.push_back(x.partition);
  return out;
}

} // namespace

// -- construction
// -----------------------------------------------------------------

consumer_loop::consumer_loop(config cfg,
                             std::shared_ptr<consumer_events> events,
                             source_metrics* metrics, commit_observer observer)
    : cfg_(std::move(cfg)), events_(std::move(events)), metrics_(metrics),
      observer_(std::move(observer)) {
  stalls_ = detail::stall_watch{cfg_.stall_after};
  std::map<std::string, std::string> props{
      {"bootstrap.servers", cfg_.brokers},
      {"group.id", cfg_.group},
      {"client.id", cfg_.client_id},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"auto.offset.reset", cfg_.auto_offset_reset},
      {"partition.assignment.strategy",
       cfg_.cooperative ? "cooperative-sticky" : "range,roundrobin"},
      // The bridge bounds what it buffers per partition by pausing; this
      // bounds librdkafka's prefetch (all partitions together) at 64 MiB.
      // The message-count threshold stays out of the way: in librdkafka
      // 2.0.2 it counts the whole consumer queue, and a fetcher stopped by
      // it notices the drained queue only up to a second later.
      {"queued.max.messages.kbytes", "65536"},
      {"queued.min.messages", "10000000"},
      // One Fetch per broker is in flight at a time; a long-poll on caught-up
      // partitions (500 ms by default) would hold back partitions that were
      // just resumed. 20 ms costs an idle consumer ~50 small requests/s.
      {"fetch.wait.max.ms", "20"},
      // A poll returns a partition's fetched records in one run: 1 MiB per
      // partition (librdkafka's default) is ~7,000 small records of one
      // partition, enough to hit the per-partition limit (and pause, which
      // throws prefetched data away) while the others get nothing.
      {"max.partition.fetch.bytes", "262144"},
  };
  for (auto& [k, v] : cfg_.properties)
    props[k] = v;
  auto conf = make_conf(props);
  forward_logs(conf.get());
  rd_kafka_conf_set_opaque(conf.get(), this);
  rd_kafka_conf_set_rebalance_cb(conf.get(), &consumer_loop::rebalance_cb);
  rd_kafka_conf_set_offset_commit_cb(conf.get(), &consumer_loop::commit_cb);
  rd_kafka_conf_set_error_cb(conf.get(), &consumer_loop::error_cb);
  rk_ = make_client(RD_KAFKA_CONSUMER, std::move(conf));
  // Everything (rebalances, commit results, errors) is served by our polls
  // of the consumer queue.
  rd_kafka_poll_set_consumer(rk_.get());
  queue_.reset(rd_kafka_queue_get_consumer(rk_.get()));
  if (!queue_)
    throw std::runtime_error("source bridge " + cfg_.bridge_name +
                             ": no consumer queue");
  topic_partition_list_ptr topics{rd_kafka_topic_partition_list_new(1)};
  rd_kafka_topic_partition_list_add(topics.get(), cfg_.topic.c_str(),
                                    RD_KAFKA_PARTITION_UA);
  if (auto err = rd_kafka_subscribe(rk_.get(), topics.get()))
    throw std::runtime_error("source bridge " + cfg_.bridge_name +
                             ": subscribe to " + cfg_.topic + ": " +
                             rd_kafka_err2str(err));
  batch_.resize(std::max<size_t>(cfg_.max_poll_records, 1));
  topic_hash_ = topic_hash(cfg_.topic);
}

consumer_loop::~consumer_loop() {
  if (thread_.joinable()) {
    abort();
    thread_.join();
  } else if (rk_) {
    // Never started: nothing was consumed, leave quietly without a commit.
    queue_.reset();
    rd_kafka_destroy_flags(rk_.release(), RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
  }
}

void consumer_loop::start() {
  if (started_.exchange(true))
    return;
  thread_ = std::thread{[this] {
    run();
  }};
}

void consumer_loop::join() {
  if (thread_.joinable())
    thread_.join();
}

std::set<int32_t> consumer_loop::assignment() const {
  std::lock_guard<std::mutex> guard{assignment_mtx_};
  return assigned_;
}

std::vector<consumer_loop::partition_view>
consumer_loop::partition_views(const std::vector<int32_t>& partitions) const {
  std::vector<partition_view> out;
  if (partitions.empty())
    return out;
  auto list = make_list(partitions);
  // mtx_ keeps the client alive: the thread destroys it under that lock.
  std::lock_guard<std::mutex> guard{mtx_};
  if (!rk_)
    return out;
  rd_kafka_position(rk_.get(), list.get());
  // A partition moved here after its records were read elsewhere has no
  // position and nothing committed by this member; its lag is measured from
  // what the group committed, not from the low watermark.
  auto group = make_list(partitions);
  if (rd_kafka_committed(rk_.get(), group.get(), 500) !=
      RD_KAFKA_RESP_ERR_NO_ERROR)
    group.reset();
  out.reserve(partitions.size());
  for (int i = 0; i < list->cnt; ++i) {
    auto& e = list->elems[i];
    partition_view v;
    v.partition = e.partition;
    if (e.err == RD_KAFKA_RESP_ERR_NO_ERROR && e.offset >= 0)
      v.position = e.offset;
    int64_t lo = -1;
    int64_t hi = -1;
    // Asked of the leader: the cached numbers stand still while a partition
    // is paused (nothing is fetched), and lag must grow then. An operator's
    // request only (the shell), bounded to 200 ms a partition.
    if (rd_kafka_query_watermark_offsets(rk_.get(), cfg_.topic.c_str(),
                                         e.partition, &lo, &hi,
                                         200) != RD_KAFKA_RESP_ERR_NO_ERROR)
      if (rd_kafka_get_watermark_offsets(rk_.get(), cfg_.topic.c_str(),
                                         e.partition, &lo,
                                         &hi) != RD_KAFKA_RESP_ERR_NO_ERROR)
        lo = hi = -1;
    if (hi >= 0)
      v.high_watermark = hi;
    if (lo >= 0)
      v.low_watermark = lo;
    if (group && i < group->cnt) {
      auto& g = group->elems[i];
      if (g.err == RD_KAFKA_RESP_ERR_NO_ERROR && g.offset >= 0)
        v.committed = g.offset;
    }
    out.push_back(v);
  }
  return out;
}

// -- commands
// -----------------------------------------------------------------------

void consumer_loop::push(command cmd) {
  std::lock_guard<std::mutex> guard{mtx_};
  commands_.push_back(std::move(cmd));
  // Wakes a poll that is waiting for messages, or for the gate.
  if (queue_)
    rd_kafka_queue_yield(queue_.get());
  if (cfg_.gate)
    cfg_.gate->wake();
}

void consumer_loop::commit(std::vector<partition_offset> offsets) {
  if (!offsets.empty())
    push({command::commit, std::move(offsets), {}});
}

void consumer_loop::pause(std::vector<int32_t> partitions) {
  if (!partitions.empty())
    push({command::pause, {}, std::move(partitions)});
}

void consumer_loop::resume(std::vector<int32_t> partitions) {
  if (!partitions.empty())
    push({command::resume, {}, std::move(partitions)});
}

void consumer_loop::operator_pause() {
  push({command::operator_pause, {}, {}});
}

void consumer_loop::operator_resume() {
  push({command::operator_resume, {}, {}});
}

void consumer_loop::stop_fetching() {
  push({command::stop_fetching, {}, {}});
}

void consumer_loop::close(std::vector<partition_offset> final_offsets) {
  push({command::close, std::move(final_offsets), {}});
}

void consumer_loop::abort() {
  abort_ = true;
  if (cfg_.gate)
    cfg_.gate->wake();
  std::lock_guard<std::mutex> guard{mtx_};
  if (queue_)
    rd_kafka_queue_yield(queue_.get());
}

// -- the thread
// ---------------------------------------------------------------------

void consumer_loop::run() {
  // Visible in top -H and perf: "poll:<bridge>" (at most 15 characters).
  pthread_setname_np(pthread_self(),
                     ("poll:" + cfg_.bridge_name).substr(0, 15).c_str());
  log::debug("consumer_started", {{"bridge", cfg_.bridge_name},
                                  {"topic", cfg_.topic},
                                  {"group", cfg_.group}});
  bool open = true;
  while (open && !abort_) {
    open = serve_commands();
    if (open && !abort_ && !held_back())
      poll_once();
  }
  if (abort_) {
    // A crash: no final commit, no LeaveGroup; the group notices when the
    // session times out.
    log::warn("consumer_aborted", {{"bridge", cfg_.bridge_name}});
    std::lock_guard<std::mutex> guard{mtx_};
    queue_.reset();
    rd_kafka_destroy_flags(rk_.release(), RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    return;
  }
  events_->on_stopped();
}

bool consumer_loop::serve_commands() {
  std::vector<command> cmds;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    cmds.swap(commands_);
  }
  for (auto& cmd : cmds) {
    switch (cmd.kind) {
    case command::commit:
      do_commit(cmd.offsets, false);
      break;
    case command::pause:
      do_pause(cmd.partitions, true);
      break;
    case command::resume:
      do_pause(cmd.partitions, false);
      break;
    case command::operator_pause:
      do_operator_pause(true);
      break;
    case command::operator_resume:
      do_operator_pause(false);
      break;
    case command::stop_fetching:
      if (fetching_) {
        fetching_ = false;
        auto owned = assignment();
        do_pause({owned.begin(), owned.end()}, true);
      }
      break;
    case command::close:
      do_close(cmd.offsets);
      return false;
    }
  }
  return true;
}

void consumer_loop::poll_once() {
  revoked_in_poll_.clear();
  auto n = rd_kafka_consume_batch_queue(
      queue_.get(), static_cast<int>(cfg_.poll_timeout.count()), batch_.data(),
      batch_.size());
  auto polled = now_ns();
  if (n < 0) {
    auto err = rd_kafka_last_error();
    log::warn("consumer_poll_failed",
              {{"bridge", cfg_.bridge_name}, {"error", rd_kafka_err2str(err)}});
    if (metrics_ != nullptr)
      metrics_->consumer_errors->Increment();
    return;
  }
  auto chunk = cfg_.pool ? cfg_.pool->take() : std::make_shared<record_chunk>();
  for (ssize_t i = 0; i < n; ++i) {
    message_ptr m{batch_[static_cast<size_t>(i)]};
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
        continue;
      log::warn("consumer_error",
                {{"bridge", cfg_.bridge_name},
                 {"topic", cfg_.topic},
                 {"partition", m->partition},
                 {"error", rd_kafka_message_errstr(m.get())}});
      if (metrics_ != nullptr)
        metrics_->consumer_errors->Increment();
      events_->on_error(from_rdkafka(m->err, "consume"), false);
      continue;
    }
    // Fetched before a revoke served inside this very poll: the owner has
    // forgotten the partition, and whoever owns it now re-reads them.
    if (!fetching_ || revoked_in_poll_.count(m->partition) != 0)
      continue;
    fill_record(chunk->append(), cfg_.topic, topic_hash_, m.get());
  }
  if (chunk->size > 0) {
    if (cfg_.gate)
      cfg_.gate->handed(chunk->size);
    events_->on_records(std::move(chunk), polled);
  }
  if (steady::now() >= next_lag_update_) {
    next_lag_update_ = steady::now() + std::chrono::seconds{1};
    update_lag();
  }
}

// -- helpers
// ------------------------------------------------------------------------

topic_partition_list_ptr
consumer_loop::make_list(const std::vector<int32_t>& parts) const {
  topic_partition_list_ptr l{
      rd_kafka_topic_partition_list_new(static_cast<int>(parts.size()))};
  for (auto p : parts)
    rd_kafka_topic_partition_list_add(l.get(), cfg_.topic.c_str(), p);
  return l;
}

topic_partition_list_ptr
consumer_loop::make_list(const std::vector<partition_offset>& offsets) const {
  topic_partition_list_ptr l{
      rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size()))};
  for (auto& po : offsets)
    rd_kafka_topic_partition_list_add(l.get(), cfg_.topic.c_str(), po.partition)
        ->offset = po.offset;
  return l;
}

namespace {

/// Sync commits bring their own (empty) callback so that the result is not
/// reported a second time through the consumer's offset_commit_cb.
void sync_commit_done(rd_kafka_t*, rd_kafka_resp_err_t,
                      rd_kafka_topic_partition_list_t*, void*) {}

} // namespace

rd_kafka_resp_err_t
consumer_loop::do_commit(const std::vector<partition_offset>& offsets,
                         bool sync) {
  std::vector<partition_offset> valid;
  for (auto& po : offsets)
    if (po.offset >= 0)
      valid.push_back(po);
  if (valid.empty())
    return RD_KAFKA_RESP_ERR_NO_ERROR;
  if (fatal_)
    return RD_KAFKA_RESP_ERR__FATAL;
  if (observer_)
    for (auto& po : valid)
      observer_(po.partition, po.offset, sync);
  auto list = make_list(valid);
  auto err = sync ? rd_kafka_commit_queue(rk_.get(), list.get(), nullptr,
                                          &sync_commit_done, nullptr)
                  : rd_kafka_commit(rk_.get(), list.get(), 1);
  if (sync || err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    // Async commits report through commit_cb; a sync one, or one that
    // failed to start, is reported here.
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
      for (auto& po : valid) {
        committed_[po.partition] = po.offset;
        if (metrics_ != nullptr)
          metrics_->committed_offset(po.partition)
              .Set(static_cast<double>(po.offset));
      }
    events_->on_committed(valid,
                          from_rdkafka(err, sync ? "commit (sync)" : "commit"));
  }
  return err;
}

void consumer_loop::do_pause(const std::vector<int32_t>& partitions,
                             bool pause) {
  std::vector<int32_t> change;
  for (auto p : partitions) {
    if (pause)
      paused_.insert(p);
    else
      paused_.erase(p);
    // A partition held by the gate stays paused until the hold ends, and
    // every partition stays paused while an operator pauses the binding.
    if (pause || (hold_paused_.count(p) == 0 && !operator_paused_))
      change.push_back(p);
  }
  set_paused(change, pause);
}

void consumer_loop::do_operator_pause(bool pause) {
  if (operator_paused_ == pause)
    return;
  operator_paused_ = pause;
  auto owned = assignment();
  std::vector<int32_t> change;
  for (auto p : owned)
    // Back-pressure and the gate's hold keep theirs.
    if (pause || (paused_.count(p) == 0 && hold_paused_.count(p) == 0))
      change.push_back(p);
  log::info(pause ? "consumer_paused" : "consumer_resumed",
            {{"bridge", cfg_.bridge_name},
             {"topic", cfg_.topic},
             {"partitions", join_partitions(change)}});
  set_paused(change, pause);
}

void consumer_loop::set_paused(const std::vector<int32_t>& partitions,
                               bool pause, bool nudge) {
  if (partitions.empty())
    return;
  auto list = make_list(partitions);
  auto err = pause ? rd_kafka_pause_partitions(rk_.get(), list.get())
                   : rd_kafka_resume_partitions(rk_.get(), list.get());
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    log::warn(pause ? "partition_pause_failed" : "partition_resume_failed",
              {{"bridge", cfg_.bridge_name},
               {"partitions", join_partitions(partitions)},
               {"error", rd_kafka_err2str(err)}});
  if (pause || !nudge)
    return;
  bool others_paused = false;
  {
    std::lock_guard<std::mutex> guard{assignment_mtx_};
    others_paused = !assigned_.empty();
    for (auto p : assigned_)
      others_paused = others_paused &&
                      (std::find(partitions.begin(), partitions.end(), p) !=
                           partitions.end() ||
                       paused_.count(p) != 0 || hold_paused_.count(p) != 0);
  }
  if (others_paused) {
    // librdkafka 2.0.2 looks at a resumed partition again only when its
    // broker thread wakes up, which takes up to a second once every
    // partition it serves is paused (no Fetch in flight). A ListOffsets
    // request to the partition's leader wakes that thread; the answer
    // itself does not matter, so the wait for it is short.
    for (auto p : partitions) {
      int64_t lo = 0;
      int64_t hi = 0;
      rd_kafka_query_watermark_offsets(rk_.get(), cfg_.topic.c_str(), p, &lo,
                                       &hi, 10);
    }
  }
}

bool consumer_loop::held_back() {
  auto* gate = cfg_.gate.get();
  if (gate == nullptr || !fetching_)
    return false;
  if (gate->wait_open(cfg_.poll_timeout)) {
    held_since_.reset();
    release_hold();
    return false;
  }
  auto now = steady::now();
  if (!held_since_)
    held_since_ = now;
  if (now - *held_since_ < cfg_.max_hold)
    return true;
  // Held for long: keep serving rebalances (they run inside polls) with
  // nothing fetched.
  if (!holding_) {
    holding_ = true;
    log::info(
        "fetching_held",
        {{"bridge", cfg_.bridge_name},
         {"outstanding", gate->outstanding()},
         {"limit", gate->limit()},
         {"held_ms", std::chrono::duration_cast<std::chrono::milliseconds>(
                         now - *held_since_)
                         .count()}});
    auto owned = assignment();
    hold_partitions({owned.begin(), owned.end()});
  }
  return false;
}

void consumer_loop::hold_partitions(const std::vector<int32_t>& partitions) {
  std::vector<int32_t> more;
  for (auto p : partitions)
    if (paused_.count(p) == 0 && hold_paused_.insert(p).second)
      more.push_back(p);
  set_paused(more, true);
}

void consumer_loop::release_hold() {
  if (!holding_)
    return;
  holding_ = false;
  std::vector<int32_t> resume;
  for (auto p : hold_paused_)
    if (paused_.count(p) == 0 && !operator_paused_)
      resume.push_back(p);
  hold_paused_.clear();
  log::info("fetching_resumed", {{"bridge", cfg_.bridge_name},
                                 {"partitions", join_partitions(resume)}});
  set_paused(resume, false);
}

void consumer_loop::do_close(
    const std::vector<partition_offset>& final_offsets) {
  do_commit(final_offsets, true);
  closing_ = true;
  auto t0 = steady::now();
  // Serves the final revoke through rebalance_cb (which just unassigns now)
  // and leaves the group.
  auto err = rd_kafka_consumer_close(rk_.get());
  {
    std::lock_guard<std::mutex> guard{assignment_mtx_};
    for (auto p : assigned_)
      if (metrics_ != nullptr)
        metrics_->forget_partition(p);
    assigned_.clear();
  }
  {
    std::lock_guard<std::mutex> guard{mtx_};
    queue_.reset();
    rk_.reset();
  }
  log::info(
      "consumer_closed",
      {{"bridge", cfg_.bridge_name},
       {"error", err ? rd_kafka_err2str(err) : ""},
       {"duration_ms", std::chrono::duration_cast<std::chrono::milliseconds>(
                           steady::now() - t0)
                           .count()}});
}

void consumer_loop::update_lag() {
  if (!rk_)
    return;
  auto now = steady::now();
  for (auto p : assignment()) {
    int64_t lo = 0;
    int64_t hi = 0;
    if (rd_kafka_get_watermark_offsets(rk_.get(), cfg_.topic.c_str(), p, &lo,
                                       &hi) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        hi < 0)
      continue;
    int64_t position = -1;
    auto list = make_list(std::vector<int32_t>{p});
    if (rd_kafka_position(rk_.get(), list.get()) == RD_KAFKA_RESP_ERR_NO_ERROR)
      position = list->elems[0].offset;
    check_stall(p, position, hi, now);
    if (metrics_ == nullptr)
      continue;
    // Lag from what we committed; before the first commit, from the fetch
    // position.
    int64_t base = position;
    if (auto i = committed_.find(p); i != committed_.end() && i->second >= 0)
      base = i->second;
    if (base >= 0)
      metrics_->lag(p).Set(
          static_cast<double>(std::max<int64_t>(hi - base, 0)));
  }
}

void consumer_loop::check_stall(int32_t partition, int64_t position,
                                int64_t high, steady::time_point now) {
  bool held = !fetching_ || operator_paused_ || held_since_.has_value() ||
              paused_.count(partition) != 0 ||
              hold_paused_.count(partition) != 0;
  auto stalled = stalls_.observe(partition, position, high, held, now);
  if (stalled.count() == 0)
    return;
  log::warn("partition_stalled", {{"bridge", cfg_.bridge_name},
                                  {"topic", cfg_.topic},
                                  {"partition", partition},
                                  {"position", position},
                                  {"high_watermark", high},
                                  {"stalled_ms", stalled.count()},
                                  {"action", "seek to position"}});
  if (metrics_ != nullptr)
    metrics_->consumer_errors->Increment();
  topic_partition_list_ptr list{rd_kafka_topic_partition_list_new(1)};
  rd_kafka_topic_partition_list_add(list.get(), cfg_.topic.c_str(), partition)
      ->offset = position;
  // Asynchronous (timeout 0): the loop thread goes on polling.
  if (auto* err = rd_kafka_seek_partitions(rk_.get(), list.get(), 0)) {
    log::warn("partition_seek_failed", {{"bridge", cfg_.bridge_name},
                                        {"partition", partition},
                                        {"error", rd_kafka_error_string(err)}});
    rd_kafka_error_destroy(err);
  }
}

void consumer_loop::forget_partition_metrics(int32_t partition) {
  committed_.erase(partition);
  stalls_.forget(partition);
  if (metrics_ != nullptr)
    metrics_->forget_partition(partition);
}

// -- librdkafka callbacks
// -----------------------------------------------------------

void consumer_loop::rebalance_cb(rd_kafka_t*, rd_kafka_resp_err_t err,
                                 rd_kafka_topic_partition_list_t* parts,
                                 void* opaque) {
  static_cast<consumer_loop*>(opaque)->on_rebalance(err, parts);
}

void consumer_loop::commit_cb(rd_kafka_t*, rd_kafka_resp_err_t err,
                              rd_kafka_topic_partition_list_t* offsets,
                              void* opaque) {
  static_cast<consumer_loop*>(opaque)->on_commit_result(err, offsets);
}

void consumer_loop::error_cb(rd_kafka_t*, int err, const char* reason,
                             void* opaque) {
  static_cast<consumer_loop*>(opaque)->on_client_error(err, reason);
}

void consumer_loop::on_rebalance(rd_kafka_resp_err_t err,
                                 rd_kafka_topic_partition_list_t* parts) {
  auto* rk = rk_.get();
  bool cooperative =
      std::strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
  auto partitions = partitions_of(parts);
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    {
      std::lock_guard<std::mutex> guard{assignment_mtx_};
      assigned_.insert(partitions.begin(), partitions.end());
    }
    for (auto p : partitions) {
      committed_.erase(p);
      paused_.erase(p); // a fresh assignment is not paused
    }
    std::vector<partition_offset> restored;
    for (int i = 0; i < parts->cnt; ++i) {
      auto& e = parts->elems[i];
      if (auto j = unconfirmed_final_.find(e.partition);
          j != unconfirmed_final_.end()) {
        e.offset = j->second;
        restored.push_back({e.partition, j->second});
      }
    }
    unconfirmed_final_.clear();
    // The owner learns about the partitions before any of their records.
    if (!closing_)
      events_->on_assigned(partitions);
    if (cooperative) {
      if (auto* e = rd_kafka_incremental_assign(rk, parts)) {
        log::error("partition_assign_failed",
                   {{"bridge", cfg_.bridge_name},
                    {"error", rd_kafka_error_string(e)}});
        rd_kafka_error_destroy(e);
      }
    } else {
      rd_kafka_assign(rk, parts);
    }
    // librdkafka keeps a partition's pause across unassign and assign: a
    // fresh assignment starts resumed, unless fetching stopped or is held.
    set_paused(partitions, false, false);
    if (!fetching_)
      do_pause(partitions, true);
    else if (holding_)
      hold_partitions(partitions);
    // An operator's pause covers partitions assigned after it.
    if (operator_paused_)
      set_paused(partitions, true);
    if (!restored.empty()) {
      log::info(
          "offsets_restored",
          {{"bridge", cfg_.bridge_name},
           {"topic", cfg_.topic},
           {"partitions", join_partitions(partitions_of_offsets(restored))}});
      do_commit(restored, false);
    }
    return;
  }
  // Revoke (or a rebalance error, which means "let go of everything").
  bool lost = err != RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS ||
              rd_kafka_assignment_lost(rk) != 0;
  if (!closing_ && !partitions.empty()) {
    revoked_in_poll_.insert(partitions.begin(), partitions.end());
    auto reply = events_->on_revoked(partitions, lost);
    // Waits in slices so that an abort (crash) is not held up.
    auto deadline = steady::now() + cfg_.revoke_timeout;
    std::future_status st = std::future_status::timeout;
    while (!abort_ && steady::now() < deadline &&
           (st = reply.wait_for(std::chrono::milliseconds{50})) !=
               std::future_status::ready) {
    }
    if (st == std::future_status::ready && !lost && !abort_) {
      try {
        auto final_offsets = reply.get();
        if (do_commit(final_offsets, true) != RD_KAFKA_RESP_ERR_NO_ERROR)
          // The coordinator refused (librdkafka's mock does during every
          // eager rebalance; Kafka during CompletingRebalance). If the next
          // assignment gives a partition back, continue from here instead
          // of the older committed offset.
          for (auto& po : final_offsets)
            unconfirmed_final_[po.partition] = po.offset;
      } catch (const std::exception& e) {
        log::warn("revoke_commit_skipped",
                  {{"bridge", cfg_.bridge_name}, {"reason", e.what()}});
      }
    } else if (!abort_ && !lost) {
      log::warn("revoke_timed_out",
                {{"bridge", cfg_.bridge_name},
                 {"partitions", join_partitions(partitions)}});
    }
    drop_queued_commits(partitions);
  }
  if (cooperative && err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
    if (auto* e = rd_kafka_incremental_unassign(rk, parts))
      rd_kafka_error_destroy(e);
  } else {
    rd_kafka_assign(rk, nullptr);
  }
  {
    std::lock_guard<std::mutex> guard{assignment_mtx_};
    if (cooperative && err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS)
      for (auto p : partitions)
        assigned_.erase(p);
    else
      assigned_.clear();
  }
  for (auto p : partitions) {
    forget_partition_metrics(p);
    paused_.erase(p);
    hold_paused_.erase(p);
  }
}

void consumer_loop::drop_queued_commits(const std::vector<int32_t>& revoked) {
  // An async commit the owner asked for before it learnt of this revoke
  // (its commit tick ran while the poll thread was already in here) waits
  // in the command list and would run after the final commit, moving the
  // group's offset back below it. With the cooperative protocol the member
  // keeps its generation, so the coordinator accepts it, and the partition's
  // next owner starts there: it processes again what this bridge finished
  // (the intermittent failure of source_rebalance_test's cooperative case).
  // The final commit supersedes them; for lost partitions nothing may be
  // committed at all.
  std::lock_guard<std::mutex> guard{mtx_};
  size_t dropped = 0;
  for (auto& cmd : commands_) {
    if (cmd.kind != command::commit)
      continue;
    dropped += drop_partitions(cmd.offsets, revoked);
  }
  std::erase_if(commands_, [](const command& cmd) {
    return cmd.kind == command::commit && cmd.offsets.empty();
  });
  if (dropped > 0)
    log::info("stale_commits_dropped",
              {{"bridge", cfg_.bridge_name},
               {"partitions", join_partitions(revoked)},
               {"offsets", dropped}});
}

void consumer_loop::on_commit_result(rd_kafka_resp_err_t err,
                                     rd_kafka_topic_partition_list_t* offsets) {
  std::vector<partition_offset> done;
  caf::error first;
  if (offsets != nullptr)
    for (int i = 0; i < offsets->cnt; ++i) {
      auto& e = offsets->elems[i];
      done.push_back({e.partition, e.offset});
      auto perr = e.err != RD_KAFKA_RESP_ERR_NO_ERROR ? e.err : err;
      if (perr == RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (e.offset >= 0) {
          committed_[e.partition] = e.offset;
          if (metrics_ != nullptr)
            metrics_->committed_offset(e.partition)
                .Set(static_cast<double>(e.offset));
        }
      } else if (!first) {
        first = from_rdkafka(perr, "commit");
      }
    }
  if (err == RD_KAFKA_RESP_ERR__NO_OFFSET)
    return; // nothing to commit
  if (!first && err != RD_KAFKA_RESP_ERR_NO_ERROR)
    first = from_rdkafka(err, "commit");
  events_->on_committed(std::move(done), std::move(first));
}

void consumer_loop::on_client_error(int err, const char* reason) {
  auto code = static_cast<rd_kafka_resp_err_t>(err);
  if (metrics_ != nullptr)
    metrics_->consumer_errors->Increment();
  if (code == RD_KAFKA_RESP_ERR__FATAL) {
    char buf[512];
    auto orig = rd_kafka_fatal_error(rk_.get(), buf, sizeof(buf));
    fatal_ = true;
    log::error("consumer_fatal", {{"bridge", cfg_.bridge_name},
                                  {"error", rd_kafka_err2name(orig)},
                                  {"reason", buf}});
    events_->on_error(from_rdkafka(orig, std::string{"fatal: "} + buf), true);
    return;
  }
  // Transport hiccups are normal (brokers restart); librdkafka retries.
  auto lvl = code == RD_KAFKA_RESP_ERR__TRANSPORT ||
                     code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN
                 ? log::level::warn
                 : log::level::error;
  if (log::enabled(lvl))
    log::write(lvl, "consumer_error",
               {{"bridge", cfg_.bridge_name},
                {"error", rd_kafka_err2name(code)},
                {"reason", reason}});
}

} // namespace distiller::kafka
