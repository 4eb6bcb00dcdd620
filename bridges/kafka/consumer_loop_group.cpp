// consumer_loop (consumer_loop.hpp), the group's side: offset commits,
// rebalances and the callbacks librdkafka calls on the loop's thread.

#include "bridges/kafka/consumer_loop.hpp"

#include <algorithm>
#include <utility>

#include "bridges/kafka/source_metrics.hpp"
#include "runtime/logging/log.hpp"

namespace distiller::kafka {

namespace {

using steady = std::chrono::steady_clock;

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

// -- commits
// --------------------------------------------------------------------------

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
