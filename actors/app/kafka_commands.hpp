#pragma once

#include <memory>

#include <CLI/CLI.hpp>

#include "actors/app/cli_config.hpp"
#include "actors/node/node_config.hpp"

/// The Kafka tools on the command line: `distiller topics …`, `produce`,
/// `consume`, `groups …` and `kafka e2e`. This file only parses; the work is
/// done by bridges/kafka_tools. Exit codes: 0 success, 1 the check or action
/// failed (missing topics, failed deliveries, no cluster …), 2 bad usage or
/// configuration (the message names the option or key).
namespace distiller::app {

class kafka_commands {
 public:
  /// Adds the subcommands to `app`; their configuration flags write to
  /// `flags` (shared with the other subcommands).
  kafka_commands(CLI::App& app, config_flags& flags);
  ~kafka_commands();

  kafka_commands(const kafka_commands&) = delete;
  kafka_commands& operator=(const kafka_commands&) = delete;

  /// True if the command line chose one of them.
  bool parsed() const;

  /// Runs the chosen command with the loaded configuration; returns the exit
  /// code.
  int run(const node::node_config& cfg);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// Adds the Kafka tools to `app` (see kafka_commands).
std::unique_ptr<kafka_commands> add_kafka_commands(CLI::App& app,
                                                   config_flags& flags);

} // namespace distiller::app
