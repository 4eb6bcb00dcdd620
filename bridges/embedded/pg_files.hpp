#pragma once

/// What the embedded PostgreSQL (pg_cluster.cpp) needs of the file system
/// and the machine: finding the server's binaries, reading its lock files,
/// writing its settings, and — when run as root — checking that the
/// server's user can reach its directories. Private to bridges/embedded.

#include <sys/stat.h>
#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace distiller::embedded::pg_detail {

/// Throws std::runtime_error("pg_cluster: <what>").
[[noreturn]] void fail(const std::string& what);

/// "0750": the permission bits of `mode`.
std::string octal_mode(mode_t mode);

bool is_executable(const std::filesystem::path& path);

/// The first executable `name` on PATH.
std::optional<std::filesystem::path> find_in_path(const std::string& name);

/// PATH first, then the highest /usr/lib/postgresql/<version>/bin.
std::optional<std::filesystem::path> find_bin_dir();

struct pid_file {
  pid_t pid = 0;
  std::optional<int> port;
  std::optional<std::string> socket_dir;
};

/// Reads postmaster.pid (pid, data dir, start time, port, socket dir, …) or
/// a socket lock file (its first line is the pid as well).
std::optional<pid_file> read_pid_file(const std::filesystem::path& path);

/// Whether `pid` is a live postgres process. After a crash or a reboot the
/// pid of a lock file may belong to an unrelated process (or a zombie).
bool postgres_alive(pid_t pid);

/// Writes (or appends) `text` to `path`; throws on failure.
void write_text(const std::filesystem::path& path, const std::string& text,
                bool append);

/// A path pg_ctl hands to /bin/sh in double quotes, or postgresql.conf in
/// single quotes, must not contain these characters: fails naming `key`.
void check_plain(const std::filesystem::path& path, const char* key);

/// The user the server runs as: its uid and every group it is in.
struct server_identity {
  uid_t uid;
  std::vector<gid_t> groups;
};

server_identity identity_of(const char* user, uid_t uid, gid_t gid);

/// Whether `who` has permission `bits` (an rwx triple, e.g. 1 for search)
/// on a file with `st` by its mode bits (ACLs are not consulted).
bool permits(const struct stat& st, const server_identity& who, unsigned bits);

/// Fails with advice when `who` cannot traverse every parent of `dir`. We
/// never chmod directories we did not create: that is the user's decision.
void check_traversable(const std::filesystem::path& dir,
                       const server_identity& who, const char* key);

/// Creates `dir` and its missing parents (mode 0755: we made them, so we
/// make them traversable); returns whether `dir` itself was created.
bool create_dirs(const std::filesystem::path& dir);

/// Quotes a libpq conninfo value when it needs it.
std::string conninfo_value(const std::string& value);

} // namespace distiller::embedded::pg_detail
