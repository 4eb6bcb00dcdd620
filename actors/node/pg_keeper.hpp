#pragma once

/// Keeps the private PostgreSQL that a process started itself running: a
/// thread that looks every `check_every` whether the postmaster still lives
/// and, when it does not (killed, crashed, stopped by hand), starts it again
/// with `pg_cluster::start()` — after `first_delay`, doubling up to
/// `max_delay` while attempts fail. Each restart is counted
/// (`distiller_postgres_restarts_total{result}`) and logged
/// (`postgres_exited`, `postgres_restarted`, `postgres_restart_failed`).
///
///   pg_keeper keeper{*pg, {}, &metrics};
///   ...
///   keeper.stop(); // before pg->stop(): a stopped server stays stopped
///
/// Only for a server this process owns (`postgres.dsn` empty): a PostgreSQL
/// given by DSN is someone else's to run. The requests of the meantime fail
/// fast through the pools' down state (bridges/postgres/pool.hpp), and the
/// pools find the server again at their next probe.
///
/// Threads: one thread of its own; pg_cluster is not thread-safe, so nothing
/// else may call the cluster between construction and stop(). stop() is
/// idempotent and called by the destructor.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

namespace prometheus {
class Counter;
}

namespace distiller::embedded {
class pg_cluster;
}

namespace distiller::metrics {
class node_metrics;
}

namespace distiller::node {

struct pg_keeper_settings {
  std::chrono::milliseconds check_every{1000};
  std::chrono::milliseconds first_delay{500};
  std::chrono::milliseconds max_delay{30000};
};

class pg_keeper {
 public:
  /// `metrics` may be null.
  pg_keeper(embedded::pg_cluster& pg, pg_keeper_settings settings,
            metrics::node_metrics* metrics);
  ~pg_keeper();
  pg_keeper(const pg_keeper&) = delete;
  pg_keeper& operator=(const pg_keeper&) = delete;

  void stop();

  /// Restarts that brought the server back.
  uint64_t restarts() const noexcept { return restarts_; }
  /// Attempts that failed.
  uint64_t failures() const noexcept { return failures_; }

 private:
  void run();
  /// Waits `d` or until stop(); false when stopping.
  bool wait(std::chrono::milliseconds d);

  embedded::pg_cluster& pg_;
  pg_keeper_settings settings_;
  prometheus::Counter* restarted_ = nullptr;
  prometheus::Counter* failed_ = nullptr;
  std::atomic<uint64_t> restarts_{0};
  std::atomic<uint64_t> failures_{0};
  std::mutex mtx_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

} // namespace distiller::node
