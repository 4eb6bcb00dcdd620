#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

/// The node's trace ring: the last few thousand things that happened to a
/// trace id — a record a worker ran, a dead letter, an HTTP request — so that
/// `distiller shell`'s `trace TRACE_ID` can say which actors and records
/// carried it. Bounded (the oldest entry goes), kept in memory only, lost at
/// a restart; a trace id older than the ring's window is simply not found.
///
/// Thread-safe: any thread records, any thread reads. One per node, owned by
/// the node and borrowed (as a pointer, null = tracing off) by whoever
/// records; it must outlive them.
namespace distiller::inspect {

/// One thing that happened to a trace id.
struct trace_entry {
  /// Microseconds since the epoch (system clock).
  int64_t time_us = 0;
  std::string trace_id;
  /// Who: a registry name ("chunker-worker-3", "chunker-source") or "http".
  std::string actor;
  /// What kind: "record", "dead_letter", "http".
  std::string what;
  /// Free text, e.g. "document-processing/2@1041 ok".
  std::string detail;
};

class trace_ring {
 public:
  static constexpr size_t default_capacity = 4096;

  /// A ring of `capacity` entries (at least 1). Allocates the slots at once.
  explicit trace_ring(size_t capacity = default_capacity);

  trace_ring(const trace_ring&) = delete;
  trace_ring& operator=(const trace_ring&) = delete;

  /// Keeps one entry, replacing the oldest when the ring is full.
  ///
  /// Cost: a clock read, one uncontended mutex and four string copies into
  /// the slot being reused — once the slots' strings have grown to the usual
  /// sizes (after the first lap) that is no allocation at all, and O(1)
  /// whatever the capacity. Writers on many threads serialize on the mutex
  /// for those copies only (tens of nanoseconds).
  void record(std::string_view trace_id, std::string_view actor,
              std::string_view what, std::string_view detail);

  /// The entries of `trace_id` still in the ring, oldest first. Scans the
  /// whole ring under the mutex (a few µs for 4,096 entries), so writers
  /// wait that long; meant for an operator's request, not a hot path.
  std::vector<trace_entry> find(std::string_view trace_id) const;

  /// Entries held now (at most `capacity()`).
  size_t size() const;
  size_t capacity() const noexcept { return slots_.size(); }
  /// Entries ever recorded (the ring dropped `recorded() - size()`).
  uint64_t recorded() const;

 private:
  mutable std::mutex mtx_;
  std::vector<trace_entry> slots_;
  /// Entries ever recorded; the next one goes to `next_ % capacity`.
  uint64_t next_ = 0;
};

} // namespace distiller::inspect
