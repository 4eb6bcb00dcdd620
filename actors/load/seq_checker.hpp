#pragma once

#include <cstddef>
#include <cstdint>
#include <set>

/// Checks one stream's per-user sequence numbers (the thought events' `seq`,
/// also their SSE `id`): 1, 2, 3 … without gaps, duplicates or reordering,
/// across reconnects with Last-Event-ID. Pure; memory bounded (at most
/// `max_missing` outstanding gaps are remembered one by one, beyond that
/// they are only counted).
namespace distiller::load {

class seq_checker {
 public:
  enum class verdict {
    /// The next one (or the first).
    next,
    /// Later than the next: the ones between are missing (for now).
    gap,
    /// Seen before.
    duplicate,
    /// One that was missing arrives late (a reorder).
    late,
  };

  explicit seq_checker(size_t max_missing = 4096) : max_missing_(max_missing) {}

  /// The stream starts after `seq` (a `ready` event's position).
  void start_at(uint64_t seq);
  /// A `reset` event: continue from `seq`, forgetting what was missing.
  void reset_to(uint64_t seq);
  verdict check(uint64_t seq);

  bool started() const noexcept { return started_; }
  uint64_t last() const noexcept { return last_; }
  /// Sequence numbers skipped and never received (so far).
  uint64_t missing() const noexcept {
    return missing_.size() + uncounted_missing_;
  }
  uint64_t duplicates() const noexcept { return duplicates_; }
  uint64_t reorders() const noexcept { return reorders_; }

 private:
  size_t max_missing_;
  bool started_ = false;
  uint64_t last_ = 0;
  std::set<uint64_t> missing_;
  uint64_t uncounted_missing_ = 0;
  uint64_t duplicates_ = 0;
  uint64_t reorders_ = 0;
};

} // namespace distiller::load
