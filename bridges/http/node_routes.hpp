#pragma once

/// The node's built-in routes, answered from the runtime's observers:
///   GET /health  → 200 {"status":"ok"|"degraded","node","version",
///                  "components":{name:{state,detail,required,since}},
///                  "actors":{"total","restarts","failed"}}, or 503 with
///                  Retry-After and the same body when "status" is "down"
///                  (a required component is down)
///   GET /ready   → 200 {"ready":true} or 503 {"ready":false,
///                  "waiting_for":[names]}
///   GET /metrics → Prometheus text (samples the inspection registry first)
///   GET /inspect → {"node", "actors":[{name, role, node, parent, mailbox,
///                  processed, failures, restarts, state,
///                  recent_errors:[{time, text}] (newest first, at most 8)}]}
/// HEAD works on each (the GET answer without its body).
///
/// Threads: the handlers answer synchronously on the I/O thread; the sources
/// are thread-safe. Ownership: the sources are borrowed and must outlive the
/// router (a null source makes its route answer 503).

#include <string>

namespace distiller::health {
class health_board;
} // namespace distiller::health

namespace distiller::inspect {
class registry;
} // namespace distiller::inspect

namespace distiller::metrics {
class node_metrics;
} // namespace distiller::metrics

namespace distiller::http {

class router;

struct node_routes_sources {
  std::string node_name;
  std::string version;
  health::health_board* health = nullptr;
  inspect::registry* actors = nullptr;
  metrics::node_metrics* metrics = nullptr;
};

void add_node_routes(router& r, node_routes_sources src);

} // namespace distiller::http
