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
  if (mode_ == ordering::unordered) {
    unordered_.push_back({seq, partition});
    ++waiting_;
    return;
  }
  auto id = lane_of(seq, partition, key, has_key);
  uint32_t slot;
  if (auto* found = index_.find(id)) {
    slot = *found;
  } else {
    if (!free_lanes_.empty()) {
      slot = free_lanes_.back();
      free_lanes_.pop_back();
    } else {
      slot = static_cast<uint32_t>(lanes_.size());
      lanes_.emplace_back();
    }
    auto& fresh = lanes_[slot];
    fresh.id = id;
    fresh.live = true;
    index_.insert(id, slot);
  }
  auto& l = lanes_[slot];
  l.queue.push_back(seq);
  ++waiting_;
  if (!l.busy && l.waiting() == 1)
    ready_.push_back(slot);
}

std::optional<uint64_t> dispatch_queue::pop_ready() {
  if (mode_ == ordering::unordered) {
    if (unordered_.empty())
      return std::nullopt;
    auto seq = unordered_.front().seq;
    unordered_.pop_front();
    running_.insert(seq, no_lane);
    --waiting_;
    return seq;
  }
  while (!ready_.empty()) {
    auto slot = ready_.front();
    ready_.pop_front();
    auto& l = lanes_[slot];
    if (!l.live || l.busy || l.waiting() == 0)
      continue; // stale: dropped by a revoke, or already taken
    auto seq = l.queue[l.head];
    l.busy = true;
    running_.insert(seq, slot);
    --waiting_;
    return seq;
  }
  return std::nullopt;
}

bool dispatch_queue::finish(uint64_t seq) {
  auto* found = running_.find(seq);
  if (found == nullptr)
    return false;
  auto slot = *found;
  running_.erase(seq);
  if (slot == no_lane)
    return true;
  auto& l = lanes_[slot];
  ++l.head;
  l.busy = false;
  if (l.waiting() > 0) {
    // Keep the vector from growing without bound on a lane that never
    // empties.
    if (l.head >= 64 && l.head * 2 >= l.queue.size()) {
      l.queue.erase(l.queue.begin(), l.queue.begin() + l.head);
      l.head = 0;
    }
    ready_.push_back(slot);
  } else {
    release_if_empty(slot);
  }
  return true;
}

void dispatch_queue::release_if_empty(uint32_t slot) {
  auto& l = lanes_[slot];
  if (l.busy || l.waiting() > 0)
    return;
  index_.erase(l.id);
  l.queue.clear();
  l.head = 0;
  l.live = false;
  free_lanes_.push_back(slot);
}

size_t dispatch_queue::drop_partition(int32_t partition, uint64_t from_seq) {
  size_t dropped = 0;
  if (mode_ == ordering::unordered) {
    auto keep = std::remove_if(
        unordered_.begin(), unordered_.end(), [&](const free_record& r) {
          return r.partition == partition && r.seq >= from_seq;
        });
    dropped = static_cast<size_t>(unordered_.end() - keep);
    unordered_.erase(keep, unordered_.end());
    waiting_ -= dropped;
    return dropped;
  }
  for (uint32_t slot = 0; slot < lanes_.size(); ++slot) {
    auto& l = lanes_[slot];
    if (!l.live || l.id.partition != partition)
      continue;
    // A lane's queue is in sequence order and its busy record is the front:
    // drop from the back while the records are new enough.
    size_t keep = l.head + (l.busy ? 1 : 0);
    while (l.queue.size() > keep && l.queue.back() >= from_seq) {
      l.queue.pop_back();
      ++dropped;
    }
    release_if_empty(slot);
  }
  waiting_ -= dropped;
  return dropped;
}

} // namespace distiller::kafka
