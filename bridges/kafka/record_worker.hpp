#pragma once

/// A worker for a source bridge written as a plain function.
///
/// Accepts: `std::vector<in_record>` (a batch the bridge may run now; the
/// records are on distinct lanes, so their order does not matter) and replies
/// `std::vector<caf::error>`, one per record, default-constructed = success.
/// The handler runs once per record, in batch order.
///
/// Failures: a returned error is the record's failure — `record_errc` sends
/// it to the dead-letter topic at once, anything else is retried with
/// backoff. An exception thrown by the handler crashes the worker; its
/// supervisor restarts it and the bridge retries each record of the batch on
/// its own (one attempt counted).
///
/// Where it runs: its own thread by default (`detached`), because handlers
/// usually block (HTTP calls, databases, sleeps in tests); pass
/// `detached = false` for handlers that never block, to save the thread.
/// Counts each record as one processed message in its registry entry.

#include <functional>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/error.hpp>

#include "bridges/kafka/in_record.hpp"
#include "runtime/inspect/registry.hpp"

namespace distiller::kafka {

using record_handler = std::function<caf::error(const in_record&)>;

struct record_worker_options {
  bool detached = true;
};

caf::actor spawn_record_worker(caf::actor_system& sys,
                               inspect::actor_entry_ptr entry,
                               record_handler handler,
                               record_worker_options opts = {});

/// A `child_factory`-compatible factory for `source_binding::worker`:
///   b.worker = record_worker_factory([](const in_record& r) { … });
std::function<caf::actor(caf::actor_system&, inspect::actor_entry_ptr)>
record_worker_factory(record_handler handler, record_worker_options opts = {});

} // namespace distiller::kafka
