#include "bridges/kafka_tools/admin.hpp"

#include <algorithm>
#include <memory>
#include <stdexcept>

#include "bridges/kafka_tools/cluster.hpp"

namespace distiller::kafka::tools {

namespace {

struct delete_topic_deleter {
  void operator()(rd_kafka_DeleteTopic_t* x) const noexcept {
    rd_kafka_DeleteTopic_destroy(x);
  }
};

struct new_partitions_deleter {
  void operator()(rd_kafka_NewPartitions_t* x) const noexcept {
    rd_kafka_NewPartitions_destroy(x);
  }
};

using delete_topic_ptr =
    std::unique_ptr<rd_kafka_DeleteTopic_t, delete_topic_deleter>;
using new_partitions_ptr =
    std::unique_ptr<rd_kafka_NewPartitions_t, new_partitions_deleter>;

/// Raw pointers for librdkafka's array arguments; ownership stays with `xs`.
template <class T, class D>
std::vector<T*> raw(const std::vector<std::unique_ptr<T, D>>& xs) {
  std::vector<T*> result;
  for (auto& x : xs)
    result.push_back(x.get());
  return result;
}

/// Admin options with the request and operation timeouts set.
admin_options_ptr make_options(rd_kafka_t* rk, rd_kafka_admin_op_t op,
                               std::chrono::milliseconds timeout) {
  admin_options_ptr opts{rd_kafka_AdminOptions_new(rk, op)};
  char errstr[512];
  if (rd_kafka_AdminOptions_set_request_timeout(opts.get(), timeout_ms(timeout),
                                                errstr, sizeof(errstr)) !=
      RD_KAFKA_RESP_ERR_NO_ERROR)
    throw std::invalid_argument(std::string{"admin request timeout: "} +
                                errstr);
  // How long the controller may take to finish (create/delete on every
  // broker) before it answers; DeleteTopics and CreatePartitions too.
  if (rd_kafka_AdminOptions_set_operation_timeout(
          opts.get(), timeout_ms(timeout), errstr, sizeof(errstr)) !=
      RD_KAFKA_RESP_ERR_NO_ERROR)
    throw std::invalid_argument(std::string{"admin operation timeout: "} +
                                errstr);
  return opts;
}

/// Waits for the result event on `q`; a request-level error becomes every
/// topic's result.
template <class GetResult, class GetTopics>
std::vector<topic_result> collect(rd_kafka_queue_t* q,
                                  const std::vector<std::string>& names,
                                  std::chrono::milliseconds timeout,
                                  GetResult get_result, GetTopics get_topics) {
  // The request times out on its own after `timeout`; the extra second lets
  // that answer arrive instead of racing it.
  event_ptr ev{rd_kafka_queue_poll(q, timeout_ms(timeout) + 1000)};
  auto fail_all = [&](rd_kafka_resp_err_t err, const std::string& msg) {
    std::vector<topic_result> result;
    for (auto& n : names)
      result.push_back({n, err, msg});
    return result;
  };
  if (!ev)
    return fail_all(RD_KAFKA_RESP_ERR__TIMED_OUT,
                    "no answer from the controller in time");
  if (auto err = rd_kafka_event_error(ev.get());
      err != RD_KAFKA_RESP_ERR_NO_ERROR)
    return fail_all(err, rd_kafka_event_error_string(ev.get()));
  auto res = get_result(ev.get());
  if (res == nullptr)
    return fail_all(RD_KAFKA_RESP_ERR__BAD_MSG, "unexpected admin result");
  size_t n = 0;
  auto topics = get_topics(res, &n);
  std::vector<topic_result> result;
  for (size_t i = 0; i < n; ++i) {
    auto err = rd_kafka_topic_result_error(topics[i]);
    auto msg = rd_kafka_topic_result_error_string(topics[i]);
    result.push_back({rd_kafka_topic_result_name(topics[i]), err,
                      msg != nullptr && *msg != '\0' ? std::string{msg}
                                                     : rd_kafka_err2str(err)});
  }
  return result;
}

} // namespace

std::vector<new_topic_request>
create_requests(const catalog& c, const std::vector<std::string>& only) {
  for (auto& name : only)
    if (c.find(name) == nullptr)
      throw std::invalid_argument("topic " + name + " is not in the catalog");
  std::vector<new_topic_request> result;
  for (auto& t : c.topics) {
    if (!only.empty() &&
        std::find(only.begin(), only.end(), t.name) == only.end())
      continue;
    result.push_back({t.name, t.partitions, t.replication, topic_configs(t)});
  }
  return result;
}

std::vector<new_topic_ptr>
make_new_topics(const std::vector<new_topic_request>& requests,
                const set_config_fn& set_config) {
  std::vector<new_topic_ptr> result;
  for (auto& r : requests) {
    if (!valid_topic_name(r.name))
      throw std::invalid_argument("invalid topic name \"" + r.name + "\"");
    if (r.partitions < 1)
      throw std::invalid_argument("topic " + r.name +
                                  ": partitions must be at least 1, got " +
                                  std::to_string(r.partitions));
    if (r.replication < 1)
      throw std::invalid_argument("topic " + r.name +
                                  ": replication must be at least 1, got " +
                                  std::to_string(r.replication));
    char errstr[512];
    new_topic_ptr nt{rd_kafka_NewTopic_new(
        r.name.c_str(), r.partitions, r.replication, errstr, sizeof(errstr))};
    if (!nt)
      throw std::invalid_argument("topic " + r.name + ": " + errstr);
    for (auto& [key, value] : r.configs) {
      if (key.empty() || value.empty())
        throw std::invalid_argument("topic " + r.name + ": config \"" + key +
                                    "\" needs a name and a value");
      auto err = set_config ? set_config(nt.get(), key.c_str(), value.c_str())
                            : rd_kafka_NewTopic_set_config(
                                  nt.get(), key.c_str(), value.c_str());
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
        throw std::invalid_argument("topic " + r.name + ": config " + key +
                                    "=" + value + ": " + rd_kafka_err2str(err));
    }
    result.push_back(std::move(nt));
  }
  return result;
}

std::vector<topic_result>
create_topics(rd_kafka_t* rk, const std::vector<new_topic_request>& requests,
              std::chrono::milliseconds timeout) {
  if (requests.empty())
    return {};
  auto topics = make_new_topics(requests);
  auto opts = make_options(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS, timeout);
  queue_ptr q{rd_kafka_queue_new(rk)};
  auto ptrs = raw(topics);
  rd_kafka_CreateTopics(rk, ptrs.data(), ptrs.size(), opts.get(), q.get());
  std::vector<std::string> names;
  for (auto& r : requests)
    names.push_back(r.name);
  return collect(q.get(), names, timeout, rd_kafka_event_CreateTopics_result,
                 rd_kafka_CreateTopics_result_topics);
}

std::vector<topic_result>
create_partitions(rd_kafka_t* rk, const std::map<std::string, int>& totals,
                  std::chrono::milliseconds timeout) {
  if (totals.empty())
    return {};
  std::vector<new_partitions_ptr> parts;
  std::vector<std::string> names;
  char errstr[512];
  for (auto& [name, total] : totals) {
    new_partitions_ptr p{rd_kafka_NewPartitions_new(
        name.c_str(), static_cast<size_t>(total), errstr, sizeof(errstr))};
    if (!p)
      throw std::invalid_argument("topic " + name + ": " + errstr);
    parts.push_back(std::move(p));
    names.push_back(name);
  }
  auto opts = make_options(rk, RD_KAFKA_ADMIN_OP_CREATEPARTITIONS, timeout);
  queue_ptr q{rd_kafka_queue_new(rk)};
  auto ptrs = raw(parts);
  rd_kafka_CreatePartitions(rk, ptrs.data(), ptrs.size(), opts.get(), q.get());
  return collect(q.get(), names, timeout,
                 rd_kafka_event_CreatePartitions_result,
                 rd_kafka_CreatePartitions_result_topics);
}

std::vector<topic_result> delete_topics(rd_kafka_t* rk,
                                        const std::vector<std::string>& names,
                                        std::chrono::milliseconds timeout) {
  if (names.empty())
    return {};
  std::vector<delete_topic_ptr> topics;
  for (auto& n : names)
    topics.emplace_back(rd_kafka_DeleteTopic_new(n.c_str()));
  auto opts = make_options(rk, RD_KAFKA_ADMIN_OP_DELETETOPICS, timeout);
  queue_ptr q{rd_kafka_queue_new(rk)};
  auto ptrs = raw(topics);
  rd_kafka_DeleteTopics(rk, ptrs.data(), ptrs.size(), opts.get(), q.get());
  return collect(q.get(), names, timeout, rd_kafka_event_DeleteTopics_result,
                 rd_kafka_DeleteTopics_result_topics);
}

} // namespace distiller::kafka::tools
