#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "bridges/kafka/catalog.hpp"
#include "bridges/kafka/handles.hpp"

/// Cluster metadata probes, used by /health, `distiller topics list|verify`
/// and the start-up check of a real cluster against the catalog.
///
/// Every fetch asks for *all* topics: a Metadata request that names a topic
/// makes librdkafka 2.0.2's mock cluster create it (with 4 partitions,
/// whatever the client's allow.auto.create.topics says), which would hide
/// exactly the missing topics a probe is meant to report.
namespace distiller::kafka {

struct topic_metadata {
  std::string name;
  int partitions = 0;
  /// The broker's error for this topic; empty when fine.
  std::string error;
  /// Replicas of partition 0 (0 if the topic has no partitions). The mock
  /// cluster reports every broker here, whatever replication was asked for.
  int replication = 0;
};

struct cluster_metadata {
  int brokers = 0;
  /// The controller's broker id; -1 if the cluster did not say (librdkafka
  /// 2.0.2's mock cluster reports 0, which is no broker).
  int controller_id = -1;
  /// Every topic, internal ones (`__consumer_offsets`) included, sorted by
  /// name.
  std::vector<topic_metadata> topics;

  const topic_metadata* find(const std::string& name) const;
};

/// One client that fetches metadata again and again.
///
/// Cost: constructing one starts a librdkafka instance (a handful of threads)
/// and its first fetch opens a TCP connection per bootstrap broker; later
/// fetches reuse the connections and take one round trip. A probe that runs
/// every few seconds should keep one `metadata_client`; `fetch_metadata`
/// pays the start-up on every call and suits one-off commands.
///
/// Thread-safety: `fetch` may be called from several threads at once
/// (rd_kafka_metadata is thread-safe; the class keeps no other state).
/// librdkafka's own log lines go to the process log at debug level only, since
/// the probe reports failures through its result.
class metadata_client {
 public:
  /// Throws std::runtime_error if librdkafka rejects a property (`extra`
  /// holds e.g. security.protocol); does not connect yet.
  metadata_client(const std::string& brokers, const std::string& client_id,
                  const std::map<std::string, std::string>& extra = {});

  /// The cluster's brokers, controller and topics, or a `kafka` error
  /// saying why not (`error_text`: e.g. "metadata from 127.0.0.1:1: Local:
  /// Broker transport failure (_TRANSPORT)").
  caf::expected<cluster_metadata> fetch(std::chrono::milliseconds timeout);

 private:
  std::string brokers_;
  rd_kafka_ptr rk_;
};

/// Connects to `brokers` with `client_id` and fetches metadata within
/// `timeout`; a `kafka` error on failure (errc::invalid_config when the
/// client cannot be made). One client per call (see `metadata_client` for
/// the cost).
caf::expected<cluster_metadata>
fetch_metadata(const std::string& brokers, const std::string& client_id,
               std::chrono::milliseconds timeout);

/// Why a catalog topic does not match the cluster.
struct topic_issue {
  std::string name;
  /// e.g. "missing", "has 4 partitions, the catalog declares 12".
  std::string problem;
};

/// Catalog topics that are missing from `md`, report an error, or have fewer
/// partitions than declared, in catalog order.
std::vector<topic_issue> verify_topics(const catalog& c,
                                       const cluster_metadata& md);

/// Names of catalog topics missing from `md` or with fewer partitions than
/// declared (for `topics verify` and start-up checks).
std::vector<std::string> missing_topics(const catalog& c,
                                        const cluster_metadata& md);

} // namespace distiller::kafka
