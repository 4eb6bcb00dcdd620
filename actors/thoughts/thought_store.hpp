#pragma once

/// The thought pipeline's PostgreSQL state (schema 0002 and 0004): users,
/// thoughts with the five agents' results, the per-user event log and the
/// outbox rows that announce new thoughts.
///
/// Every method is one short transaction on a pooled connection (prepared
/// statements); the processing methods take whole waves of thoughts at once
/// (set-based statements over a JSON array), so a batch of 64 thoughts costs
/// one round trip per agent step, not 64.
///
/// Event numbering: every transaction that writes events for a user
/// advances `users.event_seq` under the row's lock, so a user's events are
/// numbered 1, 2, 3 … in commit order without gaps; the outbox rows of a
/// submission are written after that lock, so a user's ThoughtCreated
/// records are in the outbox in submission (commit) order.
/// Idempotency: a step is saved only `WHERE agents_completed = k - 1`, a
/// thought begins an attempt only when it is newer than the last one, a
/// final thought changes no more: a redelivered record repeats nothing.
/// Threads: thread-safe; at most `pool_size` calls run at once.
/// Failure: database errors throw postgres::db_error (`retryable()` for lost
/// connections, serialization failures and deadlocks). Ids that are not
/// UUIDs are unknown (nullopt / empty), never errors.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/thoughts/records.hpp"
#include "bridges/postgres/pool.hpp"

namespace distiller::thoughts {

struct thought_store_config {
  std::string dsn;
  int pool_size = 4;
  std::chrono::milliseconds connect_timeout{10000};
  /// Topics of the outbox rows a submission writes.
  std::string processing_topic = topics::processing;
};

struct new_thought {
  std::string thought_id; // a UUID the caller made (make_uuid)
  std::string user_id;
  std::string text;
  std::string trace_id;
};

struct thought_page {
  std::vector<thought_row> thoughts; // newest first
  std::optional<list_cursor> next;   // set when more follow
};

/// Events of a user after a position, for replays.
struct event_page {
  std::vector<thought_event> events; // ascending seq
  /// The user's last event number (0: no events ever).
  uint64_t head = 0;
  /// The oldest event still kept (0: none kept).
  uint64_t oldest = 0;
  /// More events follow the last one returned.
  bool more = false;
};

/// Input of the processing steps.
struct begin_item {
  std::string thought_id;
  int attempt = 1;
};

struct step_item {
  std::string thought_id;
  /// The agent's result (a JSON object as text).
  std::string result;
  /// "builtin" or the chat model; told in the event.
  std::string backend;
  double duration_ms = 0;
};

struct fail_item {
  std::string thought_id;
  std::string error;
  int attempts = 0;
};

class thought_store {
 public:
  explicit thought_store(thought_store_config cfg);
  ~thought_store();
  thought_store(const thought_store&) = delete;
  thought_store& operator=(const thought_store&) = delete;

  // -- the API ----------------------------------------------------------------

  struct created {
    thought_row thought;
    thought_event event; // thought_created
  };

  /// One transaction (two statements): the user (upsert, its event counter
  /// advanced), the thought (pending), its thought_created event and the
  /// outbox row for thought-processing (ThoughtCreated, key user_id). The
  /// event reaches the streams through the caller (this node at once,
  /// thought-updates for the others, and the stream watcher's head checks
  /// when that record is lost).
  created create(const new_thought& t);

  std::optional<thought_row> get(const std::string& thought_id);

  /// Newest first, `limit` 1..1000, after `before` when set.
  thought_page list(const std::string& user_id, int limit,
                    const std::optional<list_cursor>& before);

  /// Events of the user with seq > after (none: only the head), at most
  /// `limit`.
  event_page events_after(const std::string& user_id,
                          std::optional<uint64_t> after, int limit);

  /// The last event number of each of these users (unknown ones are left
  /// out).
  std::vector<std::pair<std::string, uint64_t>>
  heads(const std::vector<std::string>& user_ids);

  /// Every event of one thought, ascending.
  std::vector<thought_event> events_of(const std::string& thought_id);

  // -- processing (sets of thoughts, one transaction each) -------------------

  /// The rows of these thoughts (unknown ids are left out).
  std::vector<thought_row> load(const std::vector<std::string>& ids);

  /// Starts attempt `attempt` of each non-final thought whose last attempt
  /// is older (status processing, attempts = attempt); returns one
  /// thought_processing event per thought that started.
  std::vector<thought_event> begin(const std::vector<begin_item>& items);

  /// Saves agent `step`'s results (1..5) of thoughts that finished step - 1
  /// and are processing; step 5 completes them. Returns the events written:
  /// thought_agent_completed for each saved result, plus thought_completed
  /// (with the whole thought) after step 5.
  std::vector<thought_event> save_step(int step,
                                       const std::vector<step_item>& items);

  /// Marks non-final thoughts failed with their error; returns their
  /// thought_failed events.
  std::vector<thought_event> fail(const std::vector<fail_item>& items);

  // -- recovery and housekeeping ---------------------------------------------

  /// Puts a fresh ThoughtCreated in the outbox for every thought that is not
  /// final and has not changed for `age` (0: all of them), oldest first, and
  /// marks the unsent ThoughtCreated rows of those thoughts sent (superseded)
  /// so that a user's thoughts are published in submission order once.
  /// Returns the thoughts re-driven (at most `limit`).
  int redrive(std::chrono::milliseconds age, int limit);

  /// After a start on an empty (embedded) Kafka: supersedes every unsent
  /// ThoughtCreated row and puts a fresh one in the outbox for every thought
  /// that is not final, in submission order (one statement). Returns the
  /// thoughts re-driven.
  int64_t redrive_all();

  /// Deletes events older than `age`; returns how many.
  int64_t prune_events(std::chrono::milliseconds age, int limit);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace distiller::thoughts
