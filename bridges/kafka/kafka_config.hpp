#pragma once

#include <chrono>
#include <map>
#include <string>

#include "runtime/config/schema.hpp"

namespace distiller::kafka {

/// [kafka]: where the node's Kafka is and how to reach it.
struct kafka_config {
  /// Bootstrap servers; empty = start the embedded mock cluster.
  std::string brokers;
  /// Brokers of the embedded mock cluster.
  int embedded_brokers = 3;
  /// Where the embedded cluster's bootstrap address is written; empty means
  /// `<node.data_dir>/kafka.bootstrap`.
  std::string bootstrap_file;
  /// The topic catalog.
  std::string catalog = "config/topics.toml";
  /// The producers' codec (compression.codec) for topics the catalog gives
  /// none ("producer", or not listed): none|gzip|snappy|lz4|zstd. Seed 002:
  /// snappy. See compression.hpp.
  std::string compression = "snappy";
  /// client.id of every client this node creates.
  std::string client_id = "distiller";
  /// Connection attempts before giving up at start-up (seed 002: 30).
  int connect_retries = 30;
  /// Delay between connection attempts.
  std::chrono::milliseconds connect_retry_delay{2000};
  /// security.protocol for a real cluster: plaintext, ssl, sasl_plaintext,
  /// sasl_ssl.
  std::string security_protocol = "plaintext";
  /// session.timeout.ms of the pipelines' consumers: how long a node that
  /// died keeps its partitions before the group gives them to the others
  /// (librdkafka's default, 45 s, would stall a partition that long).
  std::chrono::milliseconds session_timeout{6000};
  /// session.timeout.ms when the brokers are the embedded Kafka (the node's
  /// own or `distiller services up`'s): its group coordinator waits
  /// session.timeout.ms - 1 s before every rebalance where a real broker
  /// waits only for the live members to rejoin, so the same 6 s would move a
  /// dead node's partitions after ~12 s instead of ~7 s.
  std::chrono::milliseconds embedded_session_timeout{4000};
  /// Set by the node (not a key): the brokers are the embedded Kafka.
  bool embedded = false;
  /// heartbeat.interval.ms of the pipelines' consumers; below a third of
  /// the session timeout.
  std::chrono::milliseconds heartbeat_interval{1000};
  /// delivery.timeout.ms of the node's producers (its sinks): how long a
  /// record may wait for the brokers before its produce fails; the outbox
  /// keeps its row and tries again, a stage's batch is retried.
  std::chrono::milliseconds delivery_timeout{30000};
};

void declare(config::schema& s, kafka_config& cfg);

/// Rules across keys (the heartbeat below a third of the session timeout);
/// throws config::config_error naming the key.
void validate(const kafka_config& cfg);

/// The session timeout the pipelines' consumers use: embedded or not.
std::chrono::milliseconds session_timeout(const kafka_config& cfg);

/// How long a caller waits for the acknowledgements of a sink whose
/// delivery timeout is `delivery_timeout`: 5 s more, so that the sink's own
/// answer (delivered or timed out) comes first.
std::chrono::milliseconds
produce_wait(std::chrono::milliseconds delivery_timeout);

/// The consumer-group properties every pipeline consumer of a node gets:
/// session.timeout.ms and heartbeat.interval.ms.

std::map<std::string, std::string> group_properties(const kafka_config& cfg);

} // namespace distiller::kafka
