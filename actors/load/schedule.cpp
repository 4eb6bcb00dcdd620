#include "actors/load/schedule.hpp"

#include <cmath>

namespace distiller::load {

schedule::schedule(const schedule_options& o, steady::time_point start)
    : opts_(o), start_(start) {
  if (!opts_.closed && !(opts_.rate > 0))
    opts_.rate = 1;
  if (opts_.closed && opts_.concurrency < 1)
    opts_.concurrency = 1;
}

steady::time_point schedule::planned(uint64_t i) const noexcept {
  // Computed from the index, not by adding periods, so rounding never
  // drifts over a long run.
  auto ns = std::llround(static_cast<long double>(i) * 1e9L /
                         static_cast<long double>(opts_.rate));
  return start_ + std::chrono::nanoseconds{ns};
}

steady::time_point schedule::measure_end() const noexcept {
  if (opts_.duration.count() > 0)
    return measure_start() + opts_.duration;
  if (!opts_.closed && opts_.count > 0) {
    // The planned time of the last counted request, plus one period.
    auto ns = std::llround(static_cast<long double>(opts_.count) * 1e9L /
                           static_cast<long double>(opts_.rate));
    return measure_start() + std::chrono::nanoseconds{ns};
  }
  return steady::time_point::max();
}

bool schedule::within(steady::time_point planned) const noexcept {
  if (planned < measure_start())
    return true; // the warm-up is bounded by time only
  if (opts_.count > 0 && counted_ >= opts_.count)
    return false;
  return planned < measure_end();
}

std::optional<schedule::slot> schedule::next_due(steady::time_point now,
                                                 int in_flight) const {
  slot s;
  s.index = next_;
  if (opts_.closed) {
    if (in_flight >= opts_.concurrency)
      return std::nullopt;
    s.planned = now;
  } else {
    s.planned = planned(next_);
    if (s.planned > now)
      return std::nullopt;
  }
  if (!within(s.planned))
    return std::nullopt;
  s.counted = s.planned >= measure_start();
  return s;
}

void schedule::issued(const slot& s) noexcept {
  ++next_;
  if (s.counted)
    ++counted_;
}

std::optional<steady::time_point> schedule::next_time() const noexcept {
  if (opts_.closed)
    return std::nullopt;
  auto t = planned(next_);
  if (!within(t))
    return std::nullopt;
  return t;
}

bool schedule::exhausted(steady::time_point now) const noexcept {
  if (opts_.count > 0 && counted_ >= opts_.count)
    return true;
  if (opts_.closed)
    return now >= measure_end();
  return !within(planned(next_));
}

} // namespace distiller::load
