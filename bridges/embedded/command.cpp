#include "bridges/embedded/command.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace distiller::embedded {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

namespace {

/// Children get our environment minus libpq's PG* variables, which could
/// point pg_ctl's readiness checks at another server.
std::vector<std::string> child_environment() {
  std::vector<std::string> result;
  for (char** p = environ; p != nullptr && *p != nullptr; ++p)
    if (std::strncmp(*p, "PG", 2) != 0)
      result.emplace_back(*p);
  return result;
}

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what);
}

} // namespace

std::string tail(const std::string& text, size_t max) {
  auto end = text.find_last_not_of(" \n\r\t");
  if (end == std::string::npos)
    return {};
  auto start = end + 1 > max ? end + 1 - max : 0;
  return (start > 0 ? "…" : "") + text.substr(start, end + 1 - start);
}

std::string join(const std::vector<std::string>& argv) {
  std::string result;
  for (auto& arg : argv) {
    if (!result.empty())
      result += ' ';
    result += arg;
  }
  return result;
}

command_result run_command(const std::vector<std::string>& argv,
                           milliseconds timeout) {
  int out[2];
  int err[2];
  if (::pipe2(out, O_CLOEXEC) != 0)
    fail("pipe2: " + std::string{std::strerror(errno)});
  if (::pipe2(err, O_CLOEXEC) != 0) {
    auto e = errno;
    ::close(out[0]);
    ::close(out[1]);
    fail("pipe2: " + std::string{std::strerror(e)});
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  posix_spawn_file_actions_addchdir_np(&actions, "/");
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Threads of this process may block or ignore signals; children must not
  // inherit that.
  sigset_t none;
  sigemptyset(&none);
  sigset_t all;
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<char*> args;
  for (auto& arg : argv)
    args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  auto env_strings = child_environment();
  std::vector<char*> env;
  for (auto& var : env_strings)
    env.push_back(var.data());
  env.push_back(nullptr);
  pid_t pid = 0;
  auto rc =
      ::posix_spawn(&pid, args[0], &actions, &attr, args.data(), env.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(out[1]);
  ::close(err[1]);
  if (rc != 0) {
    ::close(out[0]);
    ::close(err[0]);
    fail("cannot run " + argv[0] + ": " + std::strerror(rc));
  }
  command_result result;
  std::string* sinks[2] = {&result.out, &result.err};
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  auto read_some = [&](int i) {
    char buf[4096];
    auto n = ::read(fds[i].fd, buf, sizeof(buf));
    if (n > 0) {
      sinks[i]->append(buf, static_cast<size_t>(n));
      return true;
    }
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
      return n < 0 && errno == EINTR;
    ::close(fds[i].fd);
    fds[i].fd = -1;
    return false;
  };
  auto deadline = steady_clock::now() + timeout;
  int status = 0;
  bool exited = false;
  while ((fds[0].fd >= 0 || fds[1].fd >= 0) && steady_clock::now() < deadline) {
    if (::poll(fds, 2, 50) > 0)
      for (int i = 0; i < 2; ++i)
        if (fds[i].fd >= 0 && (fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
          read_some(i);
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      exited = true;
      // A grandchild (the postmaster) could keep a pipe open: take what is
      // buffered and stop reading.
      for (int i = 0; i < 2; ++i) {
        if (fds[i].fd < 0)
          continue;
        ::fcntl(fds[i].fd, F_SETFL, O_NONBLOCK);
        while (fds[i].fd >= 0 && read_some(i)) {
        }
        if (fds[i].fd >= 0)
          ::close(fds[i].fd);
        fds[i].fd = -1;
      }
    }
  }
  for (auto& fd : fds)
    if (fd.fd >= 0)
      ::close(fd.fd);
  bool lost = false; // reaped by someone else: the exit code is unknown
  while (!exited && steady_clock::now() < deadline) {
    auto r = ::waitpid(pid, &status, WNOHANG);
    lost = r < 0 && errno == ECHILD;
    if (r == pid || lost)
      exited = true;
    else
      std::this_thread::sleep_for(milliseconds{10});
  }
  if (!exited) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    fail("`" + join(argv) + "` did not finish within " +
         std::to_string(timeout.count()) +
         " ms and was killed; stderr: " + tail(result.err));
  }
  if (lost)
    result.exit_code = -1;
  else if (WIFEXITED(status))
    result.exit_code = WEXITSTATUS(status);
  else if (WIFSIGNALED(status))
    result.exit_code = 128 + WTERMSIG(status);
  return result;
}

} // namespace distiller::embedded
