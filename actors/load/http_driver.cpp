#include "actors/load/http_driver.hpp"

#include <algorithm>
#include <optional>
#include <stdexcept>

#include <boost/asio/steady_timer.hpp>

namespace distiller::load {

namespace {

using namespace std::chrono_literals;

/// The state of one run; lives on the stack of run_http.
struct driver {
  http_workload& w;
  recorder& rec;
  const http_run_settings& s;
  net::io_context ioc;
  http_context ctx;
  http_pool pool;
  std::optional<schedule> sched;
  net::steady_timer due_timer{ioc};
  net::steady_timer tick_timer{ioc};
  progress view;
  run_times times;
  bool issuing = true;
  bool finished = false;
  steady::time_point deadline = steady::time_point::max();
  steady::time_point last_counted{};
  bool any_counted = false;

  driver(http_workload& wl, recorder& r, const http_target& target,
         const http_run_settings& settings,
         tcp::resolver::results_type endpoints)
      : w(wl), rec(r),
        s(settings), ctx{ioc, target, endpoints, r, settings.timeout},
        pool(ioc, target, endpoints, settings.connections, settings.timeout),
        view(settings.progress, settings.command,
             std::chrono::duration<double>(settings.sched.duration).count(),
             settings.sched.count) {}

  // The workload's streams and timers live on `ioc`: they go first.
  ~driver() { w.release(); }

  driver(const driver&) = delete;
  driver& operator=(const driver&) = delete;

  void issue(const schedule::slot& slot) {
    auto now = steady::now();
    if (slot.counted) {
      rec.sent(now);
      last_counted = slot.planned;
      any_counted = true;
    } else {
      ++times.warmup_sent;
    }
    auto req = w.request(slot.index);
    pool.start(std::move(req), [this, slot](http_outcome o) {
      if (slot.counted) {
        if (o.ok()) {
          rec.ok(o.done);
          rec.latency(w.request_histogram(), o.done - slot.planned, o.done);
        } else {
          rec.error(o.cls, o.done, o.failed ? 0 : o.status);
        }
      } else if (o.ok()) {
        ++times.warmup_ok;
      }
      w.response(slot, o);
    });
  }

  void pump() {
    if (!issuing || finished)
      return;
    auto now = steady::now();
    while (pool.can_start()) {
      auto slot = sched->next_due(now, pool.busy());
      if (!slot)
        break;
      sched->issued(*slot);
      issue(*slot);
    }
    // A free connection waits for the next planned time; without one, the
    // next completion pumps.
    if (auto next = sched->next_time(); next && pool.can_start()) {
      due_timer.expires_at(*next);
      due_timer.async_wait([this](const boost::system::error_code& ec) {
        if (!ec)
          pump();
      });
    }
  }

  void stop_issuing(steady::time_point now, std::chrono::nanoseconds drain) {
    if (!issuing)
      return;
    issuing = false;
    due_timer.cancel();
    auto& o = s.sched;
    if (times.interrupted) {
      times.duration_s =
          std::chrono::duration<double>(now - times.measure_start).count();
    } else if (o.duration.count() > 0 &&
               (o.count == 0 || sched->issued_counted() < o.count)) {
      times.duration_s = std::chrono::duration<double>(o.duration).count();
    } else if (any_counted) {
      auto extra = o.closed ? 0.0 : 1.0 / o.rate;
      times.duration_s =
          std::chrono::duration<double>(last_counted - times.measure_start)
              .count() +
          extra;
    }
    times.duration_s = std::max(times.duration_s, 0.0);
    auto end = sched->measure_end();
    auto base = end != steady::time_point::max() && !times.interrupted
                    ? std::min(now, end)
                    : now;
    deadline = base + drain;
  }

  void finish(steady::time_point now) {
    if (finished)
      return;
    finished = true;
    issuing = false;
    ctx.stopping = true;
    due_timer.cancel();
    tick_timer.cancel();
    // What was due but never sent, and what is still in flight.
    uint64_t unsent = 0;
    if (!times.interrupted) {
      while (auto slot = sched->next_due(steady::time_point::max() - 1h, 0)) {
        if (slot->counted)
          ++unsent;
        sched->issued(*slot);
        if (s.sched.closed)
          break;
      }
    }
    if (unsent > 0)
      rec.error(error_class::unsent, now, 0, {}, unsent);
    pool.abort_all();
    w.stop();
    rec.finish(now);
    view.done();
    ioc.stop();
  }

  void tick() {
    tick_timer.expires_after(100ms);
    tick_timer.async_wait([this](const boost::system::error_code& ec) {
      if (ec || finished)
        return;
      auto now = steady::now();
      if (s.stop && s.stop->load() && !times.interrupted) {
        times.interrupted = true;
        stop_issuing(now, 2s);
        deadline = std::min(deadline, now + 2s);
      }
      if (issuing && sched->exhausted(now))
        stop_issuing(now, s.drain);
      // A target that stopped answering leaves a backlog that never
      // clears: the drain ends it all the same.
      if (auto end = sched->measure_end();
          issuing && end != steady::time_point::max() && now >= end + s.drain)
        stop_issuing(now, std::chrono::nanoseconds{0});
      if (issuing)
        pump();
      rec.tick(now);
      const char* phase = now < times.measure_start ? "warm-up"
                          : issuing                 ? "running"
                                                    : "draining";
      uint64_t waiting = issuing ? 0 : pool.busy() + w.waiting();
      view.update(rec.snapshot(now), phase, waiting, now);
      if (!issuing &&
          ((pool.busy() == 0 && w.waiting() == 0) || now >= deadline)) {
        finish(now);
        return;
      }
      tick();
    });
  }
};

} // namespace

run_times run_http(http_workload& w, recorder& rec, const http_target& target,
                   const http_run_settings& s) {
  net::io_context resolver_ioc;
  auto endpoints = resolve(resolver_ioc, target);
  driver d{w, rec, target, s, endpoints};

  // -- prepare
  bool prepared = false;
  std::string why;
  w.prepare(d.ctx, [&](std::string e) {
    prepared = true;
    why = std::move(e);
  });
  auto until = steady::now() + s.prepare_timeout;
  while (!prepared && steady::now() < until && !(s.stop && s.stop->load())) {
    d.ioc.run_one_for(100ms);
    if (d.ioc.stopped())
      d.ioc.restart();
  }
  if (!prepared || !why.empty()) {
    d.ctx.stopping = true;
    w.stop();
    throw std::runtime_error(
        prepared ? why
                 : "the workload was not ready within " +
                       std::to_string(
                           std::chrono::duration_cast<std::chrono::seconds>(
                               s.prepare_timeout)
                               .count()) +
                       " s");
  }

  // -- measure
  auto start = steady::now();
  d.sched.emplace(s.sched, start);
  d.times.start = start;
  d.times.measure_start = d.sched->measure_start();
  d.ctx.measure_start = d.times.measure_start;
  rec.start(d.times.measure_start);
  d.pool.on_free = [&d] {
    d.pump();
  };
  d.pump();
  d.tick();
  d.ioc.run();
  if (!d.finished)
    d.finish(steady::now());
  d.times.connections = d.pool.opened();
  return d.times;
}

} // namespace distiller::load
