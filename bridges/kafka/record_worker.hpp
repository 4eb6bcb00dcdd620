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
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/error.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "bridges/kafka/in_record.hpp"
#include "bridges/kafka/record_batch.hpp"
#include "runtime/inspect/registry.hpp"
#include "runtime/inspect/trace_ring.hpp"

namespace distiller::kafka {

/// A source bridge's worker, as the compiler checks it: one request, a
/// batch of records, answered with one error per record that ran (text
/// above). The thought pipeline's workers implement it directly; every other
/// worker is a `record_handler` run by spawn_record_worker.
using record_worker_actor = caf::typed_actor<
    caf::replies_to<record_batch>::with<std::vector<caf::error>>>;

/// Builds one worker (`source_binding::worker`); called at start and by the
/// pool's supervisor on every restart. The bridge's pool supervisor holds
/// the handle as a `caf::actor`.
using worker_factory = std::function<record_worker_actor(
    caf::actor_system&, inspect::actor_entry_ptr)>;

using record_handler = std::function<caf::error(const in_record&)>;

struct record_worker_options {
  bool detached = true;
  /// The node's trace ring (null: off); must outlive the worker.
  inspect::trace_ring* trace = nullptr;
};

record_worker_actor spawn_record_worker(caf::actor_system& sys,
                                        inspect::actor_entry_ptr entry,
                                        record_handler handler,
                                        record_worker_options opts = {});

/// The factory for `source_binding::worker`:
///   b.worker = record_worker_factory([](const in_record& r) { … });
worker_factory record_worker_factory(record_handler handler,
                                     record_worker_options opts = {});

} // namespace distiller::kafka
