#include "bridges/kafka/source_metrics.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace distiller::kafka {

// -- source_metrics
// -------------------------------------------------------------

namespace {

using namespace prometheus;

Family<Counter>& counter(Registry& r, const char* name, const char* help) {
  return BuildCounter().Name(name).Help(help).Register(r);
}

Family<Gauge>& gauge(Registry& r, const char* name, const char* help) {
  return BuildGauge().Name(name).Help(help).Register(r);
}

Family<Histogram>& histogram(Registry& r, const char* name, const char* help) {
  return BuildHistogram().Name(name).Help(help).Register(r);
}

const Histogram::BucketBoundaries& latency_buckets() {
  return latency_bucket_bounds();
}

} // namespace

const std::vector<double>& latency_bucket_bounds() {
  static const std::vector<double> b{
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
      0.1,    0.25,    0.5,    1.0,   2.5,    5.0,   10.0, 30.0};
  return b;
}

// -- histogram_batch ----------------------------------------------------------

histogram_batch::histogram_batch(const std::vector<double>& bounds)
    : bounds_(bounds), counts_(bounds.size() + 1, 0.0) {}

void histogram_batch::observe(double value, uint64_t count) noexcept {
  // Same rule as prometheus::Histogram::Observe: the first bucket whose
  // upper bound is >= value, else +Inf.
  auto i = std::lower_bound(bounds_.begin(), bounds_.end(), value);
  auto n = static_cast<double>(count);
  counts_[static_cast<size_t>(i - bounds_.begin())] += n;
  sum_ += value * n;
  empty_ = empty_ && count == 0;
}

void histogram_batch::flush(prometheus::Histogram& h) {
  if (empty_)
    return;
  h.ObserveMultiple(counts_, sum_);
  std::fill(counts_.begin(), counts_.end(), 0.0);
  sum_ = 0;
  empty_ = true;
}

source_metrics::source_metrics(metrics::node_metrics* node,
                               const std::string& bridge)
    : bridge_(bridge) {
  if (node == nullptr)
    own_ = std::make_shared<Registry>();
  auto& r = node != nullptr ? node->registry() : *own_;
  Labels l{{"bridge", bridge}};
  consumed = &counter(r, "distiller_bridge_records_consumed_total",
                      "Records polled from Kafka by a source bridge")
                  .Add(l);
  processed = &counter(r, "distiller_bridge_records_processed_total",
                       "Records a worker processed successfully")
                   .Add(l);
  retried = &counter(r, "distiller_bridge_records_retried_total",
                     "Retries scheduled after a failed attempt")
                 .Add(l);
  dead_lettered = &counter(r, "distiller_bridge_records_dead_lettered_total",
                           "Records produced to the dead-letter topic")
                       .Add(l);
  failed_attempts = &counter(r, "distiller_bridge_failed_attempts_total",
                             "Failed attempts (error reply, crash, timeout)")
                         .Add(l);
  consumer_errors = &counter(r, "distiller_bridge_consumer_errors_total",
                             "Errors reported by the bridge's Kafka consumer")
                         .Add(l);
  auto& rebalances = counter(r, "distiller_bridge_rebalances_total",
                             "Partition assignments and revocations");
  rebalances_assign = &rebalances.Add({{"bridge", bridge}, {"kind", "assign"}});
  rebalances_revoke = &rebalances.Add({{"bridge", bridge}, {"kind", "revoke"}});
  fetch_holds =
      &counter(r, "distiller_bridge_fetch_holds_total",
               "Times the bridge-wide buffer limit (max_buffered) stopped the "
               "poll thread from fetching")
           .Add(l);
  processing = &histogram(r, "distiller_bridge_processing_seconds",
                          "Dispatch to a worker until its answer")
                    .Add(l, latency_buckets());
  ack_latency = &histogram(r, "distiller_bridge_ack_latency_seconds",
                           "Poll until the record is done (processed or "
                           "dead-lettered)")
                     .Add(l, latency_buckets());
  in_flight = &gauge(r, "distiller_bridge_in_flight",
                     "Records at workers and not finished")
                   .Add(l);
  buffered =
      &gauge(r, "distiller_bridge_buffered", "Records polled and not finished")
           .Add(l);
  paused_partitions = &gauge(r, "distiller_bridge_paused_partitions",
                             "Partitions paused by back-pressure")
                           .Add(l);
  committed_family_ = &gauge(r, "distiller_bridge_committed_offset",
                             "Last offset committed per partition");
  lag_family_ = &gauge(r, "distiller_bridge_lag",
                       "High watermark minus committed offset per partition");
}

Gauge& source_metrics::committed_offset(int32_t partition) {
  return committed_family_->Add(
      {{"bridge", bridge_}, {"partition", std::to_string(partition)}});
}

Gauge& source_metrics::lag(int32_t partition) {
  return lag_family_->Add(
      {{"bridge", bridge_}, {"partition", std::to_string(partition)}});
}

void source_metrics::forget_partition(int32_t partition) {
  committed_family_->Remove(&committed_offset(partition));
  lag_family_->Remove(&lag(partition));
}

// -- latency_recorder
// -----------------------------------------------------------

int latency_recorder::index_of(uint64_t v) noexcept {
  // Values below 2^sub_bits get a bucket each; above, a power of two is
  // split into 2^sub_bits buckets.
  if (v < (1u << sub_bits))
    return static_cast<int>(v);
  auto msb = 63 - std::countl_zero(v);
  auto shift = msb - sub_bits;
  auto sub = static_cast<int>((v >> shift) & ((1u << sub_bits) - 1));
  return ((shift + 1) << sub_bits) + sub;
}

uint64_t latency_recorder::upper_of(int index) noexcept {
  if (index < (1 << sub_bits))
    return static_cast<uint64_t>(index);
  auto shift = (index >> sub_bits) - 1;
  auto sub = static_cast<uint64_t>(index & ((1 << sub_bits) - 1));
  auto base = (uint64_t{1} << sub_bits) | sub;
  return ((base + 1) << shift) - 1;
}

void latency_recorder::record(int64_t ns, uint64_t count) noexcept {
  auto i = index_of(static_cast<uint64_t>(std::max<int64_t>(ns, 0)));
  counts_[std::min(i, buckets - 1)] += count;
  count_ += count;
}

int64_t latency_recorder::quantile(double q) const noexcept {
  if (count_ == 0)
    return 0;
  auto rank = static_cast<uint64_t>(
      std::ceil(std::clamp(q, 0.0, 1.0) * static_cast<double>(count_)));
  rank = std::max<uint64_t>(rank, 1);
  uint64_t seen = 0;
  for (int i = 0; i < buckets; ++i) {
    seen += counts_[i];
    if (seen >= rank)
      return static_cast<int64_t>(upper_of(i));
  }
  return static_cast<int64_t>(upper_of(buckets - 1));
}

void latency_recorder::reset() noexcept {
  counts_.fill(0);
  count_ = 0;
}

} // namespace distiller::kafka
