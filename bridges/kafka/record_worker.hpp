#pragma once

/// A worker for a source bridge written as a plain function.
///
/// Accepts: `record_batch` (records the bridge may run now, by reference)
/// and replies `std::vector<caf::error>`, one per record that ran,
/// default-constructed = success. The handler runs once per record, strictly
/// in batch order: several records of one lane (partition or key, by the
/// bridge's ordering mode) may share a batch, in their offset order.
///
/// Failures: a returned error is the record's failure — `record_errc` sends
/// it to the dead-letter topic at once, anything else is retried with
/// backoff. The first failure ends the batch: the reply stops with that
/// error, and the bridge gives the records after it back to their lanes
/// without counting an attempt, so a record never runs before an earlier
/// record of its lane has succeeded (the bridge ignores results after the
/// first error and runs those records again). An exception thrown by the
/// handler crashes the worker; its supervisor restarts it and the bridge
/// retries the first record of each lane in the batch on its own (one
/// attempt counted), the others behind it in order.
///
/// Where it runs: its own thread by default (`detached`), because handlers
/// usually block (HTTP calls, databases, sleeps in tests); pass
/// `detached = false` for handlers that never block, to save the thread.
/// Counts each record as one processed message in its registry entry, and
/// keeps each handler error there ("<topic>/<partition>@<offset>: <error>",
/// `record_error`). With `record_worker_options::trace` it also records every
/// record it ran in the node's trace ring (actor = its registry name, what =
/// "record", detail = "<topic>/<partition>@<offset> ok|<error>"); without it
/// nothing of that runs.

#include <functional>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/error.hpp>

#include "bridges/kafka/in_record.hpp"
#include "bridges/kafka/record_batch.hpp"
#include "runtime/inspect/registry.hpp"
#include "runtime/inspect/trace_ring.hpp"

namespace distiller::kafka {

using record_handler = std::function<caf::error(const in_record&)>;

struct record_worker_options {
  bool detached = true;
  /// The node's trace ring (null: off); must outlive the worker.
  inspect::trace_ring* trace = nullptr;
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
