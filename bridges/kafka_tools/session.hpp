#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "bridges/kafka/kafka_config.hpp"
#include "bridges/kafka_tools/cluster.hpp"

/// Finding and reaching the cluster a Kafka tool works on.
///
/// Where: `kafka.brokers` (`--brokers`, KAFKA_BOOTSTRAP_SERVERS) if set;
/// otherwise the embedded cluster of the node running on this machine, whose
/// address the node writes to `kafka.bootstrap_file`
/// (`<node.data_dir>/kafka.bootstrap`). A bootstrap file left behind by a
/// node that is gone (its `node.json` names a pid that no longer runs) counts
/// as no node.
///
/// How: like the node at start-up (seed 002), up to `kafka.connect_retries`
/// attempts `kafka.connect_retry_delay` apart, logging
/// event=kafka_unreachable for each failed one.
///
/// Failures are `caf::error`s of category `kafka` whose one string of
/// context is the sentence the tools print (`kafka::error_text`).
namespace distiller::kafka::tools {

struct cluster_target {
  std::string bootstrap;
  /// Where the address came from: "kafka.brokers", a bootstrap file's path,
  /// or "in-process".
  std::string source;
  /// True if it is a running node's embedded (mock) cluster.
  bool from_node = false;
};

/// Where the tools should connect, or an errc::no_cluster error saying why
/// nowhere ("no Kafka configured and no running node found at
/// var/kafka.bootstrap; …"). `data_dir` is `node.data_dir` (where node.json
/// is).
caf::expected<cluster_target> locate_cluster(const kafka_config& cfg,
                                             const std::string& data_dir);

/// A connected cluster: the client, what it reported, and the settings
/// every further client of the same command uses.
struct session {
  cluster_target target;
  std::string client_id;
  /// Properties every client gets besides bootstrap.servers and client.id
  /// (security.protocol).
  std::map<std::string, std::string> properties;
  std::unique_ptr<cluster_client> client;
  cluster_info info;

  /// Fetches `info` again; returns `describe`'s error, or none (and `info`
  /// stays as it was on error).
  caf::error refresh(std::chrono::milliseconds timeout = std::chrono::seconds{
                         10});

  /// True if admin requests can be sent (see cluster_info::has_controller);
  /// false on the embedded mock cluster.
  bool admin_api() const noexcept { return info.has_controller(); }

  /// Properties for a new client: `properties` plus bootstrap.servers and
  /// client.id (suffixed with `role`, e.g. "distiller-tools-producer").
  std::map<std::string, std::string>
  client_properties(const std::string& role) const;
};

struct connect_settings {
  int attempts = 30;
  std::chrono::milliseconds delay{2000};
  /// Per attempt.
  std::chrono::milliseconds timeout{5000};
  /// Checked between attempts; set by SIGINT handlers.
  const std::atomic<bool>* stop = nullptr;
};

/// The settings of `cfg` (connect_retries, connect_retry_delay).
connect_settings settings_of(const kafka_config& cfg);

/// Connects to `target` with retries; returns the session or why not: the
/// last attempt's error (its code, e.g. broker_unavailable) with the address
/// and the number of attempts in its sentence ("cannot reach Kafka at
/// 127.0.0.1:1 (kafka.brokers) after 2 attempts: metadata from …"), or
/// errc::invalid_config when librdkafka rejects a property.
caf::expected<std::unique_ptr<session>>
open_session(const cluster_target& target, const kafka_config& cfg,
             const connect_settings& how);

} // namespace distiller::kafka::tools
