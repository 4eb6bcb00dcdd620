#include "runtime/config/runtime_config.hpp"

namespace distiller::config {

void declare(schema& s, runtime_config& cfg) {
  s.add_string("node.name", cfg.node.name,
               "Unique name of this node (logs, metrics, inspection).");
  s.add_list(
      "node.roles", cfg.node.roles,
      "Roles this node runs: all, api, ingest, embed, index, thoughts, relay.");
  s.add_string(
      "node.data_dir", cfg.node.data_dir,
      "Directory for runtime data (relative to the working directory).");
  s.add_string("node.services_dir", cfg.node.services_dir,
               "Data directory of a running `distiller services up`: Kafka's "
               "bootstrap and PostgreSQL's DSN are read from its files where "
               "kafka.brokers and postgres.dsn are empty.");
  s.add_int("node.scheduler_threads", cfg.node.scheduler_threads, 0, 256,
            "CAF scheduler worker threads; 0 means one per core.");
  s.add_choice("log.level", cfg.log.level, {"debug", "info", "warn", "error"},
               "Lowest level written to the log (logfmt on stderr).");
  s.add_int("supervision.max_restarts", cfg.supervision.max_restarts, 0, 10000,
            "Restarts a supervisor allows within the window before it "
            "escalates.");
  s.add_duration("supervision.window", cfg.supervision.window,
                 std::chrono::milliseconds{1},
                 "Window of the restart-intensity limit.");
}

} // namespace distiller::config
