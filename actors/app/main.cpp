// The `distiller` executable: parses the command line and hands each
// subcommand to the library that implements it. Nothing else lives here.

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "actors/app/auth_command.hpp"
#include "actors/app/cli_config.hpp"
#include "actors/app/eval_command.hpp"
#include "actors/app/kafka_commands.hpp"
#include "actors/app/load_commands.hpp"
#include "actors/node/node.hpp"
#include "actors/node/node_config.hpp"
#include "actors/node/services.hpp"
#include "actors/shell/repl.hpp"
#include "runtime/config/loader.hpp"
#include "runtime/logging/log.hpp"

namespace {

using namespace distiller;
using app::add_config_flags;
using app::config_flags;
using app::exit_config_error;
using app::load_config;

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

  auto* services_cmd = app.add_subcommand(
      "services", "Run the shared services of a local cluster");
  services_cmd->require_subcommand(1);
  auto* services_up = services_cmd->add_subcommand(
      "up", "Run the embedded Kafka and a private PostgreSQL in this process "
            "and write where they are to --data-dir (kafka.bootstrap, "
            "postgres.dsn); nodes read them with --set "
            "node.services_dir=DIR");
  add_config_flags(*services_up, flags);

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

  shell::shell_options shell_opts;
  auto* shell_cmd = app.add_subcommand(
      "shell", "Inspect and operate the cluster: nodes, actors, pools, "
               "partitions, lag, inspect, top, trace, and (with "
               "shell.allow_write) restart, pause, resume, scale, send");
  shell_cmd
      ->add_option("--node", shell_opts.node,
                   "HOST:PORT of any node's HTTP API (default: the node of "
                   "--data-dir's node.json, else 127.0.0.1:8000)")
      ->type_name("HOST:PORT");
  shell_cmd->add_option("-c,--command", shell_opts.command,
                        "Run these commands (separated by ';') and exit with "
                        "the worst exit code");
  shell_cmd->add_flag("--json", shell_opts.json,
                      "Print every answer as the API's JSON");
  shell_cmd->add_option("--timeout-ms", shell_opts.timeout_ms,
                        "Per request (default 10000)");
  shell_cmd->add_option("--token", shell_opts.token,
                        "API token for a node that requires one (default: "
                        "$DISTILLER_TOKEN)");
  std::string shell_data_dir = "var";
  shell_cmd->add_option("--data-dir", shell_data_dir,
                        "Where to look for node.json when --node is not "
                        "given (default var)");

  auto kafka_tools = distiller::app::add_kafka_commands(app, flags);
  auto load_tools = distiller::app::add_load_commands(app, flags);
  distiller::app::eval_command eval_tool{app};
  distiller::app::auth_command auth_tool{app};

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : exit_config_error;
  }

  if (eval_tool.parsed())
    return eval_tool.run();
  if (auth_tool.parsed())
    return auth_tool.run();

  if (shell_cmd->parsed()) {
    shell_opts.command_given = shell_cmd->count("-c") > 0;
    shell_opts.token = distiller::app::token_or_env(shell_opts.token);
    if (shell_opts.node.empty())
      shell_opts.node = shell::node_from_data_dir(shell_data_dir);
    // shell.history's variable (the shell reads no configuration file).
    if (auto* h = std::getenv("DISTILLER_SHELL_HISTORY"); h && *h)
      shell_opts.history_file = h;
    else if (auto* home = std::getenv("HOME"); home && *home)
      shell_opts.history_file = std::string{home} + "/.distiller_history";
    return shell::run_shell(shell_opts);
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
    std::cout << config::render_toml(schema, true);
    return 0;
  }
  if (check->parsed()) {
    std::cout << "configuration ok\n";
    return 0;
  }
  if (kafka_tools->parsed())
    return kafka_tools->run(cfg);
  if (load_tools->parsed())
    return load_tools->run(cfg);
  if (services_up->parsed())
    return node::run_services(std::move(cfg), true);
  if (up->parsed())
    return node::run(std::move(cfg), true);
  if (node_cmd->parsed())
    return node::run(std::move(cfg), false);
  return 0;
}
