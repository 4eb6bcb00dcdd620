// consumer_loop (consumer_loop.hpp), what it watches: the partitions'
// positions, watermarks and group offsets for the operator's views, the lag
// gauges and the stall watch.

#include "bridges/kafka/consumer_loop.hpp"

#include <algorithm>
#include <shared_mutex>

#include "bridges/kafka/source_metrics.hpp"
#include "runtime/logging/log.hpp"

namespace distiller::kafka {

using steady = std::chrono::steady_clock;

std::vector<consumer_loop::partition_view>
consumer_loop::partition_views(const std::vector<int32_t>& partitions) const {
  std::vector<partition_view> out;
  if (partitions.empty())
    return out;
  auto list = make_list(partitions);
  // A shared hold of client_mtx_ keeps the client alive (the thread destroys
  // it under the exclusive one). Not mtx_: push() and the poll thread's
  // commands would wait for these queries, up to a second against a slow
  // coordinator or leader.
  std::shared_lock<std::shared_mutex> guard{client_mtx_};
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
  // The watermarks as the leaders have them now: the cached numbers stand
  // still while a partition is paused (nothing is fetched), and lag must
  // grow then. One ListOffsets request per leader and end for all the
  // partitions at once (latest, earliest), each bounded to 200 ms; a
  // partition whose answer did not come has the last fetch's numbers.
  auto ends = [&](int64_t which) {
    auto l = make_list(partitions);
    for (int i = 0; i < l->cnt; ++i)
      l->elems[i].offset = which;
    // On a timeout the elements keep the negative "which": not answered.
    rd_kafka_offsets_for_times(rk_.get(), l.get(), 200);
    return l;
  };
  auto highs = ends(RD_KAFKA_OFFSET_END);
  auto lows = ends(RD_KAFKA_OFFSET_BEGINNING);
  auto answered = [](const topic_partition_list_ptr& l, int i) {
    return i < l->cnt && l->elems[i].err == RD_KAFKA_RESP_ERR_NO_ERROR &&
           l->elems[i].offset >= 0;
  };
  out.reserve(partitions.size());
  for (int i = 0; i < list->cnt; ++i) {
    auto& e = list->elems[i];
    partition_view v;
    v.partition = e.partition;
    if (e.err == RD_KAFKA_RESP_ERR_NO_ERROR && e.offset >= 0)
      v.position = e.offset;
    int64_t lo = -1;
    int64_t hi = -1;
    if (answered(highs, i) && answered(lows, i)) {
      lo = lows->elems[i].offset;
      hi = highs->elems[i].offset;
    } else if (rd_kafka_get_watermark_offsets(rk_.get(), cfg_.topic.c_str(),
                                              e.partition, &lo, &hi) !=
               RD_KAFKA_RESP_ERR_NO_ERROR) {
      lo = hi = -1;
    }
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
} // namespace distiller::kafka
