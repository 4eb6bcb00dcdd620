#include "bridges/kafka_tools/groups.hpp"

#include <chrono>

#include "bridges/kafka_tools/format.hpp"
#include "runtime/logging/log.hpp"

namespace distiller::kafka::tools {

namespace {

using namespace std::chrono_literals;

constexpr auto group_timeout = 10s;

struct group_list_deleter {
  void operator()(const rd_kafka_group_list* x) const noexcept {
    rd_kafka_group_list_destroy(x);
  }
};
using group_list_ptr =
    std::unique_ptr<const rd_kafka_group_list, group_list_deleter>;

/// Big-endian reader over a byte buffer; every read reports truncation.
class reader {
 public:
  reader(const void* data, size_t size)
      : p_(static_cast<const unsigned char*>(data)), end_(p_ + size) {}

  bool i16(int16_t& x) {
    uint16_t v = 0;
    if (!bytes(2, [&](const unsigned char* b) { v = (b[0] << 8) | b[1]; }))
      return false;
    x = static_cast<int16_t>(v);
    return true;
  }

  bool i32(int32_t& x) {
    uint32_t v = 0;
    if (!bytes(4, [&](const unsigned char* b) {
          v = (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) |
              (uint32_t{b[2]} << 8) | uint32_t{b[3]};
        }))
      return false;
    x = static_cast<int32_t>(v);
    return true;
  }

  bool str(std::string& x) {
    int16_t len = 0;
    if (!i16(len) || len < 0)
      return false;
    return bytes(static_cast<size_t>(len), [&](const unsigned char* b) {
      x.assign(reinterpret_cast<const char*>(b), static_cast<size_t>(len));
    });
  }

 private:
  template <class F>
  bool bytes(size_t n, F f) {
    if (static_cast<size_t>(end_ - p_) < n)
      return false;
    f(p_);
    p_ += n;
    return true;
  }

  const unsigned char* p_;
  const unsigned char* end_;
};

/// "the cluster does not support …" for the mock, or librdkafka's error.
std::string list_groups_error(rd_kafka_resp_err_t err) {
  if (err == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE)
    return "this cluster does not support ListGroups/DescribeGroups (the "
           "embedded librdkafka mock cluster has no group admin API); "
           "`distiller groups lag GROUP` works with any group name";
  return std::string{"cannot list groups: "} + rd_kafka_err2str(err);
}

} // namespace

std::optional<std::vector<member_partitions>>
decode_assignment(const void* data, size_t size) {
  if (data == nullptr || size == 0)
    return std::vector<member_partitions>{};
  reader in{data, size};
  int16_t version = 0;
  int32_t topics = 0;
  if (!in.i16(version) || version < 0 || !in.i32(topics) || topics < 0)
    return std::nullopt;
  std::vector<member_partitions> result;
  for (int32_t i = 0; i < topics; ++i) {
    member_partitions mp;
    int32_t count = 0;
    if (!in.str(mp.topic) || !in.i32(count) || count < 0)
      return std::nullopt;
    for (int32_t j = 0; j < count; ++j) {
      int32_t p = 0;
      if (!in.i32(p))
        return std::nullopt;
      mp.partitions.push_back(p);
    }
    result.push_back(std::move(mp));
  }
  // User data (int32 length + bytes) follows; it is not needed here.
  return result;
}

void print_lag(const lag_report& report, std::ostream& out) {
  text_table table;
  table.add({"TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-START",
             "LOG-END-OFFSET", "LAG"});
  for (auto& p : report.partitions)
    table.add({p.topic, std::to_string(p.partition),
               p.has_commit() ? std::to_string(p.committed) : "-",
               std::to_string(p.low), std::to_string(p.high),
               std::to_string(p.lag)});
  table.print(out);
  out << "Total lag of group " << report.group << ": " << report.total_lag()
      << "\n";
}

int groups_list(session& s, std::ostream& out) {
  const rd_kafka_group_list* raw = nullptr;
  auto err = rd_kafka_list_groups(s.client->handle(), nullptr, &raw,
                                  timeout_ms(group_timeout));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    out << "❌ " << list_groups_error(err) << "\n";
    return 1;
  }
  group_list_ptr groups{raw};
  text_table table;
  table.add({"GROUP", "STATE", "PROTOCOL", "MEMBERS"});
  for (int i = 0; i < groups->group_cnt; ++i) {
    auto& g = groups->groups[i];
    table.add(
        {g.group, g.state ? g.state : "",
         std::string{g.protocol_type ? g.protocol_type : ""} +
             (g.protocol && *g.protocol ? "/" + std::string{g.protocol} : ""),
         std::to_string(g.member_cnt)});
  }
  table.print(out);
  out << groups->group_cnt << " group" << (groups->group_cnt == 1 ? "" : "s")
      << "\n";
  return 0;
}

int groups_describe(session& s, const std::string& group, std::ostream& out) {
  const rd_kafka_group_list* raw = nullptr;
  auto err = rd_kafka_list_groups(s.client->handle(), group.c_str(), &raw,
                                  timeout_ms(group_timeout));
  out << "Group: " << group << "\n";
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    out << "ℹ️  Members unavailable: " << list_groups_error(err) << "\n";
  } else {
    group_list_ptr groups{raw};
    for (int i = 0; i < groups->group_cnt; ++i) {
      auto& g = groups->groups[i];
      out << "  State: " << (g.state ? g.state : "?")
          << ", protocol: " << (g.protocol ? g.protocol : "?")
          << ", members: " << g.member_cnt << "\n";
      text_table table;
      table.add({"MEMBER", "CLIENT-ID", "HOST", "ASSIGNMENT"});
      for (int j = 0; j < g.member_cnt; ++j) {
        auto& m = g.members[j];
        std::string assigned = "?";
        if (auto parts = decode_assignment(
                m.member_assignment,
                static_cast<size_t>(m.member_assignment_size))) {
          assigned.clear();
          for (auto& mp : *parts)
            assigned += (assigned.empty() ? "" : " ") +
                        partitions_text(mp.topic, mp.partitions);
          if (assigned.empty())
            assigned = "-";
        }
        table.add({m.member_id, m.client_id, m.client_host, assigned});
      }
      table.print(out, "  ");
    }
  }
  auto lag = fetch_lag(s, group, {});
  if (!lag) {
    out << "❌ " << error_text(lag.error()) << "\n";
    return 1;
  }
  auto& report = *lag;
  if (report.partitions.empty())
    out << "No committed offsets for group " << group << "\n";
  else
    print_lag(report, out);
  return 0;
}

int groups_lag(session& s, const std::string& group, const std::string& topic,
               std::ostream& out) {
  std::vector<std::string> topics;
  if (!topic.empty())
    topics.push_back(topic);
  auto lag = fetch_lag(s, group, topics);
  if (!lag) {
    out << "❌ " << error_text(lag.error()) << "\n";
    return 1;
  }
  auto& report = *lag;
  if (report.partitions.empty()) {
    out << "No committed offsets for group " << group
        << " (pass --topic to see the lag of a group that has not committed "
           "yet)\n";
    return 0;
  }
  print_lag(report, out);
  return 0;
}

int groups_reset_offsets(session& s, const std::string& group,
                         const std::string& topic, const reset_spec& spec,
                         bool execute, std::ostream& out) {
  auto lag = fetch_lag(s, group, {topic});
  if (!lag) {
    out << "❌ " << error_text(lag.error()) << "\n";
    return 1;
  }
  auto plan = plan_reset(*lag, topic, spec);
  text_table table;
  table.add({"GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "NEW-OFFSET"});
  for (auto& row : plan)
    table.add({group, row.topic, std::to_string(row.partition),
               row.current >= 0 ? std::to_string(row.current) : "-",
               std::to_string(row.target)});
  table.print(out);
  if (!execute) {
    out << "Dry run: nothing committed; pass --execute to commit these "
           "offsets (stop the group's consumers first)\n";
    return 0;
  }
  if (auto err = commit_offsets(s, group, plan)) {
    out << "❌ " << error_text(err) << "\n";
    return 1;
  }
  log::info("group_offsets_reset",
            {{"group", group}, {"topic", topic}, {"partitions", plan.size()}});
  out << "✅ Offsets of group " << group << " on " << topic << " reset ("
      << plan.size() << " partition" << (plan.size() == 1 ? "" : "s") << ")\n";
  return 0;
}

} // namespace distiller::kafka::tools
