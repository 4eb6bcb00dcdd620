#include "bridges/kafka/record_worker.hpp"

#include <exception>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <caf/all.hpp>

#include "bridges/kafka/record_batch.hpp"
#include "runtime/logging/log.hpp"

namespace distiller::kafka {

namespace {

/// Reports a handler error to the worker's registry entry.
void note_error(caf::actor_system& sys, const inspect::actor_entry_ptr& entry,
                const in_record& rec, const caf::error& err) {
  if (!entry)
    return;
  auto text = origin_of(rec);
  text += ": ";
  text += sys.render(err);
  entry->record_error(std::move(text));
}

/// Records one record's outcome in the trace ring; `detail` is the worker's
/// buffer, reused so that a steady stream allocates nothing here.
void trace_record(caf::actor_system& sys, inspect::trace_ring& ring,
                  const std::string& actor, std::string& detail,
                  const in_record& rec, const caf::error& err) {
  detail.clear();
  append_origin(detail, rec.topic, rec.partition, rec.offset);
  if (err) {
    detail += ' ';
    detail += sys.render(err);
  } else {
    detail += " ok";
  }
  ring.record(rec.trace.value(), actor, "record", detail);
}

using worker_self = record_worker_actor::pointer;

record_worker_actor::behavior_type record_worker(worker_self self,
                                                 inspect::actor_entry_ptr entry,
                                                 record_handler handler,
                                                 inspect::trace_ring* trace) {
  if (entry)
    entry->set_state("running");
  // CAF's default handler prints to stdout and drops the text; keep it in
  // the exit reason, which the bridge writes into the dead letter's x-error.
  self->set_exception_handler(
      [entry](caf::scheduled_actor*, std::exception_ptr& x) -> caf::error {
        std::string what = "unknown exception";
        try {
          std::rethrow_exception(x);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        log::warn("worker_crashed",
                  {{"worker", entry ? entry->name() : std::string{}},
                   {"error", what}});
        return caf::make_error(caf::sec::runtime_error, what);
      });
  auto actor = entry ? entry->name() : std::string{"record-worker"};
  // The trace detail's buffer, one per worker (the worker runs one batch at
  // a time).
  auto detail = std::make_shared<std::string>();
  return {
      [self, entry, handler, trace, actor, detail](const record_batch& batch) {
        std::vector<caf::error> results;
        results.reserve(batch.size());
        for (size_t k = 0; k < batch.size(); ++k) {
          auto& err = results.emplace_back(handler(batch[k]));
          if (trace != nullptr)
            trace_record(self->system(), *trace, actor, *detail, batch[k], err);
          if (err) {
            note_error(self->system(), entry, batch[k], err);
            break; // the rest waits behind the failed record (see header)
          }
        }
        if (entry) {
          // One mailbox sample per batch: counting it walks the queue.
          entry->set_mailbox(self->mailbox().size());
          entry->add_processed(results.size());
        }
        return results;
      },
  };
}

} // namespace

record_worker_actor spawn_record_worker(caf::actor_system& sys,
                                        inspect::actor_entry_ptr entry,
                                        record_handler handler,
                                        record_worker_options opts) {
  if (opts.detached)
    return sys.spawn<caf::detached>(record_worker, std::move(entry),
                                    std::move(handler), opts.trace);
  return sys.spawn(record_worker, std::move(entry), std::move(handler),
                   opts.trace);
}

worker_factory record_worker_factory(record_handler handler,
                                     record_worker_options opts) {
  return [handler = std::move(handler), opts](caf::actor_system& sys,
                                              inspect::actor_entry_ptr entry) {
    return spawn_record_worker(sys, std::move(entry), handler, opts);
  };
}

} // namespace distiller::kafka
