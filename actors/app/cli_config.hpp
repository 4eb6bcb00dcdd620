#pragma once

#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

#include "actors/node/node_config.hpp"
#include "runtime/config/schema.hpp"

/// The configuration flags every `distiller` subcommand shares, and loading
/// them: defaults → file → environment → flags (see runtime/config).
namespace distiller::app {

/// Exit code for invalid configuration or usage (the conventional 2 of
/// command-line tools).
inline constexpr int exit_config_error = 2;

/// Command-line flags that set configuration keys, applied after the file and
/// the environment.
struct config_flags {
  std::string file;
  std::vector<std::string> sets;
  std::vector<std::pair<std::string, std::string>> shortcuts;
};

/// Adds -c/--config, --set and the node's shortcuts (--brokers, --pg,
/// --port …) to `cmd`.
void add_config_flags(CLI::App& cmd, config_flags& flags);

/// Adds -c/--config, --set and the shortcuts a client tool needs
/// (--brokers, --data-dir, --log-level) to `cmd`.
void add_client_config_flags(CLI::App& cmd, config_flags& flags);

/// Loads defaults → file → environment → flags into `cfg`; throws
/// config_error.
void load_config(node::node_config& cfg, config::schema& s,
                 const config_flags& flags);

} // namespace distiller::app
