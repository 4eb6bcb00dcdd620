#pragma once

#include <optional>
#include <stdexcept>
#include <string>

/// One process per data directory: an exclusive `flock` on
/// `<data_dir>/node.lock`, taken before anything else touches the directory
/// and held for the owner's life.
///
/// Owns: the lock file's descriptor (opened O_CLOEXEC, so the processes a
/// node starts — pg_ctl, postgres — never inherit the lock and a detached
/// postmaster cannot keep it after the node died). The lock dies with the
/// process, kill -9 included; the next owner takes it over and reports it
/// (`taken_over()`: the pid the file still named; the node logs
/// event=data_dir_lock_taken_over). The module logs nothing itself.
///
/// The file says who holds it: one JSON line {"pid", "node", "http_url"},
/// rewritten in place (never renamed: the lock is on the inode). Readers
/// tolerate an empty or half-written file (pid 0). A clean release empties
/// it.
///
/// Failures: another holder → `data_dir_busy` naming it; an I/O error
/// (directory not creatable, file not openable) → std::runtime_error.
/// Thread-safety: none needed — one owner thread (the node's start/stop).
namespace distiller {

/// What a lock file says about its holder (all empty/0 when unknown).
struct lock_owner {
  long pid = 0;
  std::string node;
  std::string http_url;
};

/// Thrown by `data_dir_lock` when another process (or another descriptor
/// of this one) holds the lock.
class data_dir_busy : public std::runtime_error {
 public:
  data_dir_busy(std::string dir, std::string lock_path, lock_owner owner);

  const std::string& dir() const noexcept { return dir_; }
  const std::string& lock_path() const noexcept { return lock_path_; }
  const lock_owner& owner() const noexcept { return owner_; }

 private:
  std::string dir_;
  std::string lock_path_;
  lock_owner owner_;
};

class data_dir_lock {
 public:
  /// The lock file's name inside a data directory.
  static constexpr const char* file_name = "node.lock";

  /// Creates `dir` if needed and takes the lock for `node_name`; throws
  /// data_dir_busy or std::runtime_error (see above). Never blocks.
  data_dir_lock(const std::string& dir, const std::string& node_name);

  /// Releases the lock (see `release`).
  ~data_dir_lock();

  data_dir_lock(const data_dir_lock&) = delete;
  data_dir_lock& operator=(const data_dir_lock&) = delete;

  /// Records where the owner's HTTP façade listens, once known; false if
  /// the file could not be rewritten (readers then see the old line).
  [[nodiscard]] bool set_http_url(const std::string& url);

  /// Whether writing the owner line when the lock was taken succeeded.
  bool owner_written() const noexcept { return write_ok_; }

  /// A lock file that still named a process when this lock was taken: that
  /// owner did not release it (killed, crashed). `pid_alive`: a process of
  /// that pid runs but did not hold the lock, so the pid was reused.
  struct takeover {
    lock_owner previous;
    bool pid_alive = false;
  };
  const std::optional<takeover>& taken_over() const noexcept {
    return takeover_;
  }

  /// Empties the file and drops the lock; idempotent.
  void release() noexcept;

  const std::string& path() const noexcept { return path_; }

  /// The pid the file named when this lock was taken (0: none, or it was
  /// left by a clean release).
  long previous_pid() const noexcept { return previous_.pid; }

 private:
  bool write_owner();

  std::string path_;
  lock_owner self_;
  lock_owner previous_;
  std::optional<takeover> takeover_;
  bool write_ok_ = true;
  int fd_ = -1;
};

/// Parses a lock file's text; unknown or broken text gives pid 0.
lock_owner parse_lock_owner(const std::string& text);

/// What `<dir>/node.lock` says (pid 0 if the file is missing or empty).
lock_owner read_lock_owner(const std::string& dir);

/// Whether a process holds `<dir>/node.lock`, asked without touching the
/// lock: an flock on the file's inode in /proc/locks. `unknown` when there is
/// no lock file or /proc/locks cannot be read.
enum class lock_state { held, free, unknown };
lock_state probe_data_dir_lock(const std::string& dir);

/// True if `pid` names a running process (kill(pid, 0) does not say ESRCH).
bool process_alive(long pid) noexcept;

} // namespace distiller
