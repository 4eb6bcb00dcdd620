// The `distiller` executable: parses the command line and hands each
// subcommand to the library that implements it. Nothing else lives here.

#include <cstdio>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "actors/node/node.hpp"
#include "actors/node/node_config.hpp"
#include "runtime/config/loader.hpp"
#include "runtime/logging/log.hpp"

namespace {

using namespace distiller;

/// Exit code for invalid configuration or usage (like `sysexits` EX_USAGE's
/// spirit, but the conventional 2 of command-line tools).
constexpr int exit_config_error = 2;

/// Command-line flags that set configuration keys, applied after the file and
/// the environment.
struct config_flags {
  std::string file;
  std::vector<std::string> sets;
  std::vector<std::pair<std::string, std::string>> shortcuts;
};

void add_config_flags(CLI::App& cmd, config_flags& flags) {
  cmd.add_option("-c,--config", flags.file,
                 "Configuration file (TOML); default config/distiller.toml "
                 "if it exists, or $DISTILLER_CONFIG");
  cmd.add_option("--set", flags.sets,
                 "Set any key: --set section.key=value (repeatable)");
  struct shortcut {
    const char* flag;
    const char* key;
    const char* help;
  };
  static const shortcut shortcuts[] = {
      {"--brokers", "kafka.brokers",
       "Kafka bootstrap servers; omit to start the embedded cluster"},
      {"--pg", "postgres.dsn",
       "PostgreSQL DSN; omit to start a private cluster under var/pg"},
      {"--host", "http.host", "HTTP listen address"},
      {"--port", "http.port", "HTTP listen port (0 picks a free one)"},
      {"--name", "node.name", "Node name"},
      {"--roles", "node.roles", "Roles (comma-separated)"},
      {"--data-dir", "node.data_dir", "Directory for runtime data"},
      {"--log-level", "log.level", "debug, info, warn or error"},
  };
  for (auto& s : shortcuts) {
    std::string key = s.key;
    cmd.add_option_function<std::string>(
        s.flag,
        [&flags, key](const std::string& value) {
          flags.shortcuts.emplace_back(key, value);
        },
        s.help);
  }
}

/// Loads defaults → file → environment → flags into `cfg`; throws
/// config_error.
void load_config(node::node_config& cfg, config::schema& s,
                 const config_flags& flags) {
  auto env = config::process_environment();
  std::string file = flags.file;
  bool required = true;
  if (file.empty()) {
    if (auto i = env.find(config::config_file_env); i != env.end()) {
      file = i->second;
    } else {
      file = "config/distiller.toml";
      required = false;
    }
  }
  config::load_file(s, file, required);
  config::load_env(s, env);
  std::vector<std::pair<std::string, std::string>> overrides;
  for (auto& text : flags.sets)
    overrides.push_back(config::split_assignment(text));
  for (auto& kv : flags.shortcuts)
    overrides.push_back(kv);
  config::load_flags(s, overrides);
  node::validate(cfg);
  node::resolve_paths(cfg);
  log::set_level(*log::parse_level(cfg.runtime.log.level));
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"Distiller: an actor-model runtime for Kafka pipelines"};
  app.require_subcommand(1);
  app.set_version_flag("--version",
                       std::string{"distiller "} + DISTILLER_VERSION);

  node::node_config cfg;
  config::schema schema;
  node::declare(schema, cfg);
  config_flags flags;

  auto* up = app.add_subcommand(
      "up", "Run a whole node on this machine (embedded Kafka and PostgreSQL "
            "unless configured otherwise) and print where to look");
  add_config_flags(*up, flags);

  auto* node_cmd = app.add_subcommand(
      "node", "Run a node with the configured roles (production form of `up`)");
  add_config_flags(*node_cmd, flags);

  auto* config_cmd =
      app.add_subcommand("config", "Show, check or document the configuration");
  config_cmd->require_subcommand(1);
  auto* show = config_cmd->add_subcommand(
      "show", "Print the effective configuration as TOML");
  add_config_flags(*show, flags);
  auto* check = config_cmd->add_subcommand(
      "check", "Validate the configuration and exit 0, or 2 naming the key");
  add_config_flags(*check, flags);
  auto* defaults = config_cmd->add_subcommand(
      "defaults", "Print every key with its default and a comment (TOML)");
  auto* docs = config_cmd->add_subcommand(
      "docs", "Print the Markdown reference of every key");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : exit_config_error;
  }

  // Keys documented and rendered from defaults, before anything is loaded.
  if (defaults->parsed()) {
    std::cout << config::render_toml(schema);
    return 0;
  }
  if (docs->parsed()) {
    std::cout << config::render_markdown(schema);
    return 0;
  }

  try {
    load_config(cfg, schema, flags);
  } catch (const config::config_error& e) {
    std::fprintf(stderr, "distiller: %s\n", e.what());
    return exit_config_error;
  }

  if (show->parsed()) {
    std::cout << config::render_toml(schema);
    return 0;
  }
  if (check->parsed()) {
    std::cout << "configuration ok\n";
    return 0;
  }
  if (up->parsed())
    return node::run(std::move(cfg), true);
  if (node_cmd->parsed())
    return node::run(std::move(cfg), false);
  return 0;
}
