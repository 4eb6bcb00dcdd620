#include "bridges/http/server_core.hpp"

#include <algorithm>
#include <cstdio>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "runtime/inspect/trace_ring.hpp"

namespace distiller::http::detail {

// -- http_metrics ------------------------------------------------------------

http_metrics::http_metrics(prometheus::Registry& registry) {
  using namespace prometheus;
  duration_ = &BuildHistogram()
                   .Name("distiller_http_request_duration_seconds")
                   .Help("Time from a request's header to its response being "
                         "written, by route pattern")
                   .Register(registry);
  requests_ = &BuildCounter()
                   .Name("distiller_http_requests_total")
                   .Help("HTTP requests answered, by route pattern and status")
                   .Register(registry);
  open_ = &BuildGauge()
               .Name("distiller_http_open_connections")
               .Help("HTTP connections currently served")
               .Register(registry);
  open_->Add({}).Set(0);
}

std::string http_metrics::method_label(std::string_view method) {
  static constexpr std::string_view known[] = {
      "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"};
  for (auto k : known)
    if (k == method)
      return std::string{k};
  return "OTHER";
}

void http_metrics::observe(std::string_view method, const std::string& route,
                           unsigned status, double seconds) {
  static const prometheus::Histogram::BucketBoundaries buckets{
      0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
      0.25,  0.5,    1.0,   2.5,  5.0,   10.0, 30.0};
  prometheus::Labels labels{{"method", method_label(method)},
                            {"route", route},
                            {"status", std::to_string(status)}};
  duration_->Add(labels, buckets).Observe(seconds);
  requests_->Add(labels).Increment();
}

void http_metrics::add_open_connections(int delta) {
  auto& g = open_->Add({});
  if (delta >= 0)
    g.Increment(static_cast<double>(delta));
  else
    g.Decrement(static_cast<double>(-delta));
}

// -- server_core -------------------------------------------------------------

server_core::server_core(http_config cfg, std::shared_ptr<router> routes,
                         prometheus::Registry* registry,
                         inspect::trace_ring* trace)
    : cfg_(std::move(cfg)), tokens_(cfg_.auth, auth_required(cfg_)),
      trace_(trace), routes_(std::move(routes)) {
  if (registry)
    metrics_ = std::make_unique<http_metrics>(*registry);
}

std::vector<std::shared_ptr<connection>> server_core::close_gate() {
  std::lock_guard<std::mutex> guard{mtx_};
  stopping_ = true;
  std::vector<std::shared_ptr<connection>> result;
  for (auto& [ptr, weak] : conns_)
    if (auto c = weak.lock())
      result.push_back(std::move(c));
  return result;
}

bool server_core::stopping() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return stopping_;
}

bool server_core::enroll(const std::shared_ptr<connection>& c) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (stopping_)
    return false;
  conns_.emplace(c.get(), c);
  return true;
}

void server_core::forget(const connection* c) {
  std::lock_guard<std::mutex> guard{mtx_};
  conns_.erase(c);
}

bool server_core::try_admit() {
  auto limit = std::max(cfg_.max_connections, 1);
  auto n = open_.load();
  do {
    if (n >= limit)
      return false;
  } while (!open_.compare_exchange_weak(n, n + 1));
  if (metrics_)
    metrics_->add_open_connections(1);
  return true;
}

void server_core::release() {
  open_.fetch_sub(1);
  if (metrics_)
    metrics_->add_open_connections(-1);
}

void server_core::observe(std::string_view method, const std::string& route,
                          unsigned status, double seconds) {
  if (metrics_)
    metrics_->observe(method, route, status, seconds);
}

void server_core::trace(const std::string& trace_id, std::string_view method,
                        const std::string& route, unsigned status,
                        double seconds) {
  if (trace_ == nullptr)
    return;
  char ms[32];
  std::snprintf(ms, sizeof(ms), " %u %.1f ms", status, seconds * 1000.0);
  std::string detail;
  detail.reserve(method.size() + route.size() + 24);
  detail.append(method);
  detail += ' ';
  detail += route;
  detail += ms;
  trace_->record(trace_id, "http", "http", detail);
}

} // namespace distiller::http::detail
