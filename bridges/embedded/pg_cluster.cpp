#include "bridges/embedded/pg_cluster.hpp"

#include <fcntl.h>
#include <grp.h>
#include <locale.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <pqxx/pqxx>

#include "bridges/embedded/command.hpp"
#include "bridges/embedded/pg_files.hpp"
#include "bridges/postgres/connection.hpp"
#include "runtime/logging/log.hpp"

extern char** environ;

namespace distiller::embedded {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

using pg_detail::check_plain;
using pg_detail::check_traversable;
using pg_detail::conninfo_value;
using pg_detail::create_dirs;
using pg_detail::fail;
using pg_detail::find_bin_dir;
using pg_detail::find_in_path;
using pg_detail::identity_of;
using pg_detail::is_executable;
using pg_detail::octal_mode;
using pg_detail::permits;
using pg_detail::postgres_alive;
using pg_detail::read_pid_file;
using pg_detail::write_text;

namespace {

// -- SQL ----------------------------------------------------------------------

constexpr const char* database_exists_sql =
    "SELECT 1 FROM pg_database WHERE datname = $1";

// CREATE DATABASE takes no parameters: the name is quoted with quote_name().
constexpr const char* create_database_sql = "CREATE DATABASE ";

/// SQLSTATEs of losing a CREATE DATABASE race against another node.
constexpr const char* duplicate_database = "42P04";
constexpr const char* unique_violation = "23505";

/// The line postgresql.conf needs to read our settings.
constexpr const char* include_line = "include_if_exists = 'distiller.conf'";

constexpr milliseconds initdb_timeout{300'000};
constexpr milliseconds stop_timeout{60'000};

// -- helpers ------------------------------------------------------------------

long long elapsed_ms(steady_clock::time_point since) {
  return std::chrono::duration_cast<milliseconds>(steady_clock::now() - since)
      .count();
}

std::string file_tail(const fs::path& path, size_t max = 2000) {
  std::ifstream in{path, std::ios::binary};
  std::ostringstream buf;
  buf << in.rdbuf();
  return tail(buf.str(), max);
}

// -- commands ---------------------------------------------------------------

/// Runs a command and throws unless it exits with 0; `extra` is appended to
/// the message (e.g. the server log's tail).
command_result run_checked(const std::vector<std::string>& argv,
                           milliseconds timeout,
                           const std::function<std::string()>& extra = {}) {
  auto result = run_command(argv, timeout);
  if (result.exit_code != 0) {
    auto msg = "`" + join(argv) + "` failed with exit code " +
               std::to_string(result.exit_code);
    if (auto err = tail(result.err); !err.empty())
      msg += "; stderr: " + err;
    else if (auto out = tail(result.out); !out.empty())
      msg += "; stdout: " + out;
    if (extra)
      msg += extra();
    fail(msg);
  }
  return result;
}

} // namespace

// -- construction -------------------------------------------------------------

namespace {

/// An empty directory would resolve to the working directory: refuse it
/// rather than initdb into the wrong place.
postgres::pg_config check_dirs(postgres::pg_config cfg) {
  if (cfg.data_dir.empty())
    fail("postgres.data_dir is empty (the node derives it from node.data_dir)");
  if (cfg.socket_dir.empty())
    fail("postgres.socket_dir is empty (the node derives it from "
         "node.data_dir)");
  return cfg;
}

} // namespace

pg_cluster::pg_cluster(postgres::pg_config cfg)
    : pg_cluster(std::move(cfg), options{}) {}

pg_cluster::pg_cluster(postgres::pg_config cfg, options opts)
    : cfg_(check_dirs(std::move(cfg))), opts_(opts),
      data_dir_(fs::absolute(cfg_.data_dir).lexically_normal()),
      socket_dir_(fs::absolute(cfg_.socket_dir).lexically_normal()) {
  // "var/run/" normalizes to "var/run/" with an empty last part.
  if (!data_dir_.has_filename())
    data_dir_ = data_dir_.parent_path();
  if (!socket_dir_.has_filename())
    socket_dir_ = socket_dir_.parent_path();
}

pg_cluster::~pg_cluster() {
  if (!started_)
    return;
  try {
    stop();
  } catch (const std::exception& e) {
    log::error("pg_stop_failed",
               {{"data_dir", data_dir_.string()}, {"error", e.what()}});
  }
}

// -- public API ---------------------------------------------------------------

void pg_cluster::start() {
  auto t0 = steady_clock::now();
  if (up_ && running())
    return;
  check_plain(data_dir_, "data_dir");
  check_plain(socket_dir_, "socket_dir");
  // The server's socket path must fit into sockaddr_un::sun_path.
  auto socket = socket_dir_ / (".s.PGSQL." + std::to_string(cfg_.port));
  if (socket.string().size() >= 108)
    fail("the socket path " + socket.string() + " is longer than 107 bytes; " +
         "choose a shorter postgres.socket_dir");
  locate_tools();
  prepare_directories();
  if (!fs::exists(data_dir_ / "PG_VERSION"))
    initdb();
  if (!reuse_running_server()) {
    remove_stale_lock_files();
    write_settings();
    start_server();
  }
  create_database();
  up_ = true;
  log::info("pg_started", {{"socket", socket.string()},
                           {"port", cfg_.port},
                           {"database", cfg_.database},
                           {"reused", !started_},
                           {"log", log_file().string()},
                           {"duration_ms", elapsed_ms(t0)}});
}

void pg_cluster::stop() {
  up_ = false;
  if (postmaster_pid() == 0) {
    started_ = false;
    return;
  }
  auto t0 = steady_clock::now();
  if (bin_dir_.empty())
    locate_tools();
  auto secs = std::to_string(stop_timeout.count() / 1000);
  auto result = run_command(command("pg_ctl", {"stop", "-D", data_dir_.string(),
                                               "-m", "fast", "-w", "-t", secs}),
                            stop_timeout + milliseconds{10'000});
  // pg_ctl fails if the server went away meanwhile: that is a stop, too.
  if (result.exit_code != 0 && postmaster_pid() != 0)
    fail("`pg_ctl stop` on " + data_dir_.string() + " failed with exit code " +
         std::to_string(result.exit_code) + ": " + tail(result.err));
  started_ = false;
  log::info("pg_stopped", {{"data_dir", data_dir_.string()},
                           {"duration_ms", elapsed_ms(t0)}});
}

bool pg_cluster::running() const {
  return postmaster_pid() != 0;
}

pid_t pg_cluster::postmaster_pid() const {
  auto info = read_pid_file(data_dir_ / "postmaster.pid");
  return info && postgres_alive(info->pid) ? info->pid : 0;
}

std::string pg_cluster::dsn() const {
  return conninfo(cfg_.database);
}

std::string pg_cluster::admin_dsn() const {
  return conninfo("postgres");
}

std::string pg_cluster::conninfo(const std::string& dbname) const {
  return "host=" + conninfo_value(socket_dir_.string()) +
         " port=" + std::to_string(cfg_.port) +
         " dbname=" + conninfo_value(dbname) + " user=postgres";
}

// -- steps of start() ---------------------------------------------------------

std::vector<std::string>
pg_cluster::command(const char* program, std::vector<std::string> args) const {
  std::vector<std::string> argv;
  if (as_root_)
    argv = {runuser_.string(), "-u", "postgres", "--"};
  argv.push_back((bin_dir_ / program).string());
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

void pg_cluster::locate_tools() {
  auto bin = find_bin_dir();
  if (!bin)
    fail("cannot find initdb and pg_ctl in PATH or /usr/lib/postgresql/*/bin; "
         "install the PostgreSQL server (apt-get install postgresql) or set "
         "postgres.dsn to an existing server");
  bin_dir_ = *bin;
  as_root_ = ::geteuid() == 0;
  if (!as_root_)
    return;
  // PostgreSQL refuses to run as root.
  auto* pw = ::getpwnam("postgres");
  if (pw == nullptr)
    fail("running as root needs a `postgres` user to run the server as; "
         "create one (adduser --system --group postgres) or run the node as "
         "an ordinary user");
  server_uid_ = pw->pw_uid;
  server_gid_ = pw->pw_gid;
  auto runuser = find_in_path("runuser");
  for (const char* dir : {"/usr/sbin", "/sbin", "/usr/bin", "/bin"})
    if (!runuser && is_executable(fs::path{dir} / "runuser"))
      runuser = fs::path{dir} / "runuser";
  if (!runuser)
    fail("running as root needs runuser (util-linux) to run PostgreSQL as "
         "the postgres user");
  runuser_ = *runuser;
}

void pg_cluster::prepare_directories() {
  auto prepare = [this](const fs::path& dir, const char* key) {
    auto fresh = create_dirs(dir) || fs::is_empty(dir);
    if (fresh) {
      // A fresh directory belongs to the server, and only to it: with
      // `trust` authentication the socket directory is the access control.
      if (as_root_ && ::chown(dir.c_str(), server_uid_, server_gid_) != 0)
        fail("cannot chown " + dir.string() +
             " to postgres: " + std::strerror(errno));
      fs::permissions(dir, fs::perms::owner_all);
    }
    if (!as_root_)
      return;
    struct stat st {};
    ::stat(dir.c_str(), &st);
    auto who = identity_of("postgres", server_uid_, server_gid_);
    if (!permits(st, who, 7))
      fail("postgres." + std::string{key} + " " + dir.string() +
           " is not empty and the postgres user may not write it (owner uid " +
           std::to_string(st.st_uid) + ", mode " + octal_mode(st.st_mode) +
           "); run `chown -R postgres: " + dir.string() +
           "` or choose an empty directory");
    check_traversable(dir, who, key);
  };
  prepare(data_dir_, "data_dir");
  prepare(socket_dir_, "socket_dir");
}

void pg_cluster::initdb() {
  auto t0 = steady_clock::now();
  // C.UTF-8 sorts bytewise like C but knows UTF-8 character classes.
  std::string locale = "C";
  if (auto loc = ::newlocale(LC_ALL_MASK, "C.UTF-8", locale_t{}); loc) {
    ::freelocale(loc);
    locale = "C.UTF-8";
  }
  std::vector<std::string> args{
      "-D",   data_dir_.string(),  "-A", "trust", "-U", "postgres", "-E",
      "UTF8", "--locale=" + locale};
  if (opts_.no_sync)
    args.emplace_back("--no-sync");
  run_checked(command("initdb", args), initdb_timeout);
  log::info("pg_initdb", {{"data_dir", data_dir_.string()},
                          {"locale", locale},
                          {"duration_ms", elapsed_ms(t0)}});
}

void pg_cluster::write_settings() {
  std::string conf = "# Written by Distiller's pg_cluster before every start: "
                     "edits are lost.\n"
                     "listen_addresses = ''\n"
                     "unix_socket_directories = '" +
                     socket_dir_.string() +
                     "'\n"
                     "unix_socket_permissions = 0700\n"
                     "port = " +
                     std::to_string(cfg_.port) + "\n";
  if (opts_.no_sync)
    conf += "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n";
  auto path = data_dir_ / "distiller.conf";
  write_text(path, conf, false);
  if (as_root_ && ::chown(path.c_str(), server_uid_, server_gid_) != 0)
    fail("cannot chown " + path.string() + ": " + std::strerror(errno));
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
  auto main_conf = data_dir_ / "postgresql.conf";
  std::ifstream in{main_conf};
  std::stringstream content;
  content << in.rdbuf();
  if (content.str().find(include_line) == std::string::npos)
    write_text(
        main_conf,
        std::string{"\n# Distiller's settings for its private cluster\n"} +
            include_line + "\n",
        true);
}

bool pg_cluster::reuse_running_server() {
  auto pid_path = data_dir_ / "postmaster.pid";
  auto info = read_pid_file(pid_path);
  if (!info)
    return false;
  if (!postgres_alive(info->pid)) {
    log::warn("pg_stale_pid",
              {{"file", pid_path.string()}, {"pid", info->pid}});
    fs::remove(pid_path);
    return false;
  }
  auto socket_matches =
      !info->socket_dir ||
      fs::path{*info->socket_dir}.lexically_normal() == socket_dir_;
  auto port_matches = !info->port || *info->port == cfg_.port;
  if (!socket_matches || !port_matches)
    fail("a PostgreSQL server (pid " + std::to_string(info->pid) +
         ") already runs on " + data_dir_.string() + " with port " +
         std::to_string(info->port.value_or(0)) + " and socket directory " +
         info->socket_dir.value_or("?") +
         ", not the configured ones; stop it (pg_ctl stop -D " +
         data_dir_.string() + ") or configure its port and socket_dir");
  log::info("pg_reused",
            {{"data_dir", data_dir_.string()}, {"pid", info->pid}});
  return true;
}

void pg_cluster::remove_stale_lock_files() {
  auto lock = socket_dir_ / (".s.PGSQL." + std::to_string(cfg_.port) + ".lock");
  auto info = read_pid_file(lock);
  if (!info)
    return;
  if (postgres_alive(info->pid))
    fail("another PostgreSQL server (pid " + std::to_string(info->pid) +
         ") uses the socket " + lock.parent_path().string() + "/.s.PGSQL." +
         std::to_string(cfg_.port) +
         "; choose another postgres.port or postgres.socket_dir");
  log::warn("pg_stale_lock", {{"file", lock.string()}, {"pid", info->pid}});
  std::error_code ec;
  fs::remove(lock, ec);
  fs::remove(socket_dir_ / (".s.PGSQL." + std::to_string(cfg_.port)), ec);
}

void pg_cluster::start_server() {
  auto secs = std::max<long long>(1, (cfg_.start_timeout.count() + 999) / 1000);
  auto argv =
      command("pg_ctl", {"start", "-w", "-D", data_dir_.string(), "-l",
                         log_file().string(), "-t", std::to_string(secs)});
  run_checked(argv, cfg_.start_timeout + milliseconds{15'000}, [this] {
    return "; server log " + log_file().string() + ": " +
           file_tail(log_file(), 1500);
  });
  started_ = true;
}

void pg_cluster::create_database() {
  auto conn = postgres::connect(admin_dsn(), cfg_.start_timeout);
  pqxx::nontransaction tx{*conn};
  if (!tx.exec_params(database_exists_sql, cfg_.database).empty())
    return;
  try {
    tx.exec0(create_database_sql + conn->quote_name(cfg_.database));
  } catch (const pqxx::sql_error& e) {
    // Another node created it first.
    if (e.sqlstate() != duplicate_database && e.sqlstate() != unique_violation)
      fail("cannot create database " + cfg_.database + ": " + e.what());
  }
}

} // namespace distiller::embedded
