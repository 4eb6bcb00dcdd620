// The embedded PostgreSQL's files and binaries (pg_files.hpp).

#include "bridges/embedded/pg_files.hpp"

#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace distiller::embedded::pg_detail {

namespace fs = std::filesystem;

namespace {

std::vector<fs::path> path_dirs() {
  const char* path = std::getenv("PATH");
  std::stringstream list{path != nullptr ? path : ""};
  std::vector<fs::path> result;
  for (std::string dir; std::getline(list, dir, ':');)
    if (!dir.empty())
      result.emplace_back(dir);
  return result;
}

} // namespace

std::string octal_mode(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error("pg_cluster: " + what);
}

// -- binaries -----------------------------------------------------------------

bool is_executable(const fs::path& path) {
  return ::access(path.c_str(), X_OK) == 0 && fs::is_regular_file(path);
}

std::optional<fs::path> find_in_path(const std::string& name) {
  for (auto& dir : path_dirs())
    if (is_executable(dir / name))
      return dir / name;
  return std::nullopt;
}

/// PATH first, then the highest /usr/lib/postgresql/<version>/bin.
std::optional<fs::path> find_bin_dir() {
  for (auto& dir : path_dirs())
    if (is_executable(dir / "initdb") && is_executable(dir / "pg_ctl"))
      return dir;
  std::optional<fs::path> best;
  double best_version = -1;
  std::error_code ec;
  for (auto& entry : fs::directory_iterator{"/usr/lib/postgresql", ec}) {
    auto bin = entry.path() / "bin";
    auto version = std::strtod(entry.path().filename().c_str(), nullptr);
    if (version > best_version && is_executable(bin / "initdb") &&
        is_executable(bin / "pg_ctl")) {
      best = bin;
      best_version = version;
    }
  }
  return best;
}

// -- files --------------------------------------------------------------------

/// Reads postmaster.pid (pid, data dir, start time, port, socket dir, …) or
/// a socket lock file (its first line is the pid as well).
std::optional<pid_file> read_pid_file(const fs::path& path) {
  std::ifstream in{path};
  if (!in)
    return std::nullopt;
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  if (lines.empty())
    return std::nullopt;
  pid_file result;
  // A standalone backend writes its pid negated.
  result.pid = static_cast<pid_t>(std::abs(std::atol(lines[0].c_str())));
  if (lines.size() > 3 && !lines[3].empty())
    result.port = std::atoi(lines[3].c_str());
  if (lines.size() > 4 && !lines[4].empty())
    result.socket_dir = lines[4];
  return result;
}

/// Whether `pid` is a live postgres process. After a crash or a reboot the
/// pid of a lock file may belong to an unrelated process (or a zombie).
bool postgres_alive(pid_t pid) {
  if (pid <= 0 || (::kill(pid, 0) != 0 && errno != EPERM))
    return false;
  std::ifstream stat{"/proc/" + std::to_string(pid) + "/stat"};
  std::string line;
  if (!std::getline(stat, line))
    return true; // no /proc: trust kill()
  auto open = line.find('(');
  auto close = line.rfind(')');
  if (open == std::string::npos || close == std::string::npos ||
      close + 2 >= line.size())
    return true;
  auto comm = line.substr(open + 1, close - open - 1);
  auto state = line[close + 2];
  return state != 'Z' && state != 'X' &&
         (comm == "postgres" || comm == "postmaster");
}

void write_text(const fs::path& path, const std::string& text, bool append) {
  std::ofstream out{path, append ? std::ios::app : std::ios::trunc};
  out << text;
  out.close();
  if (!out)
    fail("cannot write " + path.string());
}

/// A path pg_ctl hands to /bin/sh in double quotes, or postgresql.conf in
/// single quotes, must not contain these characters.
void check_plain(const fs::path& path, const char* key) {
  for (char c : path.string())
    if (std::strchr("'\"\\$`,\n", c) != nullptr)
      fail(std::string{"postgres."} + key + " '" + path.string() +
           "' contains the character '" + c +
           "', which pg_ctl and postgresql.conf cannot pass on; choose "
           "another directory");
}

// -- permissions when root ----------------------------------------------------

server_identity identity_of(const char* user, uid_t uid, gid_t gid) {
  int count = 64;
  std::vector<gid_t> groups(static_cast<size_t>(count));
  if (::getgrouplist(user, gid, groups.data(), &count) < 0) {
    groups.resize(static_cast<size_t>(count));
    ::getgrouplist(user, gid, groups.data(), &count);
  }
  groups.resize(static_cast<size_t>(count));
  return {uid, groups};
}

/// Whether `who` has permission `bits` (an rwx triple, e.g. 1 for search)
/// on a file with `st` by its mode bits (ACLs are not consulted).
bool permits(const struct stat& st, const server_identity& who, unsigned bits) {
  if (st.st_uid == who.uid)
    return ((st.st_mode >> 6) & bits) == bits;
  if (std::find(who.groups.begin(), who.groups.end(), st.st_gid) !=
      who.groups.end())
    return ((st.st_mode >> 3) & bits) == bits;
  return (st.st_mode & bits) == bits;
}

/// Fails with advice when `who` cannot traverse every parent of `dir`. We
/// never chmod directories we did not create: that is the user's decision.
void check_traversable(const fs::path& dir, const server_identity& who,
                       const char* key) {
  fs::path current;
  for (auto& part : dir.parent_path()) {
    current /= part;
    struct stat st {};
    if (::stat(current.c_str(), &st) != 0)
      fail("cannot stat " + current.string() + ": " + std::strerror(errno));
    if (!permits(st, who, 1))
      fail("the postgres user cannot reach postgres." + std::string{key} + " " +
           dir.string() + ": " + current.string() + " (owner uid " +
           std::to_string(st.st_uid) + ", mode " + octal_mode(st.st_mode) +
           ") does not let it search. Give it search permission (e.g. "
           "`chmod o+x " +
           current.string() +
           "`) or choose a directory under a path it "
           "can traverse.");
  }
}

/// Creates `dir` and its missing parents (mode 0755: we made them, so we
/// make them traversable); returns whether `dir` itself was created.
bool create_dirs(const fs::path& dir) {
  fs::path current;
  bool created = false;
  for (auto& part : dir) {
    current /= part;
    if (fs::exists(current))
      continue;
    fs::create_directory(current);
    fs::permissions(current, fs::perms::owner_all | fs::perms::group_read |
                                 fs::perms::group_exec |
                                 fs::perms::others_read |
                                 fs::perms::others_exec);
    created = current == dir;
  }
  return created;
}

/// Quotes a libpq conninfo value when it needs it.
std::string conninfo_value(const std::string& value) {
  if (!value.empty() && value.find_first_of(" '\\\t\n") == std::string::npos)
    return value;
  std::string result = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\')
      result += '\\';
    result += c;
  }
  return result + "'";
}

} // namespace distiller::embedded::pg_detail
