#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

/// Helpers shared by the test suites: deadlines instead of fixed sleeps,
/// temporary directories that clean up, and the path of the built binary.
namespace distiller::testing {

using namespace std::chrono_literals;

/// Polls `pred` every `step` until it returns true or `timeout` passes;
/// returns the last result.
bool wait_until(const std::function<bool()>& pred,
                std::chrono::milliseconds timeout = 10s,
                std::chrono::milliseconds step = 10ms);

/// A fresh directory under the system temp dir, removed on destruction.
/// Readable and writable by everyone, so the `postgres` user can use it when
/// the tests run as root.
class temp_dir {
 public:
  explicit temp_dir(const std::string& prefix = "distiller-test");
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::filesystem::path& path() const noexcept { return path_; }
  std::filesystem::path operator/(const std::string& name) const {
    return path_ / name;
  }

 private:
  std::filesystem::path path_;
};

/// The `distiller` executable built with the tests.
std::string distiller_binary();

/// The source tree (for config/ and fixtures).
std::filesystem::path source_dir();

/// Writes `text` to `path`.
void write_file(const std::filesystem::path& path, const std::string& text);

/// Reads a whole file.
std::string read_file(const std::filesystem::path& path);

/// The result of a finished child process.
struct process_result {
  int exit_code = -1;
  std::string out;
  std::string err;
};

/// Runs `argv` with extra `env` entries ("K=V"), waits at most `timeout`
/// (then kills it and reports exit code -1).
process_result run_process(const std::vector<std::string>& argv,
                           const std::vector<std::string>& env = {},
                           std::chrono::milliseconds timeout = 60s);

/// A child process running in the background (a whole node, kcat …); its
/// stdout and stderr go to files so tests can read them while it runs. The
/// destructor kills it if it still runs.
class child_process {
 public:
  child_process(const std::vector<std::string>& argv,
                const std::vector<std::string>& env = {},
                const std::filesystem::path& cwd = {});
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  int pid() const noexcept { return pid_; }
  bool running();
  void signal(int sig);
  /// Waits for the exit; returns the exit code, 128+signal if killed by a
  /// signal, or -1 if it did not exit within `timeout`.
  int wait(std::chrono::milliseconds timeout);
  std::string out() const;
  std::string err() const;

 private:
  int pid_ = -1;
  int status_ = -1;
  bool exited_ = false;
  temp_dir logs_{"distiller-child"};
};

} // namespace distiller::testing
