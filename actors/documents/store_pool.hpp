#pragma once

/// The document store's connections: a postgres::connection_pool named
/// "document_store" (bridges/postgres/pool.hpp).

#include "bridges/postgres/pool.hpp"

namespace distiller::documents {

using store_pool = postgres::connection_pool;

} // namespace distiller::documents
