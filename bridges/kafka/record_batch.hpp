#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>

#include "bridges/kafka/in_record.hpp"

/// What a source bridge sends a worker: records to run in order, by
/// reference. The records live in the bridge's poll chunks (record_chunk.hpp)
/// or, for a retried record, in its own copy; the batch holds whatever owns
/// them, so they stay valid as long as the worker holds the batch — even if
/// the bridge has moved on (a timed-out worker still running, a revoke).
///
/// Workers must not keep references to the records after answering.
/// Local only: a batch cannot cross a network (CAF sends it as an unsafe
/// message type).
namespace distiller::kafka {

class record_batch {
 public:
  /// Adds `rec`, which `owner` keeps alive (the same owner is kept once when
  /// it is added for consecutive records).
  template <class T>
  void add(const in_record* rec, const std::shared_ptr<T>& owner) {
    records_.push_back(rec);
    if (owners_.empty() ||
        owners_.back().get() != static_cast<const void*>(owner.get()))
      owners_.emplace_back(owner);
  }

  void reserve(size_t n) { records_.reserve(n); }

  size_t size() const noexcept { return records_.size(); }
  bool empty() const noexcept { return records_.empty(); }
  const in_record& operator[](size_t i) const noexcept { return *records_[i]; }

  // No begin()/end(): CAF would take the batch for a container and try to
  // render it element by element. Iterate by index.

 private:
  std::vector<const in_record*> records_;
  std::vector<std::shared_ptr<const void>> owners_;
};

} // namespace distiller::kafka

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(distiller::kafka::record_batch)
