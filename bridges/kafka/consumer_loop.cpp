#include "bridges/kafka/consumer_loop.hpp"

#include <pthread.h>

#include <algorithm>
#include <cstring>
#include <shared_mutex>
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
    std::unique_lock<std::shared_mutex> client{client_mtx_};
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
    std::unique_lock<std::shared_mutex> client{client_mtx_};
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

} // namespace distiller::kafka
