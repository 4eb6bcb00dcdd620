#pragma once

#include <cstddef>
#include <mutex>
#include <vector>

#include "bridges/kafka/in_record.hpp"

/// Spent records going back from the source bridge to its poll thread.
///
/// A record's strings (value, trace id, key, topic, headers) are heap
/// allocations made on the poll thread and freed wherever the record dies —
/// at 10^6 records/s that is millions of cross-thread malloc/free pairs. The
/// bridge gives the records of a finished batch back here instead, and the
/// poll thread refills them: `std::string::assign` keeps the capacity, so a
/// steady stream of similar records allocates nothing per record.
///
/// The same goes for the vector a poll's records travel in (a few hundred
/// KiB, which glibc hands out only after consolidating its free lists): the
/// bridge gives it back emptied (`give_buffer`) and the next poll fills it.
///
/// Thread-safe: one lock per `give` (a batch), per `take` and per buffer. The
/// pool keeps at most `capacity` records and a few buffers; beyond that,
/// `give` lets them go.
namespace distiller::kafka {

class in_record_pool {
 public:
  explicit in_record_pool(size_t capacity = 16384) : capacity_(capacity) {}

  in_record_pool(const in_record_pool&) = delete;
  in_record_pool& operator=(const in_record_pool&) = delete;

  /// Keeps the records of `spent` (any content: whoever takes them
  /// overwrites every field) unless that would exceed the capacity; takes
  /// them only then, leaving `spent` empty. Returns whether it took them.
  bool give(std::vector<in_record>&& spent);

  /// Spare records (a batch given earlier), or an empty vector.
  std::vector<in_record> take();

  /// Keeps the (cleared) storage of `used` for `take_buffer`.
  void give_buffer(std::vector<in_record>&& used);

  /// An empty vector with room for at least `n` records.
  std::vector<in_record> take_buffer(size_t n);

  /// Spare records held now.
  size_t size() const;

  /// Changes how many records the pool keeps (from the next `give` on).
  void set_capacity(size_t capacity);

 private:
  static constexpr size_t max_buffers = 4;
  mutable std::mutex mtx_;
  std::vector<std::vector<in_record>> batches_;
  std::vector<std::vector<in_record>> buffers_;
  size_t size_ = 0;
  size_t capacity_;
};

} // namespace distiller::kafka
