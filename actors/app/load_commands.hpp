#pragma once

#include <memory>

#include <CLI/CLI.hpp>

#include "actors/app/cli_config.hpp"
#include "actors/node/node_config.hpp"

/// The load tool on the command line: `distiller load docs|thoughts|sse|kafka`
/// and `distiller load compare a.json b.json`. This file only parses; the
/// work is done by actors/load (see docs/load.md). Exit codes: 0 done and
/// every --threshold met, 1 a threshold missed or the run failed, 2 bad
/// usage (the message names the option).
namespace distiller::app {

class load_commands {
 public:
  load_commands(CLI::App& app, config_flags& flags);
  ~load_commands();

  load_commands(const load_commands&) = delete;
  load_commands& operator=(const load_commands&) = delete;

  /// True if the command line chose one of them.
  bool parsed() const;

  /// Runs the chosen command; returns the exit code.
  int run(const node::node_config& cfg);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// Adds `distiller load …` to `app` (see load_commands).
std::unique_ptr<load_commands> add_load_commands(CLI::App& app,
                                                 config_flags& flags);

} // namespace distiller::app
