#include "bridges/kafka_tools/offsets.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "bridges/kafka/handles.hpp"
#include "bridges/kafka_tools/shutdown.hpp"
#include "runtime/logging/log.hpp"

namespace distiller::kafka::tools {

int64_t compute_lag(int64_t committed, int64_t low, int64_t high) noexcept {
  if (high < low)
    return 0;
  if (committed < 0 || committed < low)
    return high - low;
  if (committed > high)
    return 0;
  return high - committed;
}

int64_t lag_report::total_lag() const noexcept {
  int64_t sum = 0;
  for (auto& p : partitions)
    sum += p.lag;
  return sum;
}

namespace {

/// A consumer that knows `group` but never subscribes: it can fetch and
/// commit the group's offsets without joining it.
rd_kafka_ptr group_client(session& s, const std::string& group) {
  auto props = s.client_properties("offsets");
  props["group.id"] = group;
  // Never commit anything on close.
  props["enable.auto.commit"] = "false";
  auto conf = make_conf(props);
  forward_logs(conf.get(), true);
  return make_client(RD_KAFKA_CONSUMER, std::move(conf));
}

/// "<context>: <description>", with a hint when the group has members.
caf::error group_error(rd_kafka_resp_err_t err, std::string context) {
  context += ": ";
  context += rd_kafka_err2str(err);
  switch (err) {
  case RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID:
  case RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION:
  case RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS:
    context += " — the group has active members; stop its consumers first";
    break;
  default:
    break;
  }
  return caf::make_error(classify(err), std::move(context));
}

/// A client that could not be made (librdkafka rejected a property).
caf::error config_error(const std::exception& e) {
  return caf::make_error(errc::invalid_config, std::string{e.what()});
}

} // namespace

caf::expected<lag_report> fetch_lag(session& s, const std::string& group,
                                    const std::vector<std::string>& topics,
                                    std::chrono::milliseconds timeout) {
  std::vector<const topic_info*> chosen;
  if (topics.empty()) {
    for (auto& t : s.info.topics)
      if (!t.internal() && t.error.empty())
        chosen.push_back(&t);
  } else {
    for (auto& name : topics) {
      auto t = s.info.find(name);
      if (t == nullptr)
        return caf::make_error(errc::unknown_topic, "unknown topic " + name);
      chosen.push_back(t);
    }
  }
  lag_report report;
  report.group = group;
  if (chosen.empty())
    return report;
  topic_partition_list_ptr list{rd_kafka_topic_partition_list_new(0)};
  for (auto t : chosen)
    for (auto& p : t->partitions)
      rd_kafka_topic_partition_list_add(list.get(), t->name.c_str(), p.id);
  try {
    auto rk = group_client(s, group);
    auto err = rd_kafka_committed(rk.get(), list.get(), timeout_ms(timeout));
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
      return group_error(err, "committed offsets of group " + group);
  } catch (const std::exception& e) {
    return config_error(e);
  }
  std::set<std::string> with_commits;
  for (int i = 0; i < list->cnt; ++i) {
    auto& e = list->elems[i];
    partition_lag row;
    row.topic = e.topic;
    row.partition = e.partition;
    row.committed = e.err == RD_KAFKA_RESP_ERR_NO_ERROR ? e.offset : no_offset;
    auto wm = s.client->query_watermarks(row.topic, row.partition, timeout);
    if (!wm)
      return std::move(wm.error());
    row.low = wm->low;
    row.high = wm->high;
    row.lag = compute_lag(row.committed, row.low, row.high);
    if (row.has_commit())
      with_commits.insert(row.topic);
    report.partitions.push_back(std::move(row));
  }
  // Without named topics, show the topics the group works on.
  if (topics.empty())
    std::erase_if(report.partitions, [&](auto& row) {
      return with_commits.count(row.topic) == 0;
    });
  std::sort(
      report.partitions.begin(), report.partitions.end(), [](auto& x, auto& y) {
        return std::tie(x.topic, x.partition) < std::tie(y.topic, y.partition);
      });
  return report;
}

int64_t reset_target(const reset_spec& spec, int64_t low,
                     int64_t high) noexcept {
  switch (spec.to) {
  case reset_to::earliest:
    return low;
  case reset_to::latest:
    return high;
  case reset_to::offset:
    return std::clamp(spec.offset, low, std::max(low, high));
  }
  return low;
}

std::vector<reset_row> plan_reset(const lag_report& current,
                                  const std::string& topic,
                                  const reset_spec& spec) {
  std::vector<reset_row> plan;
  for (auto& p : current.partitions)
    if (p.topic == topic)
      plan.push_back({p.topic, p.partition, p.committed,
                      reset_target(spec, p.low, p.high)});
  return plan;
}

namespace {

/// Rebalance state of `commit_as_member`'s consumer.
struct join_state {
  bool assigned = false;
};

void on_join_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                       rd_kafka_topic_partition_list_t* parts, void* opaque) {
  auto& st = *static_cast<join_state*>(opaque);
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    rd_kafka_assign(rk, parts);
    st.assigned = true;
  } else {
    rd_kafka_assign(rk, nullptr);
    st.assigned = false;
  }
}

/// Joins `group` (subscribing to the plan's topics), commits `list` with the
/// member's generation and leaves again. For clusters that refuse commits
/// from outside a group that exists (librdkafka 2.0.2's mock keeps every
/// group that ever had members and answers UNKNOWN_MEMBER_ID).
caf::error commit_as_member(session& s, const std::string& group,
                            rd_kafka_topic_partition_list_t* list,
                            std::chrono::milliseconds timeout) {
  join_state st;
  auto props = s.client_properties("offsets");
  props["group.id"] = group;
  props["enable.auto.commit"] = "false";
  props["enable.auto.offset.store"] = "false";
  // The mock completes the rebalance this join starts after the group's
  // session timeout (minus 1 s) when the group had members before.
  props["session.timeout.ms"] = "10000";
  props["heartbeat.interval.ms"] = "3000";
  auto conf = make_conf(props);
  forward_logs(conf.get(), true);
  rd_kafka_conf_set_rebalance_cb(conf.get(), on_join_rebalance);
  rd_kafka_conf_set_opaque(conf.get(), &st);
  auto rk = make_client(RD_KAFKA_CONSUMER, std::move(conf));
  rd_kafka_poll_set_consumer(rk.get());
  topic_partition_list_ptr topics{rd_kafka_topic_partition_list_new(1)};
  std::set<std::string> names;
  for (int i = 0; i < list->cnt; ++i)
    if (names.insert(list->elems[i].topic).second)
      rd_kafka_topic_partition_list_add(topics.get(), list->elems[i].topic,
                                        RD_KAFKA_PARTITION_UA);
  if (auto err = rd_kafka_subscribe(rk.get(), topics.get());
      err != RD_KAFKA_RESP_ERR_NO_ERROR)
    return rdkafka_error(err, "subscribe");
  // Joining waits for the group's rebalance: the initial delay (~3 s) for an
  // empty group, up to the last session timeout when members left just
  // before (the mock). Records fetched meanwhile are dropped unprocessed.
  auto deadline =
      std::chrono::steady_clock::now() + timeout + std::chrono::seconds{50};
  while (!st.assigned && std::chrono::steady_clock::now() < deadline) {
    message_ptr dropped{rd_kafka_consumer_poll(rk.get(), 100)};
  }
  auto err = st.assigned ? rd_kafka_commit(rk.get(), list, 0)
                         : RD_KAFKA_RESP_ERR__TIMED_OUT;
  leave_group(rk.get(), [&] { return st.assigned; });
  rd_kafka_consumer_close(rk.get());
  destroy_closed_consumer(std::move(rk));
  if (err == RD_KAFKA_RESP_ERR__TIMED_OUT)
    return caf::make_error(errc::timeout,
                           "could not join group " + group + " to commit");
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    return group_error(err, "commit for group " + group);
  return caf::none;
}

bool outside_commit_refused(rd_kafka_resp_err_t err) {
  return err == RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID ||
         err == RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION;
}

} // namespace

caf::error commit_offsets(session& s, const std::string& group,
                          const std::vector<reset_row>& plan,
                          std::chrono::milliseconds timeout) {
  if (plan.empty())
    return caf::none;
  topic_partition_list_ptr list{rd_kafka_topic_partition_list_new(0)};
  for (auto& row : plan)
    rd_kafka_topic_partition_list_add(list.get(), row.topic.c_str(),
                                      row.partition)
        ->offset = row.target;
  try {
    auto rk = group_client(s, group);
    // rd_kafka_commit has no timeout of its own; the request is bounded by
    // socket.timeout.ms. Fetching first finds the coordinator within
    // `timeout` and fails early when the cluster is gone.
    topic_partition_list_ptr probe{
        rd_kafka_topic_partition_list_copy(list.get())};
    if (auto err =
            rd_kafka_committed(rk.get(), probe.get(), timeout_ms(timeout));
        err != RD_KAFKA_RESP_ERR_NO_ERROR)
      return group_error(err, "group " + group);
    // Like kafka-consumer-groups: a commit from outside the group, which
    // Kafka accepts while the group has no active members.
    auto err = rd_kafka_commit(rk.get(), list.get(), 0);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
      for (int i = 0; i < list->cnt; ++i)
        if (list->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
          err = list->elems[i].err;
          break;
        }
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
      return caf::none;
    if (outside_commit_refused(err) && !s.admin_api()) {
      log::info("commit_as_member",
                {{"group", group},
                 {"reason", "the mock cluster refuses commits from outside a "
                            "group it knows; joining the group to commit"}});
      for (int i = 0; i < list->cnt; ++i)
        list->elems[i].err = RD_KAFKA_RESP_ERR_NO_ERROR;
      return commit_as_member(s, group, list.get(), timeout);
    }
    return group_error(err, "commit for group " + group);
  } catch (const std::exception& e) {
    return config_error(e);
  }
}

} // namespace distiller::kafka::tools
