#pragma once

#include <string>

/// `distiller shell`: the inspection shell's front end. With `-c` it runs
/// the commands and exits with the worst exit code (session.hpp); with a
/// terminal on stdin it reads lines with libedit (line editing, history in
/// `history_file`, tab completion of commands and of actor, binding and
/// pool names); with anything else on stdin it runs each line read.
namespace distiller::shell {

struct shell_options {
  /// HOST:PORT or http://HOST:PORT of the node to talk to.
  std::string node;
  /// Commands to run instead of reading lines ("nodes; pools").
  std::string command;
  bool command_given = false;
  bool json = false;
  /// Where the interactive history is kept (empty: none).
  std::string history_file;
  /// Per request.
  int timeout_ms = 10000;
  /// The API token (auth.tokens) sent with every request; empty: none.
  std::string token;
};

/// The HTTP address in `data_dir`/node.json (written by a running node),
/// or 127.0.0.1:8000 when there is none.
std::string node_from_data_dir(const std::string& data_dir);

/// Runs the shell; returns the exit code.
int run_shell(const shell_options& opts);

} // namespace distiller::shell
