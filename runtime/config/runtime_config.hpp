#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "runtime/config/schema.hpp"

namespace distiller::config {

/// [node]: identity and layout of one node.
struct node_section {
  /// Unique name of this node in the cluster (logs, metrics, inspection).
  std::string name = "node-1";
  /// Roles this node runs: all, api, ingest, embed, index, thoughts, relay.
  std::vector<std::string> roles{"all"};
  /// Directory for runtime data (embedded PostgreSQL, bootstrap file, …).
  std::string data_dir = "var";
  /// Data directory of a `distiller services up` whose Kafka and
  /// PostgreSQL this node uses (empty: none; see actors/node/services.hpp).
  std::string services_dir;
  /// CAF scheduler worker threads; 0 = one per core.
  int scheduler_threads = 0;
};

/// [log]
struct log_section {
  std::string level = "info";
};

/// [supervision]: restart intensity of supervisors (OTP-style).
struct supervision_section {
  /// A supervisor restarts at most `max_restarts` children …
  int max_restarts = 5;
  /// … within this window; one more and it gives up and escalates.
  std::chrono::milliseconds window{10000};
};

struct runtime_config {
  node_section node;
  log_section log;
  supervision_section supervision;
};

void declare(schema& s, runtime_config& cfg);

} // namespace distiller::config
