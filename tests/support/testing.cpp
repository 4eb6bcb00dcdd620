#include "tests/support/testing.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace distiller::testing {

bool wait_until(const std::function<bool()>& pred,
                std::chrono::milliseconds timeout,
                std::chrono::milliseconds step) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred())
      return true;
    std::this_thread::sleep_for(step);
  }
  return pred();
}

temp_dir::temp_dir(const std::string& prefix) {
  std::random_device rd;
  auto base = std::filesystem::temp_directory_path();
  for (int i = 0; i < 100; ++i) {
    auto candidate = base / (prefix + "-" + std::to_string(rd()));
    if (std::filesystem::create_directory(candidate)) {
      path_ = candidate;
      std::filesystem::permissions(candidate, std::filesystem::perms::all);
      return;
    }
  }
  throw std::runtime_error("cannot create a temporary directory");
}

temp_dir::~temp_dir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string distiller_binary() {
  return DISTILLER_BINARY;
}

std::filesystem::path source_dir() {
  return DISTILLER_SOURCE_DIR;
}

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out{path, std::ios::binary};
  out << text;
  if (!out)
    throw std::runtime_error("cannot write " + path.string());
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in{path, std::ios::binary};
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

namespace {

/// This process's environment plus `extra` ("K=V") entries.
std::vector<std::string>
environment_with(const std::vector<std::string>& extra) {
  std::vector<std::string> result;
  for (char** p = environ; *p != nullptr; ++p)
    result.emplace_back(*p);
  result.insert(result.end(), extra.begin(), extra.end());
  return result;
}

/// In a forked child: replaces the process image; never returns.
[[noreturn]] void exec_child(const std::vector<std::string>& argv,
                             const std::vector<std::string>& env) {
  std::vector<char*> args;
  for (auto& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& e : env)
    envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  execve(args[0], args.data(), envp.data());
  _exit(127);
}

std::string drain(int fd) {
  std::string result;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof(buf))) > 0)
    result.append(buf, static_cast<size_t>(n));
  return result;
}

} // namespace

process_result run_process(const std::vector<std::string>& argv,
                           const std::vector<std::string>& env,
                           std::chrono::milliseconds timeout) {
  int out_pipe[2];
  int err_pipe[2];
  if (pipe(out_pipe) != 0 || pipe(err_pipe) != 0)
    throw std::runtime_error("pipe failed");
  auto env_strings = environment_with(env);
  auto pid = fork();
  if (pid == 0) {
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    // Only 1 and 2 stay: a process the child leaves running (a script's
    // background node) must not hold the pipes open after it exits.
    close(out_pipe[0]);
    close(err_pipe[0]);
    close(out_pipe[1]);
    close(err_pipe[1]);
    exec_child(argv, env_strings);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  process_result result;
  std::thread out_reader{[&] {
    result.out = drain(out_pipe[0]);
  }};
  std::thread err_reader{[&] {
    result.err = drain(err_pipe[0]);
  }};
  int status = 0;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  bool done = false;
  while (!done && std::chrono::steady_clock::now() < deadline) {
    auto r = waitpid(pid, &status, WNOHANG);
    if (r == pid)
      done = true;
    else
      std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  if (!done) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
  }
  out_reader.join();
  err_reader.join();
  close(out_pipe[0]);
  close(err_pipe[0]);
  if (done && WIFEXITED(status))
    result.exit_code = WEXITSTATUS(status);
  return result;
}

// -- child_process
// -------------------------------------------------------------

child_process::child_process(const std::vector<std::string>& argv,
                             const std::vector<std::string>& env,
                             const std::filesystem::path& cwd) {
  auto env_strings = environment_with(env);
  auto out_path = (logs_ / "stdout").string();
  auto err_path = (logs_ / "stderr").string();
  pid_ = fork();
  if (pid_ < 0)
    throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(out, 1);
    dup2(err, 2);
    // The parent (a gtest binary) may block signals; the child starts clean.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    if (!cwd.empty() && chdir(cwd.c_str()) != 0)
      _exit(126);
    exec_child(argv, env_strings);
  }
}

child_process::~child_process() {
  if (!exited_ && pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, &status_, 0);
  }
}

bool child_process::running() {
  if (exited_)
    return false;
  if (waitpid(pid_, &status_, WNOHANG) == pid_)
    exited_ = true;
  return !exited_;
}

void child_process::signal(int sig) {
  if (!exited_)
    kill(pid_, sig);
}

int child_process::wait(std::chrono::milliseconds timeout) {
  if (!wait_until([this] { return !running(); }, timeout, 20ms))
    return -1;
  if (WIFEXITED(status_))
    return WEXITSTATUS(status_);
  if (WIFSIGNALED(status_))
    return 128 + WTERMSIG(status_);
  return -1;
}

std::string child_process::out() const {
  return read_file(logs_ / "stdout");
}

std::string child_process::err() const {
  return read_file(logs_ / "stderr");
}

} // namespace distiller::testing
