#include "bridges/kafka_tools/cluster.hpp"

#include <algorithm>
#include <climits>

namespace distiller::kafka::tools {

caf::error rdkafka_error(rd_kafka_resp_err_t err, std::string context) {
  context += ": ";
  context += rd_kafka_err2str(err);
  return caf::make_error(classify(err), std::move(context));
}

int timeout_ms(std::chrono::milliseconds x) noexcept {
  return static_cast<int>(
      std::clamp<std::chrono::milliseconds::rep>(x.count(), 0, INT_MAX));
}

const topic_info* cluster_info::find(std::string_view name) const {
  for (auto& t : topics)
    if (t.name == name)
      return &t;
  return nullptr;
}

bool cluster_info::has_controller() const noexcept {
  return std::any_of(brokers.begin(), brokers.end(),
                     [this](auto& b) { return b.id == controller_id; });
}

cluster_metadata cluster_info::to_metadata() const {
  cluster_metadata md;
  md.brokers = static_cast<int>(brokers.size());
  md.controller_id = controller_id;
  for (auto& t : topics) {
    topic_metadata entry;
    entry.name = t.name;
    entry.partitions = t.partition_count();
    entry.error = t.error;
    if (!t.partitions.empty())
      entry.replication = static_cast<int>(t.partitions[0].replicas.size());
    md.topics.push_back(std::move(entry));
  }
  return md;
}

cluster_client::cluster_client(const std::string& bootstrap,
                               const std::string& client_id,
                               const std::map<std::string, std::string>& extra)
    : bootstrap_(bootstrap) {
  auto props = extra;
  props["bootstrap.servers"] = bootstrap;
  props["client.id"] = client_id;
  // A real broker honours this; the mock auto-creates anyway (see header).
  props["allow.auto.create.topics"] = "false";
  auto conf = make_conf(props);
  // Connection failures are reported through results and retried by the
  // caller, which logs each attempt; librdkafka's own lines stay at debug.
  forward_logs(conf.get(), true);
  rk_ = make_client(RD_KAFKA_PRODUCER, std::move(conf));
}

caf::expected<cluster_info>
cluster_client::describe(std::chrono::milliseconds timeout) {
  const rd_kafka_metadata_t* raw = nullptr;
  auto err =
      rd_kafka_metadata(rk_.get(), 1, nullptr, &raw, timeout_ms(timeout));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    return rdkafka_error(err, "metadata from " + bootstrap_);
  metadata_ptr md{raw};
  cluster_info result;
  for (int i = 0; i < md->broker_cnt; ++i)
    result.brokers.push_back(
        {md->brokers[i].id, md->brokers[i].host, md->brokers[i].port});
  std::sort(result.brokers.begin(), result.brokers.end(),
            [](auto& x, auto& y) { return x.id < y.id; });
  result.controller_id = rd_kafka_controllerid(rk_.get(), 0);
  for (int i = 0; i < md->topic_cnt; ++i) {
    auto& t = md->topics[i];
    topic_info entry;
    entry.name = t.topic;
    if (t.err != RD_KAFKA_RESP_ERR_NO_ERROR)
      entry.error = rd_kafka_err2str(t.err);
    for (int j = 0; j < t.partition_cnt; ++j) {
      auto& p = t.partitions[j];
      partition_info part;
      part.id = p.id;
      part.leader = p.leader;
      part.replicas.assign(p.replicas, p.replicas + p.replica_cnt);
      part.isr.assign(p.isrs, p.isrs + p.isr_cnt);
      if (p.err != RD_KAFKA_RESP_ERR_NO_ERROR)
        part.error = rd_kafka_err2str(p.err);
      entry.partitions.push_back(std::move(part));
    }
    std::sort(entry.partitions.begin(), entry.partitions.end(),
              [](auto& x, auto& y) { return x.id < y.id; });
    result.topics.push_back(std::move(entry));
  }
  std::sort(result.topics.begin(), result.topics.end(),
            [](auto& x, auto& y) { return x.name < y.name; });
  return result;
}

caf::expected<watermarks>
cluster_client::query_watermarks(const std::string& topic, int32_t partition,
                                 std::chrono::milliseconds timeout) {
  watermarks w;
  auto err =
      rd_kafka_query_watermark_offsets(rk_.get(), topic.c_str(), partition,
                                       &w.low, &w.high, timeout_ms(timeout));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    return rdkafka_error(err, "watermarks of " + topic + "/" +
                                  std::to_string(partition));
  return w;
}

} // namespace distiller::kafka::tools
