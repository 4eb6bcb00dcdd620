#include "actors/load/recorder.hpp"

#include <algorithm>
#include <stdexcept>

namespace distiller::load {

namespace {

double ms(int64_t us) {
  return static_cast<double>(us) / 1000.0;
}

double seconds_between(steady::time_point a, steady::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

} // namespace

const char* to_string(error_class c) noexcept {
  switch (c) {
  case error_class::connect:
    return "connect";
  case error_class::timeout:
    return "timeout";
  case error_class::http_4xx:
    return "http_4xx";
  case error_class::http_5xx:
    return "http_5xx";
  case error_class::protocol:
    return "protocol";
  case error_class::unsent:
    return "unsent";
  case error_class::kafka:
    return "kafka";
  }
  return "protocol";
}

error_class class_of_status(unsigned status) noexcept {
  if (status >= 400 && status < 500)
    return error_class::http_4xx;
  if (status >= 500 && status < 600)
    return error_class::http_5xx;
  return error_class::protocol;
}

uint64_t error_counts::total() const noexcept {
  uint64_t n = 0;
  for (auto x : by_class)
    n += x;
  return n;
}

recorder::recorder(std::vector<std::string> names, size_t primary,
                   size_t max_rows)
    : names_(std::move(names)), primary_(primary), series_(max_rows) {
  if (names_.empty() || names_.size() > max_histograms ||
      primary_ >= names_.size())
    throw std::invalid_argument(
        "recorder: 1 to 4 histograms, primary among them");
  whole_.resize(names_.size());
  row_.resize(names_.size());
}

void recorder::start(steady::time_point t0) {
  std::lock_guard<std::mutex> guard{mtx_};
  started_ = true;
  t0_ = t0;
  end_ = t0;
}

bool recorder::started() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return started_;
}

void recorder::cut_row(double t, double dt) {
  pending_.t = t;
  pending_.dt = dt;
  for (size_t i = 0; i < names_.size(); ++i) {
    auto& h = row_[i];
    auto& l = pending_.latency[i];
    l.count = h.count();
    l.p50_ms = ms(h.value_at(0.50));
    l.p99_ms = ms(h.value_at(0.99));
    h.reset();
  }
  series_.push(pending_);
  pending_ = series_row{};
}

void recorder::roll(steady::time_point now) {
  if (!started_ || finished_)
    return;
  auto t = seconds_between(t0_, now);
  if (now > end_)
    end_ = now;
  while (t >= row_start_ + series_.width()) {
    auto w = series_.width();
    cut_row(row_start_, w);
    row_start_ += w;
  }
  while (t >= recent_start_ + 1.0) {
    has_last_p99_ = recent_.count() > 0;
    last_p99_ms_ = ms(recent_.value_at(0.99));
    recent_.reset();
    recent_start_ += 1.0;
    if (t >= recent_start_ + 1.0) {
      // A gap of whole seconds without a tick: nothing recent to show.
      recent_start_ = static_cast<double>(static_cast<int64_t>(t));
      has_last_p99_ = false;
    }
  }
}

void recorder::sent(steady::time_point now) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (!started_ || finished_)
    return;
  roll(now);
  ++sent_;
  ++pending_.sent;
}

void recorder::ok(steady::time_point now) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (!started_ || finished_)
    return;
  roll(now);
  ++ok_;
  ++pending_.ok;
}

void recorder::error(error_class c, steady::time_point now, unsigned status,
                     const std::string& kafka_error, uint64_t times) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (!started_ || finished_)
    return;
  roll(now);
  errors_.by_class[static_cast<size_t>(c)] += times;
  if (status != 0)
    errors_.by_status[status] += times;
  if (!kafka_error.empty())
    errors_.by_kafka_error[kafka_error] += times;
  pending_.errors += times;
}

void recorder::latency(size_t histogram, std::chrono::nanoseconds d,
                       steady::time_point now) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (!started_ || finished_)
    return;
  roll(now);
  if (histogram >= names_.size())
    return;
  whole_[histogram].record(d);
  row_[histogram].record(d);
  if (histogram == primary_)
    recent_.record(d);
}

void recorder::tick(steady::time_point now) {
  std::lock_guard<std::mutex> guard{mtx_};
  roll(now);
}

void recorder::finish(steady::time_point now) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (!started_ || finished_)
    return;
  roll(now);
  auto t = seconds_between(t0_, now);
  if (t > row_start_ + 1e-6 ||
      pending_.sent + pending_.ok + pending_.errors > 0)
    cut_row(row_start_, std::max(t - row_start_, 1e-3));
  end_ = now;
  finished_ = true;
}

progress_snapshot recorder::snapshot(steady::time_point now) {
  std::lock_guard<std::mutex> guard{mtx_};
  roll(now);
  progress_snapshot s;
  s.elapsed_s = started_ ? seconds_between(t0_, finished_ ? end_ : now) : 0;
  s.sent = sent_;
  s.ok = ok_;
  s.errors = errors_.total();
  s.p99_ms = last_p99_ms_;
  s.has_p99 = has_last_p99_;
  return s;
}

log_histogram recorder::histogram(size_t i) const {
  std::lock_guard<std::mutex> guard{mtx_};
  return i < whole_.size() ? whole_[i] : log_histogram{};
}

time_series recorder::series() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return series_;
}

error_counts recorder::errors() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return errors_;
}

uint64_t recorder::sent_count() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return sent_;
}

uint64_t recorder::ok_count() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return ok_;
}

double recorder::measured_s() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return started_ ? seconds_between(t0_, end_) : 0;
}

} // namespace distiller::load
