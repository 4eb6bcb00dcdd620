#include "bridges/postgres/pg_config.hpp"

namespace distiller::postgres {

void declare(config::schema& s, pg_config& cfg) {
  s.add_string("postgres.dsn", cfg.dsn,
               "libpq connection string or URI; empty starts a private "
               "cluster under data_dir.");
  s.alias_env("postgres.dsn", "DATABASE_URL");
  s.add_string("postgres.data_dir", cfg.data_dir,
               "Data directory of the private cluster; empty means "
               "<node.data_dir>/pg.");
  s.add_string("postgres.socket_dir", cfg.socket_dir,
               "Unix-socket directory of the private cluster; empty means "
               "<node.data_dir>/run.");
  s.add_int("postgres.port", cfg.port, 1, 65535,
            "Port number of the private cluster (names its unix socket).");
  s.add_string("postgres.database", cfg.database,
               "Database used by the node (created in the private cluster).");
  s.add_int("postgres.pool_size", cfg.pool_size, 1, 256,
            "Connections in the node's PostgreSQL pool.");
  s.add_duration("postgres.start_timeout", cfg.start_timeout,
                 std::chrono::milliseconds{100},
                 "How long to wait for the private cluster to start.");
  s.add_bool("postgres.restart", cfg.restart,
             "Start the private cluster again (with backoff) when it exits; "
             "requests meanwhile answer 503 at once.");
}

} // namespace distiller::postgres
