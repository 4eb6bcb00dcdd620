#pragma once

/// The five-agent processing of a batch of ThoughtCreated records (one
/// source-bridge batch, key mode: a user's records in submission order),
/// without actors or Kafka: it talks to the store, to an `agent_runner`
/// (the agent actor pools) and to an `event_sink` (the broadcaster and
/// thought-updates), so tests drive it with fakes or the real things.
///
/// A batch runs in waves: a wave takes at most one record per user (the
/// first not yet run), so different users advance together while one
/// user's thoughts stay strictly one after the other. Per wave:
///   load the rows → final ones are re-announced (their events again, the
///   broadcasters drop duplicates) → the others start their attempt
///   (thought_processing) → for step k = 1 … 5: run agent k for every
///   thought that finished k - 1 (in parallel), save the results in one
///   statement (thought_agent_completed; step 5 also thought_completed) →
///   announce → failed thoughts leave the wave.
/// Attempts: the attempt of a record is the larger of the bridge's count
/// and the stored attempts + 1 (a crash mid-attempt counts, also across
/// restarts). A failed agent on the last attempt (thoughts.max_attempts),
/// or one that cannot succeed (agent_error not retryable), fails the
/// thought: thought_failed is announced and the record's error is
/// `record_errc::permanent`, so the bridge dead-letters it at once (with the
/// standard headers) and the user's next thought proceeds. An earlier
/// failure keeps the thought's progress and returns a retryable error: the
/// bridge retries it with backoff, and the retry resumes at the failed step.
/// Replies: one error per record that ran, in batch order, stopping at the
/// first failure (the record worker's contract, record_worker.hpp); a
/// user's records after a failure do not run in this batch.
///
/// Redeliveries: a record whose thought already runs an attempt in this
/// process (a rebalance abandoned it after the drain timeout, then gave the
/// partition back) starts no second attempt next to it: it waits for that
/// attempt to end (at most `inflight_wait`, then a retryable error), then
/// finds the thought final and only re-announces it, or resumes where the
/// first attempt stopped.
///
/// Threads: `process` blocks (database, agents, Kafka acknowledgements);
/// call it from a detached worker. One processor per worker; the workers of
/// one node share one `inflight_thoughts`.

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

#include <boost/json/object.hpp>
#include <caf/error.hpp>

#include "actors/thoughts/agents/agent.hpp"
#include "actors/thoughts/records.hpp"
#include "actors/thoughts/thought_store.hpp"

namespace distiller::thoughts {

/// The result of one agent call.
struct agent_outcome {
  bool ok = false;
  boost::json::object result;
  std::string error;
  bool retryable = true;
  std::string backend;
  double duration_ms = 0;
};

/// Runs one agent for many thoughts at once.
class agent_runner {
 public:
  virtual ~agent_runner() = default;
  /// One outcome per input, in input order. Blocks.
  virtual std::vector<agent_outcome>
  run(agent_kind kind,
      const std::vector<std::shared_ptr<const agent_input>>& inputs) = 0;
};

/// Where events go.
class event_sink {
 public:
  virtual ~event_sink() = default;
  /// Hands the events to this node's subscribers and to thought-updates,
  /// without waiting.
  virtual void publish(const std::vector<thought_event>& events) = 0;
  /// Waits until everything published since the last flush is durable in
  /// Kafka; the first failure's error.
  virtual caf::error flush() = 0;
};

/// The thoughts whose attempt runs in this process now. Thread-safe.
class inflight_thoughts {
 public:
  /// Marks `thought_id` running here, waiting up to `wait` while another
  /// attempt holds it; false if that one still runs then.
  bool claim(const std::string& thought_id, std::chrono::milliseconds wait);
  void release(const std::string& thought_id);
  size_t size() const;
  /// Claims waiting for another attempt to end.
  size_t waiting() const;

 private:
  mutable std::mutex mtx_;
  std::condition_variable released_;
  std::unordered_set<std::string> ids_;
  size_t waiting_ = 0;
};

struct processor_config {
  int max_attempts = 3;
  /// Shared by the node's processors; null: no check (one processor alone).
  std::shared_ptr<inflight_thoughts> inflight = nullptr;
  /// How long a redelivery waits for the attempt running here.
  std::chrono::milliseconds inflight_wait{30000};
};

/// One record of the batch, decoded.
struct work_item {
  /// The record's lane (its key: the user id).
  std::string lane;
  thought_created created;
  /// The bridge's attempt (1 = first delivery).
  int attempt = 1;
  /// Set when the record could not be decoded (then `created` is empty).
  std::string undecodable;
};

class processor {
 public:
  processor(processor_config cfg, thought_store& store, agent_runner& agents,
            event_sink& events);

  std::vector<caf::error> process(const std::vector<work_item>& batch);

 private:
  struct active;

  /// Runs one wave; fills `results` and `ran` at the items' positions.
  void run_wave(const std::vector<size_t>& wave,
                const std::vector<work_item>& batch,
                std::vector<caf::error>& results, std::vector<bool>& ran);

  processor_config cfg_;
  thought_store& store_;
  agent_runner& agents_;
  event_sink& events_;
};

} // namespace distiller::thoughts
