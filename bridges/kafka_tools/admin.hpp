#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "bridges/kafka/catalog.hpp"
#include "bridges/kafka/handles.hpp"

/// Kafka's admin API (KIP-4) for the tools: CreateTopics from the catalog,
/// CreatePartitions, DeleteTopics.
///
/// Building a request is split in two pure steps so both are tested without a
/// broker: `create_requests` turns the catalog into plain structs, and
/// `make_new_topics` turns those into librdkafka objects, checking every
/// return code. Sending (`create_topics`, …) needs a cluster with a
/// controller: librdkafka 2.0.2's mock cluster has none and implements none
/// of these requests (see cluster_info::has_controller); callers check that
/// first instead of waiting for a timeout.
namespace distiller::kafka::tools {

/// One topic of a CreateTopics request.
struct new_topic_request {
  std::string name;
  int partitions = 1;
  int replication = 1;
  /// Topic configs (retention.ms, compression.type, …).
  std::map<std::string, std::string> configs;

  bool operator==(const new_topic_request&) const = default;
};

/// The requests for the catalog's topics, in catalog order; with `only`
/// non-empty, for those topics only. Throws std::invalid_argument naming a
/// topic of `only` that is not in the catalog.
std::vector<new_topic_request>
create_requests(const catalog& c, const std::vector<std::string>& only = {});

/// librdkafka's rd_kafka_NewTopic_set_config, replaceable in tests.
using set_config_fn = std::function<rd_kafka_resp_err_t(
    rd_kafka_NewTopic_t*, const char* name, const char* value)>;

/// One rd_kafka_NewTopic_t per request, every config set. Throws
/// std::invalid_argument naming the topic (and config key) when a request is
/// invalid (bad name, partitions or replication < 1, empty config key or
/// value) or librdkafka rejects it.
std::vector<new_topic_ptr>
make_new_topics(const std::vector<new_topic_request>& requests,
                const set_config_fn& set_config = {});

/// The outcome of an admin request for one topic.
struct topic_result {
  std::string name;
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  /// The broker's message, or librdkafka's description of `err`.
  std::string message;

  bool ok() const noexcept { return err == RD_KAFKA_RESP_ERR_NO_ERROR; }
};

/// Sends one CreateTopics request and waits for its result (`timeout` for the
/// request and for the controller to create the topics). A failed request
/// reports its error for every topic. TOPIC_ALREADY_EXISTS is reported as
/// such; callers decide that it is fine.
std::vector<topic_result>
create_topics(rd_kafka_t* rk, const std::vector<new_topic_request>& requests,
              std::chrono::milliseconds timeout);

/// Grows topics to the given total partition counts (CreatePartitions).
std::vector<topic_result>
create_partitions(rd_kafka_t* rk, const std::map<std::string, int>& totals,
                  std::chrono::milliseconds timeout);

/// Deletes topics (DeleteTopics).
std::vector<topic_result> delete_topics(rd_kafka_t* rk,
                                        const std::vector<std::string>& names,
                                        std::chrono::milliseconds timeout);

} // namespace distiller::kafka::tools
