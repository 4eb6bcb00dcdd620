// The `distiller` executable: parses the command line and hands each
// subcommand to the library that implements it. Nothing else lives here.

#include <cstdio>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "actors/app/cli_config.hpp"
#include "actors/app/kafka_commands.hpp"
#include "actors/node/node.hpp"
#include "actors/node/node_config.hpp"
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

  auto kafka_tools = distiller::app::add_kafka_commands(app, flags);

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
  if (kafka_tools->parsed())
    return kafka_tools->run(cfg);
  if (up->parsed())
    return node::run(std::move(cfg), true);
  if (node_cmd->parsed())
    return node::run(std::move(cfg), false);
  return 0;
}
