#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bridges/kafka/compression.hpp"

/// The topic catalog: every Kafka topic Distiller uses, with its partitions,
/// replication and topic configs, declared once in `config/topics.toml`.
/// The embedded cluster creates its topics from it, `distiller topics
/// apply|verify` builds CreateTopics requests and checks from it, and start-up
/// verifies a real cluster against it. Loading validates everything once and
/// throws `config::config_error` naming the offending key, e.g.
/// `topics.chunk-processing.partitions`.
namespace distiller::kafka {

/// One topic as declared in the catalog.
struct topic_spec {
  std::string name;
  int partitions = 1;
  int replication = 1;
  /// retention.ms; -1 keeps records forever.
  std::chrono::milliseconds retention{7 * 24 * 3600 * 1000LL};
  /// compression.type: a codec, or nullopt for "producer" (the brokers keep
  /// what each producer sent). `compression_type` spells it.
  std::optional<compression> codec = compression::snappy;
  /// cleanup.policy: delete|compact.
  std::string cleanup_policy = "delete";
  /// min.insync.replicas (1..replication).
  int min_insync_replicas = 1;
  /// segment.ms: how often the log rolls, which bounds how late retention
  /// deletes (Kafka deletes whole segments only).
  std::chrono::milliseconds segment{24 * 3600 * 1000LL};
  /// The dead-letter topic records of this topic go to after their last
  /// attempt (empty: none); always another catalog topic.
  std::string dead_letter;
  std::string description;
};

/// All topics of a deployment, in the order of the file.
struct catalog {
  std::vector<topic_spec> topics;

  /// The topic named `name`, or nullptr.
  const topic_spec* find(std::string_view name) const;
};

/// Loads and validates a catalog file. Throws `config::config_error` whose
/// key names the bad entry (`topics.<name>.<key>`, `defaults.<key>`) and whose
/// message says which values are allowed; a file that cannot be read or parsed
/// is reported under the key `kafka.catalog`.
catalog load_catalog(const std::string& path);

/// Same as `load_catalog`, from TOML text (`origin` names it in messages).
catalog parse_catalog(std::string_view toml_text,
                      const std::string& origin = "topics.toml");

/// The topic configs a CreateTopics request sets for `t`: retention.ms,
/// compression.type, cleanup.policy, min.insync.replicas, segment.ms.
std::map<std::string, std::string> topic_configs(const topic_spec& t);

/// The topic's compression.type: its codec's name, or "producer".
std::string compression_type(const topic_spec& t);

/// True for a legal Kafka topic name: 1..249 characters of [a-zA-Z0-9._-],
/// and neither "." nor "..".
bool valid_topic_name(std::string_view name);

} // namespace distiller::kafka
