#include "actors/app/cli_config.hpp"

#include <initializer_list>

#include "runtime/config/loader.hpp"
#include "runtime/logging/log.hpp"

namespace distiller::app {

namespace {

struct shortcut {
  const char* flag;
  const char* key;
  const char* help;
};

void add_flags(CLI::App& cmd, config_flags& flags,
               std::initializer_list<shortcut> shortcuts) {
  cmd.add_option("-c,--config", flags.file,
                 "Configuration file (TOML); default config/distiller.toml "
                 "if it exists, or $DISTILLER_CONFIG");
  cmd.add_option("--set", flags.sets,
                 "Set any key: --set section.key=value (repeatable)");
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

} // namespace

void add_config_flags(CLI::App& cmd, config_flags& flags) {
  add_flags(
      cmd, flags,
      {
          {"--brokers", "kafka.brokers",
           "Kafka bootstrap servers; omit to start the embedded cluster"},
          {"--pg", "postgres.dsn",
           "PostgreSQL DSN; omit to start a private cluster under var/pg"},
          {"--host", "http.host", "HTTP listen address"},
          {"--port", "http.port", "HTTP listen port (0 picks a free one)"},
          {"--name", "node.name", "Node name"},
          {"--roles", "node.roles", "Roles (comma-separated)"},
          {"--data-dir", "node.data_dir",
           "Directory for runtime data; one node per directory (a second "
           "start exits 2 naming the running node)"},
          {"--services", "node.services_dir",
           "Data directory of a running `distiller services up`: use its "
           "Kafka and PostgreSQL"},
          {"--log-level", "log.level", "debug, info, warn or error"},
      });
}

void add_client_config_flags(CLI::App& cmd, config_flags& flags) {
  add_flags(
      cmd, flags,
      {
          {"--brokers", "kafka.brokers",
           "Kafka bootstrap servers; omit to use the running node's "
           "embedded cluster (<data-dir>/kafka.bootstrap; exits 1 at once, "
           "\"no running node in <dir>: … left from a node that stopped "
           "(pid N)\", if the node that wrote it is gone)"},
          {"--data-dir", "node.data_dir", "The local node's data directory"},
          {"--log-level", "log.level", "debug, info, warn or error"},
      });
}

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

} // namespace distiller::app
