#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

/// The inspection registry: what every managed actor of a node reports about
/// itself (name, role, node, mailbox depth, processed, failures, restarts, a
/// short state and its last few errors). Actors own a shared `actor_entry` and
/// update its atomics on their own thread; readers (`/inspect`, the shell,
/// metrics) take snapshots as plain data. Thread-safe; no CAF dependency so
/// tests use it directly.
namespace distiller::inspect {

/// One error an actor reported, as readers see it.
struct recent_error {
  /// RFC 3339 UTC with milliseconds ("2026-12-01T09:30:00.123Z").
  std::string time;
  std::string text;
  bool operator==(const recent_error&) const = default;
};

/// Live counters of one managed actor. Shared between the actor that updates
/// it and the registry that reads it; survives the actor's restarts so the
/// counts accumulate over incarnations.
class actor_entry {
 public:
  actor_entry(std::string name, std::string role, std::string node,
              std::string parent);

  const std::string& name() const noexcept { return name_; }
  const std::string& role() const noexcept { return role_; }
  const std::string& node() const noexcept { return node_; }
  const std::string& parent() const noexcept { return parent_; }

  // -- updates (called by the actor or its supervisor) ------------------------

  /// Counts one handled message and samples the mailbox depth behind it.
  void on_message(uint64_t mailbox_depth) noexcept {
    processed_.fetch_add(1, std::memory_order_relaxed);
    mailbox_.store(mailbox_depth, std::memory_order_relaxed);
  }
  /// `n` messages (or records) processed at once.
  void add_processed(uint64_t n) noexcept {
    processed_.fetch_add(n, std::memory_order_relaxed);
  }
  void set_mailbox(uint64_t depth) noexcept {
    mailbox_.store(depth, std::memory_order_relaxed);
  }
  void add_failure() noexcept {
    failures_.fetch_add(1, std::memory_order_relaxed);
  }
  void add_restart() noexcept {
    restarts_.fetch_add(1, std::memory_order_relaxed);
  }
  void set_state(std::string state);
  /// Keeps `text` with the current time among the last `max_errors` errors
  /// (the oldest one goes). Texts longer than `max_error_bytes` are cut
  /// (at a UTF-8 character boundary, marked with "…"), so an entry holds
  /// at most a few KiB whatever its actor reports. One mutex; call it where
  /// a failure is counted, not per message.
  void record_error(std::string text);

  static constexpr size_t max_errors = 8;
  static constexpr size_t max_error_bytes = 1024;

  // -- reads ------------------------------------------------------------------

  uint64_t processed() const noexcept { return processed_.load(); }
  uint64_t failures() const noexcept { return failures_.load(); }
  uint64_t restarts() const noexcept { return restarts_.load(); }
  uint64_t mailbox() const noexcept { return mailbox_.load(); }
  std::string state() const;
  /// The recorded errors, newest first.
  std::vector<recent_error> recent_errors() const;

 private:
  std::string name_;
  std::string role_;
  std::string node_;
  std::string parent_;
  std::atomic<uint64_t> processed_{0};
  std::atomic<uint64_t> failures_{0};
  std::atomic<uint64_t> restarts_{0};
  std::atomic<uint64_t> mailbox_{0};
  mutable std::mutex state_mtx_;
  std::string state_{"starting"};
  /// A ring of the last errors: `errors_[(next_error_ - 1) % max_errors]` is
  /// the newest; guarded by errors_mtx_.
  struct error_slot {
    int64_t time_us = 0;
    std::string text;
  };
  mutable std::mutex errors_mtx_;
  std::array<error_slot, max_errors> errors_;
  uint64_t next_error_ = 0;
};

using actor_entry_ptr = std::shared_ptr<actor_entry>;

/// A copy of one entry at one moment.
struct actor_snapshot {
  std::string name;
  std::string role;
  std::string node;
  std::string parent;
  uint64_t mailbox = 0;
  uint64_t processed = 0;
  uint64_t failures = 0;
  uint64_t restarts = 0;
  std::string state;
  /// Newest first, at most actor_entry::max_errors.
  std::vector<recent_error> recent_errors;
};

class registry {
 public:
  explicit registry(std::string node_name);

  const std::string& node() const noexcept { return node_; }

  /// Returns the entry for `name`, creating it on first use; a restarted actor
  /// gets back the entry of its previous incarnation.
  actor_entry_ptr enroll(const std::string& name, const std::string& role,
                         const std::string& parent = "");

  /// Removes `name` (the actor stopped for good).
  void remove(const std::string& name);

  /// Returns the entry for `name` or null.
  actor_entry_ptr find(const std::string& name) const;

  /// All entries, sorted by name.
  std::vector<actor_snapshot> snapshot() const;

 private:
  std::string node_;
  mutable std::mutex mtx_;
  std::map<std::string, actor_entry_ptr> entries_;
};

} // namespace distiller::inspect
