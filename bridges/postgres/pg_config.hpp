#pragma once

#include <chrono>
#include <string>

#include "runtime/config/schema.hpp"

namespace distiller::postgres {

/// [postgres]: which PostgreSQL the node uses.
struct pg_config {
  /// libpq connection string or URI; empty = start a private cluster.
  std::string dsn;
  /// Data directory of the private cluster (initdb runs once into it);
  /// empty means `<node.data_dir>/pg`.
  std::string data_dir;
  /// Directory of the private cluster's unix socket; empty means
  /// `<node.data_dir>/run`.
  std::string socket_dir;
  /// Port number of the private cluster (names its socket; no TCP listener).
  int port = 5432;
  /// Database the node uses (created in the private cluster if missing).
  std::string database = "distiller";
  /// Connections of the node's pool.
  int pool_size = 4;
  /// How long to wait for the private cluster to accept connections.
  std::chrono::milliseconds start_timeout{60000};
  /// Restart the private cluster when it exits (actors/node/pg_keeper.hpp).
  bool restart = true;
};

void declare(config::schema& s, pg_config& cfg);

} // namespace distiller::postgres
