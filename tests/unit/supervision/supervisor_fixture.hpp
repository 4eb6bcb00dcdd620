#pragma once

/// Shared by the supervision tests: a real actor system with two scheduler
/// threads, an inspection registry and node metrics to assert on, captured
/// log lines, and small test children (a worker that crashes on request, one
/// that dies while starting, one that records its exit, one that ignores it).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include <caf/all.hpp>
#include <gtest/gtest.h>

#include "runtime/core/errc.hpp"
#include "runtime/core/type_ids.hpp"
#include "runtime/inspect/registry.hpp"
#include "runtime/logging/log.hpp"
#include "runtime/metrics/metrics.hpp"
#include "runtime/supervision/supervisor.hpp"

namespace distiller::supervision::test {

using namespace std::chrono_literals;

// -- helpers ------------------------------------------------------------------

inline bool has_code(const caf::error& err, runtime_errc code) {
  return err && err.category() == caf::atom("runtime") &&
         err.code() == static_cast<uint8_t>(code);
}

/// A thread-safe list of strings (log lines, exit order).
class recorder {
 public:
  void push(std::string x) {
    std::lock_guard<std::mutex> guard{mtx_};
    items_.push_back(std::move(x));
  }
  std::vector<std::string> items() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return items_;
  }
  bool contains_all(const std::vector<std::string>& parts) const {
    for (auto& item : items()) {
      bool all = true;
      for (auto& part : parts)
        all = all && item.find(part) != std::string::npos;
      if (all)
        return true;
    }
    return false;
  }

 private:
  mutable std::mutex mtx_;
  std::vector<std::string> items_;
};

// -- test children ------------------------------------------------------------

/// Doubles ints; throws on crash_atom; quits normally on stop_atom.
inline caf::behavior worker(caf::event_based_actor* self,
                            inspect::actor_entry_ptr entry) {
  return {
      [](atoms::crash_atom) { throw std::runtime_error("crash requested"); },
      [self](atoms::stop_atom) { self->quit(); },
      [entry](int x) {
        entry->on_message(0);
        return x * 2;
      },
  };
}

inline caf::actor spawn_worker(caf::actor_system& sys,
                               inspect::actor_entry_ptr e) {
  return sys.spawn(worker, std::move(e));
}

/// Dies during initialization. Takes an argument only because CAF 0.17.6
/// dereferences a null argument tuple when it spawns a function actor without
/// arguments (UBSan reports it).
inline caf::behavior doomed(caf::event_based_actor*, inspect::actor_entry_ptr) {
  throw std::runtime_error("cannot start");
}

/// A worker that records its name when asked to exit, before it quits.
inline caf::behavior recording_worker(caf::event_based_actor* self,
                                      inspect::actor_entry_ptr entry,
                                      std::shared_ptr<recorder> exits) {
  self->set_exit_handler([self, entry, exits](caf::exit_msg& em) {
    exits->push(entry->name());
    self->quit(em.reason);
  });
  return worker(self, entry);
}

/// A worker that ignores exit requests (only a kill stops it).
inline caf::behavior stubborn_worker(caf::event_based_actor* self,
                                     inspect::actor_entry_ptr entry) {
  self->set_exit_handler([](caf::exit_msg&) {});
  return worker(self, entry);
}

// -- fixture ------------------------------------------------------------------

class supervisor_fixture : public ::testing::Test {
 protected:
  supervisor_fixture() {
    log::set_sink([lines = log_lines](std::string_view line) {
      lines->push(std::string{line});
    });
    cfg.set("scheduler.max-threads", 2);
    // CAF 0.17.6's add_error_category<T> does not compile; register the
    // renderer by hand so logged reasons read "runtime_errc::…".
    cfg.add_error_category(caf::atom("runtime"), [](uint8_t code,
                                                    caf::atom_value,
                                                    const caf::message& ctx) {
      auto text = "runtime_errc::" + to_string(static_cast<runtime_errc>(code));
      return ctx.empty() ? text : text + caf::to_string(ctx);
    });
    sys = std::make_unique<caf::actor_system>(cfg);
    self = std::make_unique<caf::scoped_actor>(*sys);
  }

  ~supervisor_fixture() override {
    for (auto& sup : sups)
      caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
    // No handle may outlive the system.
    sups.clear();
    downs.clear();
    self.reset();
    // Waits for every actor; a supervisor that fails to stop hangs here.
    sys.reset();
    log::set_sink({});
  }

  /// The tests talk to supervisors through the dynamic handle, as the
  /// shell and other nodes do.
  caf::actor spawn(std::string name, restart_policy policy,
                   std::vector<child_spec> children) {
    auto sup = caf::actor_cast<caf::actor>(spawn_supervisor(
        *sys, std::move(name), policy, std::move(children), deps()));
    sups.push_back(sup);
    return sup;
  }

  /// The supervisors' restart-window clock: it moves only when a test
  /// calls `advance`.
  supervisor_deps deps() {
    supervisor_deps d{&actors, &metrics};
    d.now = [start = clock_start, offset = clock_offset] {
      return start + std::chrono::nanoseconds{offset->load()};
    };
    return d;
  }

  void advance(std::chrono::nanoseconds d) { *clock_offset += d.count(); }

  std::chrono::steady_clock::time_point clock_start =
      std::chrono::steady_clock::now();
  std::shared_ptr<std::atomic<int64_t>> clock_offset =
      std::make_shared<std::atomic<int64_t>>(0);

  caf::expected<caf::actor> child_of(const caf::actor& sup,
                                     const std::string& name) {
    caf::expected<caf::actor> result{caf::actor{}};
    (*self)
        ->request(sup, 5s, atoms::child_atom_v, name)
        .receive([&](caf::actor& child) { result = std::move(child); },
                 [&](caf::error& err) { result = std::move(err); });
    return result;
  }

  caf::error restart(const caf::actor& sup, const std::string& name) {
    caf::error result;
    (*self)
        ->request(sup, 5s, atoms::restart_atom_v, name)
        .receive([] {}, [&](caf::error& err) { result = std::move(err); });
    return result;
  }

  int twice(const caf::actor& child, int x) {
    int result = -1;
    (*self)
        ->request(child, 5s, x)
        .receive([&](int y) { result = y; }, [](caf::error&) {});
    return result;
  }

  /// Waits for the down_msg of `whom` (monitored before) and returns its
  /// reason, or sec::request_timeout if none came. Down messages of other
  /// actors are kept for later calls.
  caf::error await_down(const caf::actor& whom) {
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (downs.count(whom.address()) == 0 &&
           std::chrono::steady_clock::now() < deadline) {
      (*self)->receive(
          [&](caf::down_msg& dm) { downs[dm.source] = std::move(dm.reason); },
          caf::after(100ms) >> [] {});
    }
    auto i = downs.find(whom.address());
    return i != downs.end() ? i->second
                            : caf::make_error(caf::sec::request_timeout);
  }

  double restarts_metric(const std::string& actor, const std::string& role) {
    return metrics.actor_restarts()
        .Add({{"actor", actor}, {"role", role}})
        .Value();
  }

  double escalations_metric(const std::string& sup) {
    return metrics.supervisor_escalations().Add({{"supervisor", sup}}).Value();
  }

  uint64_t restarts_of(const std::string& name) {
    auto entry = actors.find(name);
    return entry ? entry->restarts() : 0;
  }

  std::shared_ptr<recorder> log_lines = std::make_shared<recorder>();
  // The registry and metrics outlive the actor system that updates them.
  inspect::registry actors{"test-node"};
  metrics::node_metrics metrics{"test-node"};
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::unique_ptr<caf::scoped_actor> self;
  std::vector<caf::actor> sups;
  std::map<caf::actor_addr, caf::error> downs;
};

} // namespace distiller::supervision::test
