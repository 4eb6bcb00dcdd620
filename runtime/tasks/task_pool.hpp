#pragma once

/// A small pool of detached actors that run closures: the APIs' uploader,
/// reader, query and thought actors, the broadcaster's replay readers. The
/// HTTP façade hands each request to the pool (never blocking its I/O
/// threads); a worker runs it on its own thread, where database calls and
/// FAISS searches may block.
///
/// Threads: `post` is thread-safe and never blocks (round robin over the
/// workers' mailboxes). With `max_queued` set, `post` refuses work while
/// that many tasks wait or run, so a caller can answer 503 at once instead
/// of queueing behind a stalled database.
/// Ownership: the pool owns its workers; `stop()` (or the destructor) sends
/// them an exit and they finish the task at hand first.
/// Failure: a task that throws is caught and logged (`task_failed`), counted
/// as a failure in the worker's registry entry; tasks answer their own
/// callers, so they must catch what they want to report.

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/typed_actor.hpp>

#include "runtime/inspect/registry.hpp"

namespace distiller::tasks::detail {

/// A closure for a pool worker: sent within the process only.
struct task {
  std::function<void()> fn;
};

} // namespace distiller::tasks::detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(distiller::tasks::detail::task)

namespace distiller::tasks {

/// A pool worker's interface: it runs the closures it is sent.
using task_worker_actor = caf::typed_actor<caf::reacts_to<detail::task>>;

class task_pool {
 public:
  /// Spawns `size` workers named "<name>-<i>" with `role`, enrolled in
  /// `actors` when given; `max_queued` 0 means unbounded.
  task_pool(caf::actor_system& sys, std::string name, std::string role,
            int size, inspect::registry* actors, size_t max_queued = 0);
  ~task_pool();
  task_pool(const task_pool&) = delete;
  task_pool& operator=(const task_pool&) = delete;

  /// Queues `fn` on the next worker; false after stop() or while
  /// `max_queued` tasks are waiting or running.
  bool post(std::function<void()> fn);

  /// Tasks queued or running now.
  size_t queued() const noexcept { return queued_->load(); }

  void stop();

 private:
  std::vector<task_worker_actor> workers_;
  std::atomic<size_t> next_{0};
  std::atomic<bool> stopped_{false};
  size_t max_queued_ = 0;
  // Shared with the tasks in flight, which count themselves out.
  std::shared_ptr<std::atomic<size_t>> queued_ =
      std::make_shared<std::atomic<size_t>>(0);
};

} // namespace distiller::tasks
