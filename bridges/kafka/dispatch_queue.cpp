#include "bridges/kafka/dispatch_queue.hpp"

#include <algorithm>
#include <functional>

namespace distiller::kafka {

std::string_view to_string(ordering x) {
  switch (x) {
  case ordering::partition:
    return "partition";
  case ordering::key:
    return "key";
  case ordering::unordered:
    return "unordered";
  }
  return "partition";
}

std::optional<ordering> parse_ordering(std::string_view text) {
  for (auto x : {ordering::partition, ordering::key, ordering::unordered})
    if (text == to_string(x))
      return x;
  return std::nullopt;
}

dispatch_queue::lane_id dispatch_queue::lane_of(uint64_t seq, int32_t partition,
                                                std::string_view key,
                                                bool has_key) const {
  // Lanes are serial. Distinct keys whose hashes collide share a lane: that
  // costs parallelism, never ordering. Unordered records (and keyless ones in
  // key mode) get a lane of their own, marked by the top bit.
  constexpr uint64_t solo = 1ULL << 63;
  switch (mode_) {
  case ordering::partition:
    return {partition, 0};
  case ordering::key:
    if (!has_key)
      return {partition, solo | seq};
    return {partition, std::hash<std::string_view>{}(key) & ~solo};
  case ordering::unordered:
    break;
  }
  return {partition, solo | seq};
}

void dispatch_queue::push(uint64_t seq, int32_t partition, std::string_view key,
                          bool has_key) {
  auto id = lane_of(seq, partition, key, has_key);
  auto& l = lanes_[id];
  l.queue.push_back(seq);
  ++waiting_;
  if (!l.busy && l.queue.size() == 1)
    ready_.push_back(id);
}

std::optional<uint64_t> dispatch_queue::pop_ready() {
  while (!ready_.empty()) {
    auto id = ready_.front();
    ready_.pop_front();
    auto i = lanes_.find(id);
    if (i == lanes_.end() || i->second.busy || i->second.queue.empty())
      continue; // dropped by a revoke meanwhile
    auto seq = i->second.queue.front();
    i->second.busy = true;
    running_.emplace(seq, id);
    --waiting_;
    return seq;
  }
  return std::nullopt;
}

bool dispatch_queue::finish(uint64_t seq) {
  auto r = running_.find(seq);
  if (r == running_.end())
    return false;
  auto id = r->second;
  running_.erase(r);
  auto i = lanes_.find(id);
  auto& l = i->second;
  l.queue.pop_front();
  l.busy = false;
  if (l.queue.empty())
    lanes_.erase(i);
  else
    ready_.push_back(id);
  return true;
}

size_t dispatch_queue::drop_partition(int32_t partition, uint64_t from_seq) {
  size_t dropped = 0;
  for (auto i = lanes_.begin(); i != lanes_.end();) {
    if (i->first.partition != partition) {
      ++i;
      continue;
    }
    auto& l = i->second;
    // A lane's queue is in sequence order and its busy record is the front:
    // drop from the back while the records are new enough.
    auto keep = l.busy ? size_t{1} : size_t{0};
    while (l.queue.size() > keep && l.queue.back() >= from_seq) {
      l.queue.pop_back();
      ++dropped;
    }
    if (l.queue.empty())
      i = lanes_.erase(i);
    else
      ++i;
  }
  waiting_ -= dropped;
  ready_.erase(std::remove_if(ready_.begin(), ready_.end(),
                              [&](const lane_id& id) {
                                return id.partition == partition &&
                                       lanes_.count(id) == 0;
                              }),
               ready_.end());
  return dropped;
}

} // namespace distiller::kafka
