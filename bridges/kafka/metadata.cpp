#include "bridges/kafka/metadata.hpp"

#include <algorithm>
#include <climits>
#include <stdexcept>

namespace distiller::kafka {

namespace {

int to_timeout_ms(std::chrono::milliseconds x) {
  return static_cast<int>(
      std::clamp<std::chrono::milliseconds::rep>(x.count(), 0, INT_MAX));
}

} // namespace

const topic_metadata* cluster_metadata::find(const std::string& name) const {
  for (auto& t : topics)
    if (t.name == name)
      return &t;
  return nullptr;
}

// -- metadata_client ----------------------------------------------------------

metadata_client::metadata_client(
    const std::string& brokers, const std::string& client_id,
    const std::map<std::string, std::string>& extra)
    : brokers_(brokers) {
  auto props = extra;
  props["bootstrap.servers"] = brokers;
  props["client.id"] = client_id;
  // Never let a probe create topics (a real broker honours this; see the
  // header for the mock).
  props["allow.auto.create.topics"] = "false";
  auto conf = make_conf(props);
  forward_logs(conf.get(), true);
  // A producer joins no group and starts no fetchers: the cheapest client.
  rk_ = make_client(RD_KAFKA_PRODUCER, std::move(conf));
}

caf::expected<cluster_metadata>
metadata_client::fetch(std::chrono::milliseconds timeout) {
  const rd_kafka_metadata_t* raw = nullptr;
  auto err =
      rd_kafka_metadata(rk_.get(), 1, nullptr, &raw, to_timeout_ms(timeout));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    return from_rdkafka(err, "metadata from " + brokers_);
  metadata_ptr md{raw};
  cluster_metadata result;
  result.brokers = md->broker_cnt;
  // Known from the Metadata response just received; no extra round trip.
  result.controller_id = rd_kafka_controllerid(rk_.get(), 0);
  result.topics.reserve(static_cast<size_t>(md->topic_cnt));
  for (int i = 0; i < md->topic_cnt; ++i) {
    auto& t = md->topics[i];
    topic_metadata entry;
    entry.name = t.topic;
    entry.partitions = t.partition_cnt;
    if (t.err != RD_KAFKA_RESP_ERR_NO_ERROR)
      entry.error = rd_kafka_err2str(t.err);
    if (t.partition_cnt > 0)
      entry.replication = t.partitions[0].replica_cnt;
    result.topics.push_back(std::move(entry));
  }
  std::sort(result.topics.begin(), result.topics.end(),
            [](auto& x, auto& y) { return x.name < y.name; });
  return result;
}

caf::expected<cluster_metadata>
fetch_metadata(const std::string& brokers, const std::string& client_id,
               std::chrono::milliseconds timeout) {
  try {
    metadata_client client{brokers, client_id};
    return client.fetch(timeout);
  } catch (const std::exception& e) {
    return caf::make_error(errc::invalid_config, std::string{e.what()});
  }
}

// -- checks against the catalog -----------------------------------------------

std::vector<topic_issue> verify_topics(const catalog& c,
                                       const cluster_metadata& md) {
  std::vector<topic_issue> result;
  for (auto& spec : c.topics) {
    auto t = md.find(spec.name);
    if (t == nullptr)
      result.push_back({spec.name, "missing"});
    else if (!t->error.empty())
      result.push_back({spec.name, t->error});
    else if (t->partitions < spec.partitions)
      result.push_back({spec.name, "has " + std::to_string(t->partitions) +
                                       " partitions, the catalog declares " +
                                       std::to_string(spec.partitions)});
  }
  return result;
}

std::vector<std::string> missing_topics(const catalog& c,
                                        const cluster_metadata& md) {
  std::vector<std::string> result;
  for (auto& issue : verify_topics(c, md))
    result.push_back(issue.name);
  return result;
}

} // namespace distiller::kafka
