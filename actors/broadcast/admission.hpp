#pragma once

/// Connection caps of the SSE streams of one node: at most `max_total`
/// streams open at once, and at most `max_per_key` per key (a user, a job),
/// so one user's runaway tabs cannot take the node's capacity. A stream
/// holds a `ticket` while it is open; dropping the ticket frees the slot.
///
///   auto [verdict, ticket] = caps.try_admit("user:…");
///   if (verdict != admission::verdict::admitted) → 503 + Retry-After
///
/// Threads: thread-safe (one mutex, held for a map update); called on the
/// HTTP I/O threads, never blocks otherwise.
/// Ownership: tickets keep the admission alive (shared).

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

namespace distiller::broadcast {

class admission : public std::enable_shared_from_this<admission> {
 public:
  enum class verdict { admitted, node_full, key_full };

  /// One open stream's slot; frees it when destroyed.
  class ticket {
   public:
    ticket(std::shared_ptr<admission> owner, std::string key);
    ~ticket();
    ticket(const ticket&) = delete;
    ticket& operator=(const ticket&) = delete;
    const std::string& key() const noexcept { return key_; }

   private:
    std::shared_ptr<admission> owner_;
    std::string key_;
  };

  /// Called with the number of open streams after every change (a gauge).
  using gauge_fn = std::function<void(size_t open)>;

  admission(size_t max_total, size_t max_per_key, gauge_fn gauge = {});

  std::pair<verdict, std::shared_ptr<ticket>> try_admit(const std::string& key);

  size_t open() const;
  size_t open(const std::string& key) const;
  size_t max_total() const noexcept { return max_total_; }
  size_t max_per_key() const noexcept { return max_per_key_; }

 private:
  void release(const std::string& key);

  size_t max_total_;
  size_t max_per_key_;
  gauge_fn gauge_;
  mutable std::mutex mtx_;
  size_t open_ = 0;
  std::unordered_map<std::string, size_t> per_key_;
};

} // namespace distiller::broadcast
