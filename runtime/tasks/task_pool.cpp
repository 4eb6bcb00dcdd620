#include "runtime/tasks/task_pool.hpp"

#include <caf/all.hpp>

#include "runtime/logging/log.hpp"

namespace distiller::tasks {

using detail::task;

namespace {

task_worker_actor::behavior_type task_worker(task_worker_actor::pointer self,
                                             inspect::actor_entry_ptr entry) {
  if (entry)
    entry->set_state("running");
  self->attach_functor([entry] {
    if (entry)
      entry->set_state("stopped");
  });
  return {
      [self, entry](task& t) {
        if (entry)
          entry->on_message(self->mailbox().size());
        try {
          t.fn();
        } catch (const std::exception& e) {
          if (entry)
            entry->add_failure();
          log::error("task_failed",
                     {{"actor", self->name()}, {"error", e.what()}});
        } catch (...) {
          if (entry)
            entry->add_failure();
          log::error("task_failed", {{"error", "unknown exception"}});
        }
      },
  };
}

} // namespace

task_pool::task_pool(caf::actor_system& sys, std::string name, std::string role,
                     int size, inspect::registry* actors, size_t max_queued)
    : max_queued_(max_queued) {
  for (int i = 0; i < size; ++i) {
    inspect::actor_entry_ptr entry;
    if (actors)
      entry = actors->enroll(name + "-" + std::to_string(i), role);
    workers_.push_back(sys.spawn<caf::detached>(task_worker, entry));
  }
}

task_pool::~task_pool() {
  stop();
}

bool task_pool::post(std::function<void()> fn) {
  if (stopped_ || workers_.empty())
    return false;
  auto n = queued_->fetch_add(1, std::memory_order_relaxed);
  if (max_queued_ > 0 && n >= max_queued_) {
    queued_->fetch_sub(1, std::memory_order_relaxed);
    return false;
  }
  auto i = next_.fetch_add(1, std::memory_order_relaxed) % workers_.size();
  caf::anon_send(workers_[i], task{[fn = std::move(fn), q = queued_] {
                   // Counted out however the task ends.
                   struct done {
                     std::atomic<size_t>& q;
                     ~done() { q.fetch_sub(1, std::memory_order_relaxed); }
                   } guard{*q};
                   fn();
                 }});
  return true;
}

void task_pool::stop() {
  if (stopped_.exchange(true))
    return;
  for (auto& w : workers_)
    caf::anon_send_exit(w, caf::exit_reason::user_shutdown);
}

} // namespace distiller::tasks
