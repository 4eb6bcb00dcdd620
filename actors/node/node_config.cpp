#include "actors/node/node_config.hpp"

#include <algorithm>
#include <filesystem>

namespace distiller::node {

void declare(config::schema& s, node_config& cfg) {
  config::declare(s, cfg.runtime);
  kafka::declare(s, cfg.kafka);
  postgres::declare(s, cfg.postgres);
  http::declare(s, cfg.http);
  documents::declare(s, cfg.documents);
  thoughts::declare(s, cfg.thoughts);
  broadcast::declare(s, cfg.sse);
  cluster::declare(s, cfg.cluster, cfg.shell);
  // Credentials: `config show` masks them.
  for (auto* key : {"postgres.dsn", "embedder.api_key", "agents.chat_api_key",
                    "cluster.secret", "auth.tokens"})
    s.mark_secret(key);
}

const std::vector<std::string>& known_roles() {
  static const std::vector<std::string> roles{
      "all", "api", "ingest", "embed", "index", "thoughts", "relay"};
  return roles;
}

bool has_role(const node_config& cfg, const std::string& role) {
  auto& roles = cfg.runtime.node.roles;
  return std::find(roles.begin(), roles.end(), "all") != roles.end() ||
         std::find(roles.begin(), roles.end(), role) != roles.end();
}

void resolve_paths(node_config& cfg) {
  auto under = [&](const char* name) {
    return (std::filesystem::path{cfg.runtime.node.data_dir} / name).string();
  };
  if (cfg.postgres.data_dir.empty())
    cfg.postgres.data_dir = under("pg");
  if (cfg.postgres.socket_dir.empty())
    cfg.postgres.socket_dir = under("run");
  if (cfg.kafka.bootstrap_file.empty())
    cfg.kafka.bootstrap_file = under("kafka.bootstrap");
}

void validate(const node_config& cfg) {
  auto& known = known_roles();
  std::string allowed;
  for (auto& r : known)
    allowed += (allowed.empty() ? "" : "|") + r;
  if (cfg.runtime.node.roles.empty())
    throw config::config_error("node.roles",
                               "expected at least one of " + allowed);
  for (auto& role : cfg.runtime.node.roles)
    if (std::find(known.begin(), known.end(), role) == known.end())
      throw config::config_error("node.roles", "unknown role \"" + role +
                                                   "\", expected " + allowed);
  if (cfg.runtime.node.name.empty())
    throw config::config_error("node.name", "must not be empty");
  documents::validate(cfg.documents);
  thoughts::validate(cfg.thoughts);
  kafka::validate(cfg.kafka);
  http::validate(cfg.http);
  cluster::validate(cfg.cluster);
}

} // namespace distiller::node
