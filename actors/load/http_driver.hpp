#pragma once

#include <atomic>
#include <chrono>
#include <string>

#include "actors/load/progress.hpp"
#include "actors/load/recorder.hpp"
#include "actors/load/schedule.hpp"
#include "actors/load/target.hpp"
#include "actors/load/workload.hpp"

/// Runs an HTTP workload: prepare, then the schedule's requests over a pool
/// of keep-alive connections, then the drain, on one io_context in the
/// calling thread.
///
/// The open model never waits for a request to send the next: each free
/// connection takes the oldest due index, and a request's latency runs from
/// its planned time, so time spent waiting for a connection counts. The
/// drain waits after the schedule for answers in flight and the workload's
/// completions, until `drain` after the scheduled end; what is still in
/// flight then counts as `timeout`, what was due but never sent as
/// `unsent`. Ctrl-C (`stop`) ends issuing at once and drains for at most
/// 2 s. Throws std::runtime_error when prepare fails or times out.
namespace distiller::load {

struct http_run_settings {
  schedule_options sched;
  int connections = 8;
  std::chrono::nanoseconds timeout{std::chrono::seconds{30}};
  std::chrono::nanoseconds drain{std::chrono::seconds{30}};
  std::chrono::nanoseconds prepare_timeout{std::chrono::seconds{120}};
  progress_mode progress = progress_mode::lines;
  std::string command;
  const std::atomic<bool>* stop = nullptr;
};

struct run_times {
  steady::time_point start{};
  steady::time_point measure_start{};
  /// End of the scheduled window as run (duration, count or Ctrl-C).
  double duration_s = 0;
  bool interrupted = false;
  uint64_t warmup_sent = 0;
  uint64_t warmup_ok = 0;
  /// Connections the pool opened.
  int connections = 0;
};

run_times run_http(http_workload& w, recorder& rec, const http_target& target,
                   const http_run_settings& s);

} // namespace distiller::load
