#pragma once

#include <string>
#include <vector>

#include <pqxx/connection>

/// Versioned schema migrations. The schema lives in the code (one file per
/// migration under bridges/postgres/schema/), is applied by every node at
/// start-up and recorded in `schema_migrations`.
///
/// Rules: an applied migration is never edited (migrate() compares checksums
/// and refuses); a change is a new migration with the next version; a
/// migration must leave the schema usable by the previous release (add
/// columns and tables, do not rename or drop in the same release), because
/// nodes of both releases run side by side during a rolling upgrade.
namespace distiller::postgres {

struct migration {
  int version;
  std::string name;
  std::string sql;
};

/// Every migration, ordered by strictly increasing version.
const std::vector<migration>& all_migrations();

/// Applies pending migrations in order, each in its own transaction, recording
/// them in schema_migrations(version, name, applied_at, checksum). Takes a
/// transaction-scoped advisory lock so two nodes starting together don't race.
/// Returns how many were applied. Refuses (throws std::runtime_error) if an
/// applied migration's checksum differs from the code's (someone edited an
/// applied migration). A database that has versions this binary does not
/// know (a newer release migrated it) is left alone with a warning.
/// SQL errors propagate as pqxx exceptions, with the failed migration rolled
/// back and named in the log (event=pg_migration_failed).
int migrate(pqxx::connection& conn);

/// The highest applied version, 0 for an empty database.
int schema_version(pqxx::connection& conn);

} // namespace distiller::postgres
