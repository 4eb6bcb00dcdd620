#include "bridges/kafka/offset_tracker.hpp"

#include <algorithm>

namespace distiller::kafka {

bool offset_tracker::track(int64_t offset) {
  if (!window_.empty() ? offset <= window_.back().offset : offset < next_)
    return false;
  window_.push_back(slot{offset, false});
  ++in_flight_;
  return true;
}

bool offset_tracker::complete(int64_t offset) {
  if (window_.empty() || offset < window_.front().offset)
    return false;
  // Offsets are usually consecutive: try the slot they would have without
  // gaps before searching.
  auto guess = static_cast<uint64_t>(offset - window_.front().offset);
  auto i = window_.end();
  if (guess < window_.size() && window_[guess].offset == offset)
    i = window_.begin() + static_cast<std::ptrdiff_t>(guess);
  else
    i = std::lower_bound(window_.begin(), window_.end(), offset,
                         [](const slot& s, int64_t x) { return s.offset < x; });
  if (i == window_.end() || i->offset != offset || i->done)
    return false;
  i->done = true;
  --in_flight_;
  // Finished records at the front no longer hold anything back.
  while (!window_.empty() && window_.front().done) {
    next_ = window_.front().offset + 1;
    window_.pop_front();
  }
  return true;
}

int64_t offset_tracker::committable() const noexcept {
  return window_.empty() ? next_ : window_.front().offset;
}

std::optional<int64_t> offset_tracker::pending_commit() const noexcept {
  auto c = committable();
  if (committed_ && *committed_ == c)
    return std::nullopt;
  return c;
}

} // namespace distiller::kafka
