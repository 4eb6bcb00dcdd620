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

uint32_t dispatch_queue::part_of(int32_t partition) {
  // A poll's records come in runs of one partition.
  if (last_part_ != no_lane && parts_[last_part_].id == partition)
    return last_part_;
  if (auto* found = part_index_.find(partition))
    return last_part_ = *found;
  auto idx = static_cast<uint32_t>(parts_.size());
  parts_.emplace_back().id = partition;
  part_index_.insert(partition, idx);
  return last_part_ = idx;
}

void dispatch_queue::schedule(uint32_t idx) {
  auto& pq = parts_[idx];
  if (!pq.scheduled) {
    pq.scheduled = true;
    rr_.push_back(idx);
  }
}

void dispatch_queue::make_ready(uint32_t slot, bool front) {
  auto& l = lanes_[slot];
  auto& pq = parts_[l.part];
  if (front)
    pq.lanes.push_front(slot);
  else
    pq.lanes.push_back(slot);
  schedule(l.part);
}

bool dispatch_queue::has_ready(uint32_t idx) {
  auto& pq = parts_[idx];
  if (mode_ == ordering::unordered)
    return !pq.records.empty();
  while (!pq.lanes.empty()) {
    auto& l = lanes_[pq.lanes.front()];
    if (l.live && l.part == idx && !l.busy() && l.waiting() > 0)
      return true;
    pq.lanes.pop_front(); // stale: dropped by a revoke, or already taken
  }
  return false;
}

size_t dispatch_queue::take(uint32_t idx, size_t room,
                            std::vector<uint64_t>& out) {
  auto& pq = parts_[idx];
  if (mode_ == ordering::unordered) {
    auto limit = limit_after(pq.records.front());
    size_t n = 0;
    while (n < room && !pq.records.empty() &&
           (n == 0 || pq.records.front() < limit)) {
      auto seq = pq.records.front();
      pq.records.pop_front();
      running_.insert(seq, {no_lane, idx});
      out.push_back(seq);
      ++n;
    }
    waiting_ -= n;
    return n;
  }
  auto slot = pq.lanes.front();
  pq.lanes.pop_front();
  auto& l = lanes_[slot];
  auto limit = limit_after(l.queue[l.head]);
  auto most = std::min(room, l.waiting());
  size_t n = 0;
  for (; n < most; ++n) {
    auto seq = l.queue[l.head + n];
    if (n > 0 && seq >= limit)
      break;
    running_.insert(seq, {slot, idx});
    out.push_back(seq);
  }
  l.running = static_cast<uint32_t>(n);
  waiting_ -= n;
  return n;
}

void dispatch_queue::push(uint64_t seq, int32_t partition, std::string_view key,
                          bool has_key) {
  auto part = part_of(partition);
  if (mode_ == ordering::unordered) {
    parts_[part].records.push_back(seq);
    ++waiting_;
    schedule(part);
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
    fresh.part = part;
    fresh.live = true;
    index_.insert(id, slot);
  }
  auto& l = lanes_[slot];
  if (l.idle) {
    l.idle = false;
    --idle_lanes_;
  }
  l.queue.push_back(seq);
  ++waiting_;
  if (!l.busy() && l.waiting() == 1)
    make_ready(slot, false);
}

std::optional<uint64_t> dispatch_queue::pop_ready() {
  std::vector<uint64_t> one;
  if (pop_run(1, one) == 0)
    return std::nullopt;
  return one.front();
}

void dispatch_queue::on_idle(uint32_t slot) {
  auto& l = lanes_[slot];
  if (l.waiting() == 0) {
    keep_or_release(slot);
    return;
  }
  // Keep the vector from growing without bound on a lane that never
  // empties.
  if (l.head >= 64 && l.head * 2 >= l.queue.size()) {
    l.queue.erase(l.queue.begin(), l.queue.begin() + l.head);
    l.head = 0;
  }
  make_ready(slot, false);
}

bool dispatch_queue::finish(uint64_t seq) {
  auto* found = running_.find(seq);
  if (found == nullptr)
    return false;
  auto slot = found->slot;
  running_.erase(seq);
  if (slot == no_lane)
    return true;
  auto& l = lanes_[slot];
  if (l.queue[l.head] == seq) {
    ++l.head;
  } else {
    // Out of order (a revoke forgets a record behind a running one).
    auto first = l.queue.begin() + l.head;
    l.queue.erase(std::find(first, first + l.running, seq));
  }
  if (--l.running == 0)
    on_idle(slot);
  return true;
}

bool dispatch_queue::unstart(uint64_t seq) {
  auto* found = running_.find(seq);
  if (found == nullptr)
    return false;
  auto e = *found;
  if (e.slot == no_lane) {
    running_.erase(seq);
    parts_[e.part].records.push_front(seq);
    ++waiting_;
    schedule(e.part);
    return true;
  }
  auto& l = lanes_[e.slot];
  if (l.running == 0 || l.queue[l.head + l.running - 1] != seq)
    return false;
  running_.erase(seq);
  ++waiting_;
  if (--l.running == 0)
    // It was running: it goes before lanes that have waited less.
    make_ready(e.slot, true);
  return true;
}

bool dispatch_queue::follows(uint64_t seq) const {
  auto* found = running_.find(seq);
  if (found == nullptr || found->slot == no_lane)
    return false;
  auto& l = lanes_[found->slot];
  return l.queue[l.head] != seq;
}

void dispatch_queue::keep_or_release(uint32_t slot) {
  constexpr uint64_t solo = 1ULL << 63; // lane_of: a lane of one record
  auto& l = lanes_[slot];
  if ((l.id.key & solo) != 0 || max_idle_lanes_ == 0) {
    release_if_empty(slot);
    return;
  }
  l.queue.clear();
  l.head = 0;
  if (!l.idle) {
    l.idle = true;
    ++idle_lanes_;
  }
  if (idle_lanes_ <= max_idle_lanes_)
    return;
  // Too many kept: drop every empty lane (amortised over the records that
  // emptied them).
  for (uint32_t i = 0; i < lanes_.size(); ++i)
    if (lanes_[i].live && lanes_[i].idle)
      release_if_empty(i);
}

void dispatch_queue::release_if_empty(uint32_t slot) {
  auto& l = lanes_[slot];
  if (l.busy() || l.waiting() > 0)
    return;
  if (l.idle) {
    l.idle = false;
    --idle_lanes_;
  }
  index_.erase(l.id);
  l.queue.clear();
  l.head = 0;
  l.live = false;
  free_lanes_.push_back(slot);
}

size_t dispatch_queue::drop_partition(int32_t partition, uint64_t from_seq) {
  auto* part = part_index_.find(partition);
  if (part == nullptr)
    return 0;
  size_t dropped = 0;
  if (mode_ == ordering::unordered) {
    auto& q = parts_[*part].records;
    auto keep = std::remove_if(q.begin(), q.end(),
                               [&](uint64_t seq) { return seq >= from_seq; });
    dropped = static_cast<size_t>(q.end() - keep);
    q.erase(keep, q.end());
    waiting_ -= dropped;
    return dropped;
  }
  for (uint32_t slot = 0; slot < lanes_.size(); ++slot) {
    auto& l = lanes_[slot];
    if (!l.live || l.id.partition != partition)
      continue;
    // A lane's queue is in sequence order and its running records are the
    // front: drop from the back while the records are new enough.
    size_t keep = l.head + l.running;
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
