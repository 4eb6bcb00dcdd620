#include "bridges/postgres/migrations.hpp"

#include <cstdio>
#include <map>
#include <stdexcept>

#include <pqxx/pqxx>

#include "bridges/postgres/schema/0001_document_pipeline.hpp"
#include "bridges/postgres/schema/0002_thought_pipeline.hpp"
#include "bridges/postgres/schema/0003_outbox.hpp"
#include "bridges/postgres/schema/0004_thought_events.hpp"
#include "bridges/postgres/schema/0005_cluster_members.hpp"
#include "bridges/postgres/schema/0006_chunk_sections.hpp"
#include "bridges/postgres/schema/0007_index_snapshots.hpp"
#include "bridges/postgres/schema/0008_drop_chunk_tsv.hpp"
#include "runtime/logging/log.hpp"

namespace distiller::postgres {

namespace {

// -- SQL ----------------------------------------------------------------------

/// Serializes migrations across nodes until the end of each transaction; the
/// key is "distillr" in ASCII, unlikely to collide with anyone else's lock.
constexpr long long migration_lock_key = 0x64697374696c6c72;

constexpr const char* lock_sql = "SELECT pg_advisory_xact_lock($1)";

constexpr const char* create_table_sql = R"sql(
CREATE TABLE IF NOT EXISTS schema_migrations (
  version    integer PRIMARY KEY CHECK (version > 0),
  name       text NOT NULL,
  checksum   text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
))sql";

constexpr const char* table_exists_sql =
    "SELECT to_regclass('schema_migrations') IS NOT NULL";

/// Checksums are SHA-256 of the migration's text, computed by the server.
constexpr const char* applied_sql = R"sql(
SELECT version, name, checksum,
       encode(sha256(convert_to($1, 'UTF8')), 'hex') AS expected
FROM schema_migrations WHERE version = $2)sql";

constexpr const char* versions_sql =
    "SELECT version, name FROM schema_migrations ORDER BY version";

constexpr const char* is_applied_sql =
    "SELECT 1 FROM schema_migrations WHERE version = $1";

constexpr const char* record_sql = R"sql(
INSERT INTO schema_migrations (version, name, checksum)
VALUES ($1, $2, encode(sha256(convert_to($3, 'UTF8')), 'hex')))sql";

constexpr const char* max_version_sql =
    "SELECT coalesce(max(version), 0) FROM schema_migrations";

std::string label(const migration& m) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%04d_", m.version);
  return buf + m.name;
}

/// Creates the bookkeeping table and checks what is applied against the
/// code; returns the versions already applied.
std::map<int, std::string> check_applied(pqxx::connection& conn) {
  pqxx::work tx{conn, "distiller_migrate_check"};
  tx.exec_params(lock_sql, migration_lock_key);
  tx.exec0(create_table_sql);
  std::map<int, std::string> applied;
  for (const auto& row : tx.exec(versions_sql))
    applied.emplace(row[0].as<int>(), row[1].as<std::string>());
  const auto& code = all_migrations();
  for (const auto& m : code) {
    auto rows = tx.exec_params(applied_sql, m.sql, m.version);
    if (rows.empty())
      continue;
    auto recorded = rows[0]["checksum"].as<std::string>();
    auto expected = rows[0]["expected"].as<std::string>();
    if (recorded != expected)
      throw std::runtime_error(
          "schema migration " + label(m) + " was applied with checksum " +
          recorded + " but the code's is " + expected +
          ": an applied migration must never be edited; restore its text and "
          "put the change into a new migration");
  }
  auto newest = code.empty() ? 0 : code.back().version;
  if (!applied.empty() && applied.rbegin()->first > newest)
    log::warn("pg_schema_newer",
              {{"schema_version", applied.rbegin()->first},
               {"known_version", newest},
               {"hint", "a newer release migrated this database"}});
  tx.commit();
  return applied;
}

/// Applies one migration unless another node did so since we looked.
bool apply(pqxx::connection& conn, const migration& m) {
  pqxx::work tx{conn, "distiller_migrate"};
  tx.exec_params(lock_sql, migration_lock_key);
  if (!tx.exec_params(is_applied_sql, m.version).empty())
    return false;
  try {
    tx.exec(m.sql);
  } catch (const pqxx::sql_error& e) {
    log::error("pg_migration_failed",
               {{"migration", label(m)}, {"error", e.what()}});
    throw;
  }
  tx.exec_params0(record_sql, m.version, m.name, m.sql);
  tx.commit();
  log::info("pg_migration_applied",
            {{"migration", label(m)}, {"version", m.version}});
  return true;
}

} // namespace

const std::vector<migration>& all_migrations() {
  static const std::vector<migration> migrations{
      {1, "document_pipeline", schema::v0001_document_pipeline},
      {2, "thought_pipeline", schema::v0002_thought_pipeline},
      {3, "outbox", schema::v0003_outbox},
      {4, "thought_events", schema::v0004_thought_events},
      {5, "cluster_members", schema::v0005_cluster_members},
      {6, "chunk_sections", schema::v0006_chunk_sections},
      {7, "index_snapshots", schema::v0007_index_snapshots},
      {8, "drop_chunk_tsv", schema::v0008_drop_chunk_tsv},
  };
  return migrations;
}

int migrate(pqxx::connection& conn) {
  auto applied = check_applied(conn);
  int count = 0;
  for (const auto& m : all_migrations())
    if (!applied.contains(m.version) && apply(conn, m))
      ++count;
  return count;
}

int schema_version(pqxx::connection& conn) {
  pqxx::read_transaction tx{conn, "distiller_schema_version"};
  if (!tx.exec1(table_exists_sql)[0].as<bool>())
    return 0;
  return tx.exec1(max_version_sql)[0].as<int>();
}

} // namespace distiller::postgres
