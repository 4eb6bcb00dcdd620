#pragma once

/// A small pool of detached actors that run closures: the document API's
/// uploader, reader and query actors. The HTTP façade hands each request to
/// the pool (never blocking its I/O threads); a worker runs it on its own
/// thread, where database calls and FAISS searches may block.
///
/// Threads: `post` is thread-safe and never blocks (round robin over the
/// workers' mailboxes).
/// Ownership: the pool owns its workers; `stop()` (or the destructor) sends
/// them an exit and they finish the task at hand first.
/// Failure: a task that throws is caught and logged (`task_failed`), counted
/// as a failure in the worker's registry entry; tasks answer their own
/// callers, so they must catch what they want to report.

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "runtime/inspect/registry.hpp"

namespace distiller::documents {

class task_pool {
 public:
  /// Spawns `size` workers named "<name>-<i>" with `role`, enrolled in
  /// `actors` when given.
  task_pool(caf::actor_system& sys, std::string name, std::string role,
            int size, inspect::registry* actors);
  ~task_pool();
  task_pool(const task_pool&) = delete;
  task_pool& operator=(const task_pool&) = delete;

  /// Queues `fn` on the next worker; false after stop().
  bool post(std::function<void()> fn);

  void stop();

 private:
  std::vector<caf::actor> workers_;
  std::atomic<size_t> next_{0};
  std::atomic<bool> stopped_{false};
};

} // namespace distiller::documents
