#pragma once

/// The current incarnation of a supervised sink (sink.hpp), shared by
/// everyone who produces through it: the supervisor's factory `set`s each
/// new incarnation, producers `get` it per call, so a restarted sink is
/// picked up without anyone holding a stale handle.
///
///   auto sink = std::make_shared<kafka::sink_ref>();
///   // child factory: sink->set(kafka::spawn_sink(sys, …));
///   auto err = sink->produce(sys, records, 35s);   // waits for acks
///   sink->send(record);                              // fire and forget
///
/// Threads: thread-safe. `produce` blocks the calling thread until every
/// record is acknowledged or failed (call it from detached actors or worker
/// threads, never from the shared scheduler); `send` never blocks.
/// Ownership: holds a handle to the current incarnation; `reset()` drops it
/// (call before the actor system goes away, see docs/status.md).
/// Failure: `produce` returns the sink's error, a timeout, or
/// runtime_errc::service_unavailable when no sink runs.

#include <chrono>
#include <mutex>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/error.hpp>

#include "bridges/kafka/record.hpp"
#include "bridges/kafka/sink.hpp"

namespace distiller::kafka {

class sink_ref {
 public:
  void set(sink_actor sink);
  sink_actor get() const;
  void reset() { set(sink_actor{}); }

  /// Produces `records` and waits until every one is durable (acks=all) or
  /// one failed (the first failure's error), at most `timeout`.
  caf::error produce(caf::actor_system& sys, std::vector<out_record> records,
                     std::chrono::milliseconds timeout) const;

  /// Hands `record` to the sink without waiting; false when no sink runs.
  bool send(out_record record) const;

 private:
  mutable std::mutex mtx_;
  sink_actor sink_;
};

} // namespace distiller::kafka
