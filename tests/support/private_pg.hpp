#pragma once

/// The configuration of a private PostgreSQL cluster for a test suite: data
/// in <dir>/pg, a unix socket in <dir>/run (port 5432 only names the socket
/// inside that directory), database "distiller", a generous start timeout
/// for a loaded machine. Pure function.

#include <filesystem>

#include "bridges/postgres/pg_config.hpp"

namespace distiller::testing {

postgres::pg_config private_pg_config(const std::filesystem::path& dir);

} // namespace distiller::testing
