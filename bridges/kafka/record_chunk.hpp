#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>

#include "bridges/kafka/in_record.hpp"

/// The records of one poll, where they stay from the poll until every one of
/// them is finished.
///
/// The poll thread fills a chunk and hands it to the source bridge; the
/// bridge keeps pointers into it (its pending table), workers get batches of
/// pointers (`record_batch`) that hold the chunk alive. A record is written
/// once, by the poll thread, and never moved or copied on its way to a
/// worker: at 10^6 records/s, moving 200-byte records between tables was
/// most of what the bridge spent per record.
///
/// Chunks are recycled: when the last reference goes (on whichever thread),
/// the chunk returns to its pool, and the poll thread refills its records in
/// place — `std::string::assign` keeps the capacity, so a steady stream of
/// similar records allocates nothing per record.
namespace distiller::kafka {

struct record_chunk {
  /// records[0, size) are this poll's; elements past `size` are spare
  /// storage kept for the next fill.
  std::vector<in_record> records;
  size_t size = 0;

  in_record& operator[](size_t i) noexcept { return records[i]; }
  const in_record& operator[](size_t i) const noexcept { return records[i]; }

  /// The next record to fill: a spare one if any (its fields are stale:
  /// the caller overwrites every one), else a new one.
  in_record& append() {
    if (size == records.size())
      records.emplace_back();
    return records[size++];
  }
};

using chunk_ptr = std::shared_ptr<record_chunk>;

/// Spare chunks. Thread-safe: `take` on the poll thread, chunks come back
/// from any thread. Keeps at most `capacity` spare chunks.
class record_chunk_pool
    : public std::enable_shared_from_this<record_chunk_pool> {
 public:
  explicit record_chunk_pool(size_t capacity = 64) : capacity_(capacity) {}

  record_chunk_pool(const record_chunk_pool&) = delete;
  record_chunk_pool& operator=(const record_chunk_pool&) = delete;

  /// An empty chunk (size 0), with the storage of a spent one if there is
  /// one; it comes back here when its last reference goes, or is freed if
  /// the pool is gone or full. The pool must be owned by a shared_ptr.
  chunk_ptr take();

  /// Spare chunks held now.
  size_t size() const;

  void set_capacity(size_t capacity);

 private:
  void give_back(record_chunk* c) noexcept;

  mutable std::mutex mtx_;
  std::vector<std::unique_ptr<record_chunk>> spare_;
  size_t capacity_;
};

} // namespace distiller::kafka

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(distiller::kafka::chunk_ptr)
