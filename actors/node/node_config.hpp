#pragma once

#include "actors/broadcast/broadcast_config.hpp"
#include "actors/documents/documents_config.hpp"
#include "actors/thoughts/thoughts_config.hpp"
#include "bridges/http/http_config.hpp"
#include "bridges/kafka/kafka_config.hpp"
#include "bridges/postgres/pg_config.hpp"
#include "runtime/cluster/cluster_config.hpp"
#include "runtime/config/runtime_config.hpp"
#include "runtime/config/schema.hpp"

namespace distiller::node {

/// Everything one node is configured with: each module's own struct, filled
/// once at start from defaults → file → environment → flags.
struct node_config {
  config::runtime_config runtime;
  kafka::kafka_config kafka;
  postgres::pg_config postgres;
  http::http_config http;
  documents::documents_config documents;
  thoughts::thoughts_config thoughts;
  broadcast::broadcast_config sse;
  cluster::cluster_config cluster;
  cluster::shell_config shell;
};

/// Declares every key of a node into `s`, bound to `cfg`'s fields.
void declare(config::schema& s, node_config& cfg);

/// Checks rules that span keys (e.g. role names); throws config_error.
void validate(const node_config& cfg);

/// Fills the paths left empty from `node.data_dir` (pg data and socket
/// directories, the Kafka bootstrap file).
void resolve_paths(node_config& cfg);

/// The roles a node may run.
const std::vector<std::string>& known_roles();

/// True if `cfg` runs `role` (directly or through "all").
bool has_role(const node_config& cfg, const std::string& role);

} // namespace distiller::node
