#include "actors/node/pg_keeper.hpp"

#include <algorithm>
#include <exception>
#include <string>

#include <prometheus/counter.h>

#include "bridges/embedded/pg_cluster.hpp"
#include "runtime/logging/log.hpp"
#include "runtime/metrics/metrics.hpp"

namespace distiller::node {

using std::chrono::milliseconds;
using steady = std::chrono::steady_clock;

pg_keeper::pg_keeper(embedded::pg_cluster& pg, pg_keeper_settings settings,
                     metrics::node_metrics* metrics)
    : pg_(pg), settings_(settings) {
  if (metrics) {
    auto& family = prometheus::BuildCounter()
                       .Name("distiller_postgres_restarts_total")
                       .Help("Restarts of the private PostgreSQL after it "
                             "exited, by result")
                       .Register(metrics->registry());
    restarted_ = &family.Add({{"result", "ok"}});
    failed_ = &family.Add({{"result", "failed"}});
  }
  thread_ = std::thread{[this] {
    run();
  }};
}

pg_keeper::~pg_keeper() {
  stop();
}

void pg_keeper::stop() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable())
    thread_.join();
}

bool pg_keeper::wait(milliseconds d) {
  std::unique_lock<std::mutex> lock{mtx_};
  return !wake_.wait_for(lock, d, [this] { return stopping_; });
}

void pg_keeper::run() {
  while (wait(settings_.check_every)) {
    if (pg_.running())
      continue;
    auto gone = steady::now();
    log::warn("postgres_exited",
              {{"data_dir", pg_.data_dir().string()},
               {"log", pg_.log_file().string()},
               {"detail", "the private PostgreSQL is not running; starting it "
                          "again"}});
    auto delay = settings_.first_delay;
    for (int attempt = 1;; ++attempt) {
      if (!wait(delay))
        return;
      try {
        pg_.start();
        ++restarts_;
        if (restarted_)
          restarted_->Increment();
        log::info("postgres_restarted",
                  {{"attempt", attempt},
                   {"down_ms", std::chrono::duration_cast<milliseconds>(
                                   steady::now() - gone)
                                   .count()}});
        break;
      } catch (const std::exception& e) {
        ++failures_;
        if (failed_)
          failed_->Increment();
        delay = std::min(delay * 2, settings_.max_delay);
        log::error("postgres_restart_failed",
                   {{"attempt", attempt},
                    {"error", e.what()},
                    {"next_attempt_ms", delay.count()}});
      }
    }
  }
}

} // namespace distiller::node
