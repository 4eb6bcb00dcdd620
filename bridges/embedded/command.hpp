#pragma once

#include <chrono>
#include <string>
#include <vector>

/// Runs a helper program (initdb, pg_ctl, runuser …) the way the embedded
/// services need it: without a shell, stdin from /dev/null, in "/" (the
/// `postgres` user may not be allowed into our working directory), with the
/// environment minus libpq's PG* variables, stdout and stderr collected, and
/// killed after a timeout. Blocks the calling thread; only called at start-up
/// and shutdown, never from the CAF scheduler.
namespace distiller::embedded {

struct command_result {
  /// The exit code, 128 + signal if killed by one, -1 if it could not run.
  int exit_code = -1;
  std::string out;
  std::string err;
};

/// Runs argv[0] (an absolute path) with the remaining arguments.
command_result run_command(const std::vector<std::string>& argv,
                           std::chrono::milliseconds timeout);

/// The arguments joined by spaces, for messages.
std::string join(const std::vector<std::string>& argv);

/// The last `max` bytes of `text` without trailing whitespace, "…"-prefixed
/// when cut (for error messages quoting a program's output).
std::string tail(const std::string& text, size_t max = 2000);

} // namespace distiller::embedded
