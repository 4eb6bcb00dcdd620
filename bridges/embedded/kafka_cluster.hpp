#pragma once

#include <map>
#include <mutex>
#include <string>

#include "bridges/kafka/catalog.hpp"
#include "bridges/kafka/handles.hpp"

namespace distiller::embedded {

/// The embedded Kafka: librdkafka's in-process mock cluster, speaking the
/// Kafka wire protocol on loopback ports, so any client (our bridges, kcat,
/// kafka-python, another process) reaches it through `bootstrap()`.
///
/// Owns one idle librdkafka producer (the mock needs one for bookkeeping; it
/// never connects anywhere) and the mock cluster, which runs its brokers on a
/// thread of its own. Destroying the object stops the brokers; clients still
/// connected then see transport errors, so destroy them first.
///
/// Limits of librdkafka 2.0.2's mock that callers must know:
///   - everything is in memory; each partition keeps at most ~5 MiB or
///     100,000 batches and evicts older ones (the log start moves);
///   - no CreateTopics/DeleteTopics/DescribeConfigs: topics are created here,
///     with `create_topic(s)`; topic configs (retention …) are not applied;
///   - any Metadata request naming an unknown topic creates it with 4
///     partitions, whatever the client's allow.auto.create.topics says — so
///     create the catalog's topics before starting clients;
///   - the mock accepts any name and 0 partitions; `create_topic` validates;
///   - metadata lists every broker as a replica whatever the replication,
///     and 0 as the controller id;
///   - consumer-group joins wait ~3 s (initial rebalance delay);
///   - destruction takes ~1 s (the mock's I/O thread wakes once a second).
///
/// Thread-safety: all members may be called from any thread.
class kafka_cluster {
 public:
  /// Starts `brokers` mock brokers (1..16) on loopback ports chosen by the
  /// kernel; throws std::invalid_argument or std::runtime_error on failure.
  explicit kafka_cluster(int brokers = 3);
  ~kafka_cluster();

  kafka_cluster(const kafka_cluster&) = delete;
  kafka_cluster& operator=(const kafka_cluster&) = delete;

  /// "127.0.0.1:port,127.0.0.1:port,…"
  const std::string& bootstrap() const noexcept { return bootstrap_; }

  /// Creates `name` with `partitions` (1..1024); replication is capped at the
  /// broker count. Idempotent: returns false if the topic existed already
  /// (the mock cannot add partitions; an existing topic with fewer partitions
  /// is logged as event=topic_partitions_mismatch and left alone).
  /// Throws std::invalid_argument for a bad name or partition count and
  /// std::runtime_error if the mock refuses.
  bool create_topic(const std::string& name, int partitions, int replication);

  /// Creates every topic of the catalog, logging event=topic_created (or
  /// topic_exists) topic=… partitions=… replication=… — the replica count
  /// the cluster reports, with catalog_replication=… when the catalog asked
  /// for another (the mock puts every partition on every broker).
  void create_topics(const kafka::catalog& c);

  /// Writes `bootstrap()` and a newline to `path` atomically (a temporary file
  /// renamed over it), creating parent directories. Throws std::runtime_error.
  void write_bootstrap_file(const std::string& path) const;

  /// The mock cluster, for fault injection in tests
  /// (rd_kafka_mock_broker_set_down/_up, _set_rtt, push_request_errors …).
  rd_kafka_mock_cluster_t* mock() noexcept { return mock_.get(); }

  int broker_count() const noexcept { return brokers_; }

 private:
  int brokers_;
  // Declaration order is destruction order reversed: the mock must go before
  // the rd_kafka_t it was created with.
  kafka::rd_kafka_ptr rk_;
  kafka::mock_cluster_ptr mock_;
  std::string bootstrap_;
  std::mutex mtx_;
  /// Partitions of the topics created through this object.
  std::map<std::string, int> created_;
};

/// Reads a bootstrap file written by `write_bootstrap_file` (first line,
/// trimmed); throws std::runtime_error if it is missing or empty.
std::string read_bootstrap_file(const std::string& path);

} // namespace distiller::embedded
