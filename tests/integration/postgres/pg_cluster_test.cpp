#include "bridges/embedded/pg_cluster.hpp"

#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "actors/node/pg_keeper.hpp"
#include "bridges/postgres/connection.hpp"
#include "bridges/postgres/migrations.hpp"
#include "bridges/postgres/pool.hpp"
#include "runtime/logging/log.hpp"
#include "tests/support/log_capture.hpp"
#include "tests/support/private_pg.hpp"
#include "tests/support/testing.hpp"

using namespace std::chrono_literals;
using distiller::embedded::pg_cluster;
namespace pg = distiller::postgres;
namespace fs = std::filesystem;

namespace {

// -- SQL used by the tests ----------------------------------------------------

constexpr const char* insert_job_sql = R"sql(
INSERT INTO document_jobs (job_id, filename, file_size, status)
VALUES ($1, $2, $3, $4))sql";

constexpr const char* insert_chunk_sql = R"sql(
INSERT INTO document_chunks (job_id, chunk_index, text, char_count)
VALUES ($1, $2, $3, length($3)) RETURNING chunk_id)sql";

/// The embedder's fan-in step: the chunk counts only on its first embedding.
constexpr const char* embed_chunk_sql = R"sql(
UPDATE document_chunks
SET status = 'embedded', embedding = $2::real[], embedded_at = now()
WHERE chunk_id = $1 AND status <> 'embedded'
RETURNING job_id)sql";

constexpr const char* advance_job_sql = R"sql(
UPDATE document_jobs SET processed_chunks = processed_chunks + 1
WHERE job_id = $1)sql";

constexpr const char* table_names_sql = R"sql(
SELECT string_agg(table_name, ',' ORDER BY table_name)
FROM information_schema.tables WHERE table_schema = 'public')sql";

constexpr const char* chunk_indexes_sql = R"sql(
SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes
WHERE tablename = 'document_chunks')sql";

constexpr const char* tsv_columns_sql = R"sql(
SELECT count(*) FROM information_schema.columns
WHERE table_name = 'document_chunks' AND column_name = 'tsv')sql";

std::string uuid() {
  return distiller::make_uuid();
}

pg::pg_config config_in(const fs::path& dir) {
  return distiller::testing::private_pg_config(dir);
}

using log_capture = distiller::testing::log_capture;

} // namespace

// -- one private cluster for the suite ----------------------------------------

class pg_cluster_test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<distiller::testing::temp_dir>("distiller-pg");
    cluster_ = std::make_unique<pg_cluster>(config_in(dir_->path()),
                                            pg_cluster::options{true});
    cluster_->start();
    auto conn = pg::connect(cluster_->dsn(), 10s);
    pg::migrate(*conn);
  }

  static void TearDownTestSuite() {
    // Stop before the directory goes away.
    if (cluster_)
      cluster_->stop();
    cluster_.reset();
    dir_.reset();
  }

  void SetUp() override {
    if (!cluster_->running())
      cluster_->start();
    conn_ = pg::connect(cluster_->dsn(), 10s);
  }

  /// A fresh, empty database on the shared cluster.
  std::string fresh_database(const std::string& name) {
    auto admin = pg::connect(cluster_->admin_dsn(), 10s);
    pqxx::nontransaction tx{*admin};
    tx.exec0("DROP DATABASE IF EXISTS " + admin->quote_name(name));
    tx.exec0("CREATE DATABASE " + admin->quote_name(name));
    auto dsn = cluster_->dsn();
    return dsn.replace(dsn.find("dbname=distiller"), 16, "dbname=" + name);
  }

  std::string insert_job(const std::string& status = "pending") {
    auto id = uuid();
    pqxx::work tx{*conn_};
    tx.exec_params0(insert_job_sql, id, "notes.txt", 1943, status);
    tx.commit();
    return id;
  }

  static std::unique_ptr<distiller::testing::temp_dir> dir_;
  static std::unique_ptr<pg_cluster> cluster_;
  std::unique_ptr<pqxx::connection> conn_;
};

std::unique_ptr<distiller::testing::temp_dir> pg_cluster_test::dir_;
std::unique_ptr<pg_cluster> pg_cluster_test::cluster_;

// -- the cluster --------------------------------------------------------------

TEST_F(pg_cluster_test, starts_from_nothing_on_a_unix_socket_only) {
  EXPECT_TRUE(cluster_->running());
  EXPECT_TRUE(fs::exists(cluster_->data_dir() / "PG_VERSION"));
  EXPECT_TRUE(fs::exists(cluster_->socket_dir() / ".s.PGSQL.5432"));
  EXPECT_TRUE(fs::exists(cluster_->log_file()));
  EXPECT_NE(cluster_->dsn().find("host=" + cluster_->socket_dir().string()),
            std::string::npos);
  pqxx::read_transaction tx{*conn_};
  EXPECT_EQ(tx.exec1("SELECT current_database()")[0].as<std::string>(),
            "distiller");
  EXPECT_EQ(tx.exec1("SHOW listen_addresses")[0].as<std::string>(), "");
  EXPECT_EQ(tx.exec1("SHOW server_encoding")[0].as<std::string>(), "UTF8");
  EXPECT_EQ(tx.exec1("SELECT current_user")[0].as<std::string>(), "postgres");
  if (::geteuid() == 0) {
    struct stat st {};
    ASSERT_EQ(::stat(cluster_->data_dir().c_str(), &st), 0);
    EXPECT_NE(st.st_uid, 0u) << "the server must not own files as root";
  }
}

TEST_F(pg_cluster_test, start_is_idempotent) {
  auto pid = cluster_->postmaster_pid();
  ASSERT_NE(pid, 0);
  cluster_->start();
  EXPECT_EQ(cluster_->postmaster_pid(), pid);
}

TEST_F(pg_cluster_test, a_second_object_reuses_a_running_server) {
  auto pid = cluster_->postmaster_pid();
  {
    pg_cluster other{config_in(dir_->path())};
    other.start(); // postmaster.pid is alive: reused, not started
    EXPECT_EQ(other.postmaster_pid(), pid);
    auto conn = pg::connect(other.dsn(), 10s);
    EXPECT_TRUE(conn->is_open());
  }
  // It did not start the server, so its destructor left it running.
  EXPECT_EQ(cluster_->postmaster_pid(), pid);
}

TEST_F(pg_cluster_test, restart_reuses_the_data_dir_and_keeps_data) {
  auto job = insert_job();
  conn_.reset();
  log_capture logs;
  cluster_->stop();
  EXPECT_FALSE(cluster_->running());
  EXPECT_FALSE(fs::exists(cluster_->data_dir() / "postmaster.pid"));
  EXPECT_TRUE(logs.contains("event=pg_stopped"));
  cluster_->stop(); // idempotent
  cluster_->start();
  EXPECT_TRUE(cluster_->running());
  EXPECT_TRUE(logs.contains("event=pg_started"));
  EXPECT_FALSE(logs.contains("event=pg_initdb"));
  conn_ = pg::connect(cluster_->dsn(), 10s);
  pqxx::read_transaction tx{*conn_};
  auto rows = tx.exec_params("SELECT filename FROM document_jobs "
                             "WHERE job_id = $1",
                             job);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0].as<std::string>(), "notes.txt");
}

TEST_F(pg_cluster_test, stale_pid_file_of_a_dead_process_does_not_block) {
  conn_.reset();
  cluster_->stop();
  // A pid that surely is no postgres: a child that has exited and was reaped.
  pid_t dead = ::fork();
  if (dead == 0)
    ::_exit(0);
  ::waitpid(dead, nullptr, 0);
  auto pid_file = cluster_->data_dir() / "postmaster.pid";
  distiller::testing::write_file(
      pid_file, std::to_string(dead) + "\n" + cluster_->data_dir().string() +
                    "\n1700000000\n5432\n" + cluster_->socket_dir().string() +
                    "\n\n  5432001   1\nready   \n");
  distiller::testing::write_file(cluster_->socket_dir() / ".s.PGSQL.5432.lock",
                                 std::to_string(dead) + "\n");
  EXPECT_FALSE(cluster_->running());
  log_capture logs;
  cluster_->start();
  EXPECT_TRUE(cluster_->running());
  EXPECT_NE(cluster_->postmaster_pid(), dead);
  EXPECT_TRUE(logs.contains("event=pg_stale_pid"));
}

TEST_F(pg_cluster_test, destructor_stops_a_cluster_it_started) {
  conn_.reset();
  cluster_->stop();
  pid_t pid = 0;
  {
    pg_cluster owner{config_in(dir_->path()), pg_cluster::options{true}};
    owner.start();
    pid = owner.postmaster_pid();
    ASSERT_NE(pid, 0);
  }
  EXPECT_FALSE(fs::exists(dir_->path() / "pg" / "postmaster.pid"));
  EXPECT_TRUE(distiller::testing::wait_until(
      [&] { return ::kill(pid, 0) != 0 || cluster_->postmaster_pid() == 0; },
      10s));
  EXPECT_FALSE(cluster_->running());
}

TEST_F(pg_cluster_test, initdb_failure_names_the_command_and_its_stderr) {
  distiller::testing::temp_dir dir{"distiller-pg-bad"};
  auto cfg = config_in(dir.path());
  fs::create_directories(cfg.data_dir);
  distiller::testing::write_file(fs::path{cfg.data_dir} / "junk", "x");
  if (::geteuid() == 0) {
    auto* pw = ::getpwnam("postgres");
    ASSERT_NE(pw, nullptr);
    ASSERT_EQ(::chown(cfg.data_dir.c_str(), pw->pw_uid, pw->pw_gid), 0);
  }
  pg_cluster bad{cfg};
  try {
    bad.start();
    FAIL() << "initdb into a non-empty directory must fail";
  } catch (const std::runtime_error& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("initdb"), std::string::npos) << what;
    EXPECT_NE(what.find("exit code"), std::string::npos) << what;
    EXPECT_NE(what.find("not empty"), std::string::npos) << what;
  }
  EXPECT_FALSE(bad.running());
}

TEST_F(pg_cluster_test, unreachable_data_dir_is_refused_with_advice) {
  if (::geteuid() != 0)
    GTEST_SKIP() << "only root hands directories to the postgres user";
  distiller::testing::temp_dir dir{"distiller-pg-locked"};
  auto locked = dir.path() / "locked";
  fs::create_directory(locked);
  fs::permissions(locked, fs::perms::owner_all);
  auto cfg = config_in(locked);
  pg_cluster cluster{cfg};
  try {
    cluster.start();
    FAIL() << "a data_dir below a 0700 root directory must be refused";
  } catch (const std::runtime_error& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("cannot reach"), std::string::npos) << what;
    EXPECT_NE(what.find("chmod o+x " + locked.string()), std::string::npos)
        << what;
  }
  // It did not chmod the directory behind the user's back.
  EXPECT_EQ(fs::status(locked).permissions(), fs::perms::owner_all);
}

TEST_F(pg_cluster_test, too_long_socket_path_is_refused) {
  auto cfg = config_in(dir_->path());
  cfg.socket_dir = "/tmp/" + std::string(120, 's');
  pg_cluster cluster{cfg};
  try {
    cluster.start();
    FAIL() << "sun_path holds 107 bytes";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string{e.what()}.find("socket_dir"), std::string::npos);
  }
}

// -- migrations ---------------------------------------------------------------

TEST_F(pg_cluster_test, migrations_apply_once_in_order) {
  const auto& all = pg::all_migrations();
  ASSERT_FALSE(all.empty());
  for (size_t i = 1; i < all.size(); ++i)
    EXPECT_LT(all[i - 1].version, all[i].version);
  auto conn = pg::connect(fresh_database("migrate_once"), 10s);
  EXPECT_EQ(pg::schema_version(*conn), 0);
  EXPECT_EQ(pg::migrate(*conn), static_cast<int>(all.size()));
  EXPECT_EQ(pg::migrate(*conn), 0);
  EXPECT_EQ(pg::schema_version(*conn), all.back().version);
  pqxx::read_transaction tx{*conn};
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM schema_migrations")[0].as<size_t>(),
            all.size());
}

TEST_F(pg_cluster_test, concurrent_migrations_do_not_race) {
  auto dsn = fresh_database("migrate_race");
  std::atomic<int> applied{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> nodes;
  for (int i = 0; i < 3; ++i)
    nodes.emplace_back([&] {
      try {
        auto conn = pg::connect(dsn, 10s);
        applied += pg::migrate(*conn);
      } catch (const std::exception& e) {
        ADD_FAILURE() << e.what();
        ++failures;
      }
    });
  for (auto& t : nodes)
    t.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(applied, static_cast<int>(pg::all_migrations().size()));
}

TEST_F(pg_cluster_test, edited_migration_is_refused) {
  auto conn = pg::connect(fresh_database("migrate_edited"), 10s);
  pg::migrate(*conn);
  {
    pqxx::work tx{*conn};
    tx.exec0("UPDATE schema_migrations SET checksum = 'edited' "
             "WHERE version = 1");
    tx.commit();
  }
  try {
    pg::migrate(*conn);
    FAIL() << "a changed checksum must stop migrate()";
  } catch (const std::runtime_error& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("0001_document_pipeline"), std::string::npos) << what;
    EXPECT_NE(what.find("checksum"), std::string::npos) << what;
  }
}

TEST_F(pg_cluster_test, newer_schema_is_left_alone) {
  auto conn = pg::connect(fresh_database("migrate_newer"), 10s);
  pg::migrate(*conn);
  {
    pqxx::work tx{*conn};
    tx.exec0("INSERT INTO schema_migrations (version, name, checksum) "
             "VALUES (9999, 'from_the_future', 'x')");
    tx.commit();
  }
  log_capture logs;
  EXPECT_EQ(pg::migrate(*conn), 0);
  EXPECT_EQ(pg::schema_version(*conn), 9999);
  EXPECT_TRUE(logs.contains("event=pg_schema_newer"));
}

// -- the schema ---------------------------------------------------------------

TEST_F(pg_cluster_test, tables_and_indexes_exist) {
  pqxx::read_transaction tx{*conn_};
  EXPECT_EQ(tx.exec1(table_names_sql)[0].as<std::string>(),
            "cluster_members,database_identity,document_chunks,document_files,"
            "document_jobs,outbox,"
            "processed_records,schema_migrations,thought_events,thoughts,"
            "users");
  // Migration 8 dropped the full-text column and its GIN index; 7 added
  // the snapshots' embedded_at index.
  EXPECT_EQ(tx.exec1(chunk_indexes_sql)[0].as<std::string>(),
            "document_chunks_embedded_at_idx,document_chunks_embedded_idx,"
            "document_chunks_job_chunk_key,document_chunks_pkey,"
            "document_chunks_vector_id_key");
  EXPECT_EQ(tx.exec1(tsv_columns_sql)[0].as<int>(), 0);
  // The database's identity: one row.
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM database_identity")[0].as<int>(), 1);
}

TEST_F(pg_cluster_test, constraints_reject_invalid_rows) {
  EXPECT_THROW(insert_job("bogus"), pqxx::check_violation);
  EXPECT_THROW(insert_job("failed"), pqxx::check_violation); // no error text
  auto job = insert_job();
  {
    pqxx::work tx{*conn_};
    EXPECT_THROW(tx.exec_params(insert_chunk_sql, uuid(), 0, "orphan"),
                 pqxx::foreign_key_violation);
  }
  {
    pqxx::work tx{*conn_};
    tx.exec_params(insert_chunk_sql, job, 0, "first");
    EXPECT_THROW(tx.exec_params(insert_chunk_sql, job, 0, "again"),
                 pqxx::unique_violation);
  }
  {
    pqxx::work tx{*conn_};
    auto user = uuid();
    tx.exec_params0("INSERT INTO users (user_id) VALUES ($1)", user);
    EXPECT_THROW(tx.exec_params0("INSERT INTO thoughts (user_id, text, status) "
                                 "VALUES ($1, 'hi', 'done')",
                                 user),
                 pqxx::check_violation);
  }
  {
    pqxx::work tx{*conn_};
    EXPECT_THROW(tx.exec_params0("INSERT INTO thoughts (user_id, text) "
                                 "VALUES ($1, 'hi')",
                                 uuid()),
                 pqxx::foreign_key_violation);
  }
  {
    pqxx::work tx{*conn_};
    EXPECT_THROW(tx.exec0("INSERT INTO outbox (topic, payload, headers) "
                          "VALUES ('t', 'x', '[1]')"),
                 pqxx::check_violation);
  }
}

TEST_F(pg_cluster_test, chunk_fan_in_counts_each_chunk_once) {
  auto job = insert_job("embedding");
  std::vector<std::string> chunks;
  {
    pqxx::work tx{*conn_};
    tx.exec_params0("UPDATE document_jobs SET total_chunks = 2 "
                    "WHERE job_id = $1",
                    job);
    for (int i = 0; i < 2; ++i)
      chunks.push_back(tx.exec_params1(insert_chunk_sql, job, i, "text")[0]
                           .as<std::string>());
    tx.commit();
  }
  // Chunk 0 is delivered twice (a retry after a crash), chunk 1 once.
  for (const auto& chunk : {chunks[0], chunks[0], chunks[1]}) {
    pqxx::work tx{*conn_};
    if (!tx.exec_params(embed_chunk_sql, chunk, "{0.5,0.25}").empty())
      tx.exec_params0(advance_job_sql, job);
    tx.commit();
  }
  pqxx::read_transaction tx{*conn_};
  EXPECT_EQ(tx.exec_params1("SELECT processed_chunks FROM document_jobs "
                            "WHERE job_id = $1",
                            job)[0]
                .as<int>(),
            2);
}

TEST_F(pg_cluster_test, updated_at_follows_updates) {
  auto job = insert_job();
  // The trigger stamps the update's transaction time, which is later than
  // the insert's.
  pqxx::work tx{*conn_};
  tx.exec_params0("UPDATE document_jobs SET status = 'processing' "
                  "WHERE job_id = $1",
                  job);
  EXPECT_TRUE(tx.exec_params1("SELECT updated_at > created_at "
                              "FROM document_jobs WHERE job_id = $1",
                              job)[0]
                  .as<bool>());
}

// -- connecting ---------------------------------------------------------------

TEST(pg_connect, gives_up_at_the_deadline_without_showing_the_password) {
  auto start = std::chrono::steady_clock::now();
  try {
    pg::connect("host=/nonexistent/socket port=1 dbname=x user=u "
                "password=secret",
                300ms);
    FAIL() << "nothing listens there";
  } catch (const std::runtime_error& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("host=/nonexistent/socket"), std::string::npos) << what;
    EXPECT_EQ(what.find("secret"), std::string::npos) << what;
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST(pg_connect, redacts_passwords_in_both_dsn_forms) {
  EXPECT_EQ(pg::redact_dsn("host=h password=secret user=u"),
            "host=h password=*** user=u");
  EXPECT_EQ(pg::redact_dsn("host=h password = 'se cr\\'et' user=u"),
            "host=h password = *** user=u");
  EXPECT_EQ(pg::redact_dsn("postgresql://u:secret@h:5432/db?sslmode=off"),
            "postgresql://u:***@h:5432/db?sslmode=off");
  EXPECT_EQ(pg::redact_dsn("postgres://h/db?password=secret&x=1"),
            "postgres://h/db?password=***&x=1");
  EXPECT_EQ(pg::redact_dsn("postgresql://u@h/db"), "postgresql://u@h/db");
}

// -- outages: the pool's down state and the keeper ----------------------------

TEST_F(pg_cluster_test, pool_fails_fast_while_the_server_is_down) {
  conn_.reset();
  pg::connection_pool pool{"outage_store", cluster_->dsn(), 2, 10s,
                           [](pqxx::connection&) {
                           }};
  pool.set_probe_interval(50ms);
  auto select1 = [&] {
    return pool.run("select", [](pqxx::work& tx) {
      return tx.exec1("SELECT 1")[0].as<int>();
    });
  };
  ASSERT_EQ(select1(), 1);
  EXPECT_FALSE(pool.down());
  cluster_->stop();
  // The idle connection breaks: that caller learns it, the pool is down.
  EXPECT_THROW(select1(), pg::db_error);
  EXPECT_TRUE(pool.down());
  // Everyone after fails at once (the old code waited connect_timeout,
  // 10 s here, per call), with a retryable error that says why.
  using steady = std::chrono::steady_clock;
  std::chrono::duration<double> worst{0};
  for (int i = 0; i < 20; ++i) {
    auto t0 = steady::now();
    try {
      select1();
      ADD_FAILURE() << "a query succeeded with the server stopped";
    } catch (const pg::db_error& e) {
      EXPECT_TRUE(e.retryable());
      EXPECT_NE(std::string{e.what()}.find("outage_store.select"),
                std::string::npos)
          << e.what();
    }
    worst = std::max<std::chrono::duration<double>>(worst, steady::now() - t0);
  }
  std::printf("slowest of 20 calls while down: %.1f ms\n", worst.count() * 1e3);
  EXPECT_LT(worst.count(), 5.0); // far below connect_timeout (10 s)
  cluster_->start();
  // Back at the next probe.
  EXPECT_TRUE(distiller::testing::wait_until(
      [&] {
        try {
          return select1() == 1;
        } catch (const pg::db_error&) {
          return false;
        }
      },
      10s, 20ms));
  EXPECT_FALSE(pool.down());
}

TEST_F(pg_cluster_test, keeper_starts_a_killed_server_again) {
  conn_.reset();
  log_capture logs;
  distiller::node::pg_keeper keeper{*cluster_, {100ms, 50ms, 1s}, nullptr};
  auto pid = cluster_->postmaster_pid();
  ASSERT_NE(pid, 0);
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  // Its orphaned backends may hold the shared memory for a moment: the
  // keeper retries with backoff until the server starts.
  ASSERT_TRUE(distiller::testing::wait_until(
      [&] { return keeper.restarts() == 1 && cluster_->running(); }, 60s, 50ms))
      << "restarts " << keeper.restarts() << ", failures " << keeper.failures();
  EXPECT_NE(cluster_->postmaster_pid(), pid);
  EXPECT_TRUE(logs.contains("event=postgres_exited"));
  EXPECT_TRUE(logs.contains("event=postgres_restarted"));
  auto conn = pg::connect(cluster_->dsn(), 10s);
  pqxx::nontransaction tx{*conn};
  EXPECT_EQ(tx.exec1("SELECT 1")[0].as<int>(), 1);
  EXPECT_EQ(keeper.restarts(), 1u);
  // stop() joins the keeper's thread: nothing restarts a server stopped
  // after it (the node stops its PostgreSQL after its keeper).
  keeper.stop();
}
