#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <caf/expected.hpp>

#include "bridges/kafka/handles.hpp"
#include "bridges/kafka/metadata.hpp"

/// What the Kafka tools need to know about a cluster: brokers, the
/// controller, every topic with its partitions' leaders and replicas, and
/// the partitions' watermarks.
///
/// Like `metadata.hpp`, `describe` asks for *all* topics: naming an unknown
/// topic in a Metadata request makes librdkafka 2.0.2's mock cluster create
/// it with 4 partitions. Watermarks are only ever asked for partitions that
/// `describe` returned.
namespace distiller::kafka::tools {

struct broker_info {
  int32_t id = -1;
  std::string host;
  int port = 0;
};

struct partition_info {
  int32_t id = 0;
  /// -1 if the partition has no leader.
  int32_t leader = -1;
  std::vector<int32_t> replicas;
  std::vector<int32_t> isr;
  /// The broker's error for this partition; empty when fine.
  std::string error;
};

struct topic_info {
  std::string name;
  std::vector<partition_info> partitions;
  /// The broker's error for this topic; empty when fine.
  std::string error;

  /// Kafka's own topics (`__consumer_offsets`, `__transaction_state`).
  bool internal() const noexcept { return name.rfind("__", 0) == 0; }
  int partition_count() const noexcept {
    return static_cast<int>(partitions.size());
  }
};

struct cluster_info {
  std::vector<broker_info> brokers;
  /// As the cluster reported it; -1 if it did not.
  int32_t controller_id = -1;
  /// Sorted by name, internal topics included.
  std::vector<topic_info> topics;

  const topic_info* find(std::string_view name) const;

  /// True if the controller is one of the brokers. Admin requests
  /// (CreateTopics, DeleteTopics, CreatePartitions) go to the controller; the
  /// librdkafka 2.0.2 mock cluster reports controller 0, which is none of its
  /// brokers, and implements no admin API, so a request to it would only
  /// time out ("Failed while waiting for controller").
  bool has_controller() const noexcept;

  /// The same data in the shape `verify_topics` takes.
  cluster_metadata to_metadata() const;
};

/// A partition's log start (low) and end (high) offsets.
struct watermarks {
  int64_t low = 0;
  int64_t high = 0;
};

/// One librdkafka client (a producer: it joins no group and starts no
/// fetchers) for metadata, watermarks and admin requests.
///
/// Thread-safety: the librdkafka calls are thread-safe; the object keeps no
/// other state.
class cluster_client {
 public:
  /// `extra` holds further librdkafka properties (security.protocol …);
  /// throws std::runtime_error if one is rejected. Does not connect yet.
  cluster_client(const std::string& bootstrap, const std::string& client_id,
                 const std::map<std::string, std::string>& extra = {});

  /// Brokers, controller and all topics, or a `kafka` error saying why not
  /// (`error_text`: "metadata from 127.0.0.1:1: Local: Broker transport
  /// failure"; its code from `classify`).
  caf::expected<cluster_info> describe(std::chrono::milliseconds timeout);

  /// The watermarks of one partition (a ListOffsets round trip), or a
  /// `kafka` error ("watermarks of <topic>/<partition>: …"). Only ask for
  /// partitions `describe` listed (see above).
  caf::expected<watermarks> query_watermarks(const std::string& topic,
                                             int32_t partition,
                                             std::chrono::milliseconds timeout);

  rd_kafka_t* handle() noexcept { return rk_.get(); }
  const std::string& bootstrap() const noexcept { return bootstrap_; }

 private:
  std::string bootstrap_;
  rd_kafka_ptr rk_;
};

/// A `kafka` error for `err` (its code from `classify`) whose sentence is
/// "<context>: <librdkafka's description>" — the tools' lines name no
/// error code, unlike `from_rdkafka`'s.
caf::error rdkafka_error(rd_kafka_resp_err_t err, std::string context);

/// Clamps a duration into the int milliseconds librdkafka takes.
int timeout_ms(std::chrono::milliseconds x) noexcept;

} // namespace distiller::kafka::tools
