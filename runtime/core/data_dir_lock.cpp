#include "runtime/core/data_dir_lock.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <boost/json.hpp>

namespace distiller {

namespace {

namespace fs = std::filesystem;

std::string errno_text(int err) {
  return std::strerror(err);
}

/// The whole content of the open file `fd` (from offset 0).
std::string read_all(int fd) {
  std::string out;
  char buf[512];
  off_t at = 0;
  for (;;) {
    auto n = ::pread(fd, buf, sizeof(buf), at);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    out.append(buf, static_cast<size_t>(n));
    at += n;
    // A lock file is one short line; anything bigger is not ours.
    if (out.size() > 64 * 1024)
      break;
  }
  return out;
}

} // namespace

// -- data_dir_busy ------------------------------------------------------------

data_dir_busy::data_dir_busy(std::string dir, std::string lock_path,
                             lock_owner owner)
    : std::runtime_error(dir + " is in use by another process (" + lock_path +
                         " is locked)"),
      dir_(std::move(dir)), lock_path_(std::move(lock_path)),
      owner_(std::move(owner)) {}

// -- data_dir_lock ------------------------------------------------------------

data_dir_lock::data_dir_lock(const std::string& dir,
                             const std::string& node_name) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    throw std::runtime_error("cannot create the data directory " + dir + ": " +
                             ec.message());
  path_ = (fs::path{dir} / file_name).string();
  // O_CLOEXEC: the node's children (pg_ctl, a detached postmaster) must not
  // inherit the descriptor, or the lock would outlive a killed node.
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0)
    throw std::runtime_error("cannot open " + path_ + ": " + errno_text(errno));
  int rc = 0;
  do {
    rc = ::flock(fd_, LOCK_EX | LOCK_NB);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    auto err = errno;
    auto owner = parse_lock_owner(read_all(fd_));
    ::close(fd_);
    fd_ = -1;
    if (err == EWOULDBLOCK)
      throw data_dir_busy(dir, path_, std::move(owner));
    throw std::runtime_error("cannot lock " + path_ + ": " + errno_text(err));
  }
  previous_ = parse_lock_owner(read_all(fd_));
  // A file that still names someone was not released cleanly: its owner
  // died (kill -9, a crash) and the kernel dropped its lock — or, if that
  // pid is alive but did not hold the lock, the pid was reused since.
  if (previous_.pid > 0 && previous_.pid != ::getpid())
    takeover_ = takeover{previous_, process_alive(previous_.pid)};
  self_.pid = static_cast<long>(::getpid());
  self_.node = node_name;
  write_ok_ = write_owner();
}

data_dir_lock::~data_dir_lock() {
  release();
}

bool data_dir_lock::set_http_url(const std::string& url) {
  self_.http_url = url;
  return write_owner();
}

bool data_dir_lock::write_owner() {
  if (fd_ < 0)
    return true;
  boost::json::object doc{{"pid", static_cast<int64_t>(self_.pid)},
                          {"node", self_.node},
                          {"http_url", self_.http_url}};
  auto text = boost::json::serialize(doc) + "\n";
  // In place: a rename would move the name to an inode nobody locked.
  // Readers may see a half-written line and take it for "unknown".
  auto n = ::pwrite(fd_, text.data(), text.size(), 0);
  return n >= 0 && static_cast<size_t>(n) == text.size() &&
         ::ftruncate(fd_, static_cast<off_t>(text.size())) == 0;
}

void data_dir_lock::release() noexcept {
  if (fd_ < 0)
    return;
  // Emptied while still locked, so the next owner knows the release was
  // clean and nobody reads a dead owner's URL meanwhile.
  if (::ftruncate(fd_, 0) != 0) {
    // Nothing to do: the next owner sees our pid, finds it gone and logs a
    // takeover, which is still correct.
  }
  ::flock(fd_, LOCK_UN);
  ::close(fd_);
  fd_ = -1;
}

// -- readers ------------------------------------------------------------------

lock_owner parse_lock_owner(const std::string& text) {
  lock_owner out;
  boost::system::error_code ec;
  auto doc = boost::json::parse(text, ec);
  if (ec || !doc.is_object())
    return out;
  auto& obj = doc.as_object();
  if (auto* pid = obj.if_contains("pid"); pid && pid->is_int64())
    out.pid = static_cast<long>(pid->as_int64());
  if (auto* node = obj.if_contains("node"); node && node->is_string())
    out.node = std::string{node->as_string()};
  if (auto* url = obj.if_contains("http_url"); url && url->is_string())
    out.http_url = std::string{url->as_string()};
  return out;
}

lock_owner read_lock_owner(const std::string& dir) {
  std::ifstream in{fs::path{dir} / data_dir_lock::file_name};
  if (!in)
    return {};
  std::stringstream buf;
  buf << in.rdbuf();
  return parse_lock_owner(buf.str());
}

lock_state probe_data_dir_lock(const std::string& dir) {
  struct stat st {};
  auto path = fs::path{dir} / data_dir_lock::file_name;
  if (::stat(path.c_str(), &st) != 0)
    return lock_state::unknown;
  std::ifstream locks{"/proc/locks"};
  if (!locks)
    return lock_state::unknown;
  // Lines look like "1: FLOCK  ADVISORY  WRITE 28786 fe:00:10954105 0 EOF";
  // blocked waiters ("1: -> FLOCK …") are not holders. Only the inode is
  // compared: on overlay file systems /proc/locks shows the real device,
  // which differs from what stat() reports.
  std::string line;
  while (std::getline(locks, line)) {
    std::istringstream in{line};
    std::string id, kind, mode, access, pid, where;
    in >> id >> kind;
    if (kind != "FLOCK")
      continue;
    in >> mode >> access >> pid >> where;
    auto colon = where.rfind(':');
    if (colon == std::string::npos)
      continue;
    if (where.substr(colon + 1) == std::to_string(st.st_ino))
      return lock_state::held;
  }
  return lock_state::free;
}

bool process_alive(long pid) noexcept {
  if (pid <= 0)
    return false;
  if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH)
    return false;
  // A killed child its parent has not reaped yet still answers kill(0) but
  // holds nothing any more.
  std::ifstream stat{"/proc/" + std::to_string(pid) + "/stat"};
  std::string text;
  if (stat && std::getline(stat, text)) {
    auto close = text.rfind(')');
    if (close != std::string::npos && close + 2 < text.size())
      return text[close + 2] != 'Z' && text[close + 2] != 'X';
  }
  return true;
}

} // namespace distiller
