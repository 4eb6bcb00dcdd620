#include "runtime/inspect/trace_ring.hpp"

#include <algorithm>

#include "runtime/core/time.hpp"

namespace distiller::inspect {

trace_ring::trace_ring(size_t capacity)
    : slots_(std::max<size_t>(capacity, 1)) {}

void trace_ring::record(std::string_view trace_id, std::string_view actor,
                        std::string_view what, std::string_view detail) {
  // The clock is read outside the lock; two writers racing may then land in
  // the ring slightly out of time order, which find() does not care about.
  auto t = now_us();
  std::lock_guard<std::mutex> guard{mtx_};
  auto& slot = slots_[next_ % slots_.size()];
  ++next_;
  slot.time_us = t;
  // assign() reuses the capacity the slot's strings already have.
  slot.trace_id.assign(trace_id);
  slot.actor.assign(actor);
  slot.what.assign(what);
  slot.detail.assign(detail);
}

std::vector<trace_entry> trace_ring::find(std::string_view trace_id) const {
  std::vector<trace_entry> out;
  std::lock_guard<std::mutex> guard{mtx_};
  auto n = std::min<uint64_t>(next_, slots_.size());
  // From the oldest entry held to the newest.
  for (auto k = next_ - n; k < next_; ++k) {
    auto& slot = slots_[k % slots_.size()];
    if (slot.trace_id == trace_id)
      out.push_back(slot);
  }
  return out;
}

size_t trace_ring::size() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return static_cast<size_t>(std::min<uint64_t>(next_, slots_.size()));
}

uint64_t trace_ring::recorded() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return next_;
}

} // namespace distiller::inspect
