#pragma once

/// The shared services of a local cluster: `distiller services up` runs the
/// embedded Kafka (the mock cluster, with the catalog's topics) and the
/// private PostgreSQL in a process of their own, so a node that dies takes
/// neither with it. The nodes of the cluster point `node.services_dir` at
/// the services' data directory and read where to connect from its files:
///
///   <dir>/node.lock         held by the services process (data_dir_lock)
///   <dir>/kafka.bootstrap   the mock cluster's bootstrap servers
///   <dir>/postgres.dsn      the private PostgreSQL's DSN (a unix socket
///                           under <dir>/run)
///   <dir>/services.json     {"pid", "kafka_bootstrap", "postgres_dsn",
///                            "started_at"}
///
/// The Kafka tools and the load tool find the same Kafka with
/// `--data-dir <dir>`. The mock cluster keeps records in memory: restarting
/// the services starts an empty Kafka (the nodes must restart with it; the
/// PostgreSQL data stays).
///
///   distiller services up --data-dir var/cluster/services
///   distiller node --set node.services_dir=var/cluster/services --name n1

#include <string>
#include <variant>

#include "actors/node/node_config.hpp"

namespace distiller::node {

/// Where a running services process says its Kafka and PostgreSQL are.
struct service_endpoints {
  std::string kafka_bootstrap;
  std::string postgres_dsn;
};

/// Reads the endpoints from `dir`, or says why not in a sentence a user can
/// act on (no services there, or they stopped).
std::variant<service_endpoints, std::string>
read_services(const std::string& dir);

/// Sets kafka.brokers and postgres.dsn from `node.services_dir` where they
/// are empty; throws std::runtime_error with read_services' sentence.
void apply_services(node_config& cfg);

/// Runs the services until SIGINT/SIGTERM: takes the data directory's lock,
/// starts Kafka and PostgreSQL, writes the files above, prints them (when
/// `banner`), waits, stops both and removes the files. Returns the process
/// exit code (0, 1 when start-up failed, exit_data_dir_busy).
int run_services(node_config cfg, bool banner);

} // namespace distiller::node
