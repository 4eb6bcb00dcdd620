#include "runtime/metrics/metrics.hpp"

#include <prometheus/text_serializer.h>

#include "runtime/inspect/registry.hpp"

namespace distiller::metrics {

node_metrics::node_metrics(std::string node_name)
    : node_(std::move(node_name)),
      registry_(std::make_shared<prometheus::Registry>()) {
  using namespace prometheus;
  actor_restarts_ =
      &BuildCounter()
           .Name("distiller_actor_restarts_total")
           .Help("Restarts of supervised actors by their supervisor")
           .Register(*registry_);
  escalations_ = &BuildCounter()
                      .Name("distiller_supervisor_escalations_total")
                      .Help("Supervisors that exceeded their restart intensity")
                      .Register(*registry_);
  mailbox_depth_ =
      &BuildGauge()
           .Name("distiller_actor_mailbox_depth")
           .Help("Mailbox depth last sampled by each managed actor")
           .Register(*registry_);
  processed_ = &BuildGauge()
                    .Name("distiller_actor_messages_processed")
                    .Help("Messages handled by each managed actor (all "
                          "incarnations)")
                    .Register(*registry_);
  failures_ = &BuildGauge()
                   .Name("distiller_actor_failures")
                   .Help("Failed messages or crashes of each managed actor")
                   .Register(*registry_);
}

void node_metrics::sample(const inspect::registry& actors) {
  for (const auto& a : actors.snapshot()) {
    prometheus::Labels labels{{"actor", a.name}, {"role", a.role}};
    mailbox_depth_->Add(labels).Set(static_cast<double>(a.mailbox));
    processed_->Add(labels).Set(static_cast<double>(a.processed));
    failures_->Add(labels).Set(static_cast<double>(a.failures));
    // Every managed actor's restart counter (and every supervisor's
    // escalation counter) is exported from the first scrape on, at 0 until
    // it counts: a series that first appears with its first restart hides
    // that restart from increase() and rate() (docker/prometheus/alerts.yml,
    // the Grafana dashboard), and a family without series is not exported
    // at all. The labels are the ones the supervisor counts with.
    actor_restarts_->Add(labels);
    if (a.role == "supervisor")
      escalations_->Add({{"supervisor", a.name}});
  }
}

std::string node_metrics::render() {
  prometheus::TextSerializer serializer;
  return serializer.Serialize(registry_->Collect());
}

} // namespace distiller::metrics
