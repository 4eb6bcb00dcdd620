#pragma once

#include <memory>
#include <string>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace distiller::inspect {
class registry;
} // namespace distiller::inspect

/// The node's prometheus-cpp registry and the runtime's own metric families.
/// Every module adds its families to `registry()`; `/metrics` renders the
/// whole registry with `render()`. Metric objects returned by prometheus-cpp
/// are thread-safe and stay valid as long as this object lives.
namespace distiller::metrics {

class node_metrics {
 public:
  explicit node_metrics(std::string node_name);

  prometheus::Registry& registry() noexcept { return *registry_; }
  std::shared_ptr<prometheus::Registry> shared_registry() { return registry_; }
  const std::string& node() const noexcept { return node_; }

  // -- runtime families -------------------------------------------------------

  /// distiller_actor_restarts_total{actor,role}
  prometheus::Family<prometheus::Counter>& actor_restarts() {
    return *actor_restarts_;
  }
  /// distiller_supervisor_escalations_total{supervisor}
  prometheus::Family<prometheus::Counter>& supervisor_escalations() {
    return *escalations_;
  }

  /// Copies the inspection registry's counters into the gauges
  /// distiller_actor_mailbox_depth, distiller_actor_messages_processed and
  /// distiller_actor_failures (called before each scrape).
  void sample(const inspect::registry& actors);

  /// The Prometheus text exposition format of every registered family.
  std::string render();

 private:
  std::string node_;
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* actor_restarts_;
  prometheus::Family<prometheus::Counter>* escalations_;
  prometheus::Family<prometheus::Gauge>* mailbox_depth_;
  prometheus::Family<prometheus::Gauge>* processed_;
  prometheus::Family<prometheus::Gauge>* failures_;
};

} // namespace distiller::metrics
