#include "private_pg.hpp"

namespace distiller::testing {

postgres::pg_config private_pg_config(const std::filesystem::path& dir) {
  postgres::pg_config cfg;
  cfg.data_dir = (dir / "pg").string();
  cfg.socket_dir = (dir / "run").string();
  cfg.port = 5432;
  cfg.database = "distiller";
  cfg.start_timeout = std::chrono::seconds(60);
  return cfg;
}

} // namespace distiller::testing
