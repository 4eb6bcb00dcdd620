#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <sys/types.h>

#include "bridges/postgres/pg_config.hpp"

/// A private PostgreSQL cluster that the node starts itself (the default when
/// `postgres.dsn` is empty): `initdb` once into `data_dir`, then `pg_ctl start`
/// with a server that listens only on a unix socket in `socket_dir` (no TCP),
/// and the node's database created if missing.
///
/// Who runs the server: PostgreSQL refuses to run as root, so when the process
/// is root, `data_dir` and `socket_dir` are handed to the `postgres` user and
/// every command runs through `runuser -u postgres --`; otherwise commands run
/// as the current user. Authentication is `trust`, which is safe only because
/// the socket is mode 0700: root and the server's user are the only clients.
///
/// Where things go:
///   <data_dir>/server.log      the server's log (pg_ctl -l), appended to
///   <data_dir>/distiller.conf  the settings this class writes before each
///                              start (included from postgresql.conf)
///   <socket_dir>/.s.PGSQL.<port>
///
/// A server left running by an earlier process (the node crashed or was
/// killed) is *reused* when its postmaster.pid names a live postgres serving
/// the same socket dir and port; this object then did not start it and its
/// destructor leaves it running (stop() still stops it). A postmaster.pid or
/// socket lock file naming a dead process is removed and does not block start.
///
/// Failures throw std::runtime_error naming the command, its exit code and
/// the tail of its stderr (and of server.log when the server did not come
/// up). Blocking: every call waits for child processes; call it from a thread
/// that may block, not from CAF's scheduler. Not thread-safe.
namespace distiller::embedded {

class pg_cluster {
 public:
  struct options {
    /// initdb --no-sync and fsync=off: fast, and loses data on a power cut.
    /// For tests only.
    bool no_sync = false;
  };

  explicit pg_cluster(postgres::pg_config cfg);
  pg_cluster(postgres::pg_config cfg, options opts);
  ~pg_cluster();

  pg_cluster(const pg_cluster&) = delete;
  pg_cluster& operator=(const pg_cluster&) = delete;

  /// Initializes (once), starts or reuses the server and creates the
  /// database. Does nothing if the server is already running.
  void start();

  /// Stops the server (`pg_ctl stop -m fast -w`), also one this object
  /// reused. Does nothing if no server runs on data_dir.
  void stop();

  /// Whether a live postmaster serves data_dir (whoever started it).
  bool running() const;

  /// libpq connection string for the node's database.
  std::string dsn() const;

  /// libpq connection string for the `postgres` maintenance database.
  std::string admin_dsn() const;

  const std::filesystem::path& data_dir() const noexcept { return data_dir_; }
  const std::filesystem::path& socket_dir() const noexcept {
    return socket_dir_;
  }
  std::filesystem::path log_file() const { return data_dir_ / "server.log"; }

  /// The pid in data_dir/postmaster.pid if that process is alive, else 0.
  pid_t postmaster_pid() const;

 private:
  // -- steps of start()
  // --------------------------------------------------------

  void locate_tools();
  void prepare_directories();
  void initdb();
  void write_settings();
  bool reuse_running_server();
  void remove_stale_lock_files();
  void start_server();
  void create_database();

  std::string conninfo(const std::string& dbname) const;

  /// argv for one of PostgreSQL's programs, wrapped in runuser when root.
  std::vector<std::string> command(const char* program,
                                   std::vector<std::string> args) const;

  postgres::pg_config cfg_;
  options opts_;
  std::filesystem::path data_dir_;
  std::filesystem::path socket_dir_;
  std::filesystem::path bin_dir_;
  /// Whether we are root and run PostgreSQL as the `postgres` user.
  bool as_root_ = false;
  uid_t server_uid_ = 0;
  gid_t server_gid_ = 0;
  std::filesystem::path runuser_;
  /// Whether this object started the server (the destructor stops it then).
  bool started_ = false;
  /// Whether start() completed (and stop() was not called since).
  bool up_ = false;
};

} // namespace distiller::embedded
