#include "bridges/kafka_tools/topics.hpp"

#include <chrono>
#include <map>
#include <set>

#include "bridges/kafka/metadata.hpp"
#include "bridges/kafka_tools/admin.hpp"
#include "bridges/kafka_tools/format.hpp"
#include "runtime/config/schema.hpp"
#include "runtime/logging/log.hpp"

namespace distiller::kafka::tools {

namespace {

using namespace std::chrono_literals;

constexpr auto admin_timeout = 30s;
constexpr auto query_timeout = 10s;

/// Explains once why apply/delete cannot act on this cluster.
void explain_no_admin(const session& s, std::ostream& out) {
  out << "ℹ️  This cluster has no admin API: its controller id "
      << s.info.controller_id << " is none of its brokers"
      << (s.target.from_node ? " (the node's embedded librdkafka mock cluster)"
                             : " (a librdkafka mock cluster)")
      << ".\n"
      << "   The embedded cluster creates the catalog's topics when its node "
         "starts; restart the node to create missing ones.\n";
}

std::string plural(int n, const char* word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

} // namespace

std::vector<apply_step> plan_apply(const catalog& c, const cluster_info& info,
                                   bool grow) {
  std::vector<apply_step> result;
  for (auto& spec : c.topics) {
    apply_step step{spec.name, apply_action::create, 0, spec.partitions};
    if (auto t = info.find(spec.name); t != nullptr && t->error.empty()) {
      step.have = t->partition_count();
      if (step.have >= step.want)
        step.action = apply_action::exists;
      else
        step.action =
            grow ? apply_action::grow : apply_action::short_partitions;
    }
    result.push_back(step);
  }
  return result;
}

int topics_apply(session& s, const catalog& c, bool grow, std::ostream& out) {
  auto steps = plan_apply(c, s.info, grow);
  out << "🚀 Applying " << plural(static_cast<int>(steps.size()), "topic")
      << " of the catalog to " << s.target.bootstrap << "\n";
  std::vector<std::string> not_ready;
  if (!s.admin_api()) {
    explain_no_admin(s, out);
    for (auto& st : steps) {
      switch (st.action) {
      case apply_action::exists:
        out << "✅ exists: " << st.topic << " (" << st.have << " partitions)\n";
        break;
      case apply_action::create:
        out << "❌ missing: " << st.topic
            << " — the embedded cluster creates catalog topics at node start; "
               "restart the node\n";
        not_ready.push_back(st.topic);
        break;
      case apply_action::short_partitions:
      case apply_action::grow:
        out << "❌ " << st.topic << ": has " << st.have
            << " partitions, the catalog declares " << st.want
            << " (the mock cannot add partitions; restart the node)\n";
        not_ready.push_back(st.topic);
        break;
      }
    }
  } else {
    std::vector<std::string> to_create;
    std::map<std::string, int> to_grow;
    for (auto& st : steps) {
      if (st.action == apply_action::create)
        to_create.push_back(st.topic);
      else if (st.action == apply_action::grow)
        to_grow[st.topic] = st.want;
    }
    std::map<std::string, topic_result> created;
    if (!to_create.empty())
      for (auto& r :
           create_topics(s.client->handle(), create_requests(c, to_create),
                         admin_timeout))
        created[r.name] = r;
    std::map<std::string, topic_result> grown;
    if (!to_grow.empty())
      for (auto& r :
           create_partitions(s.client->handle(), to_grow, admin_timeout))
        grown[r.name] = r;
    for (auto& st : steps) {
      auto spec = c.find(st.topic);
      switch (st.action) {
      case apply_action::exists:
        out << "ℹ️  Topic already exists: " << st.topic << " (" << st.have
            << " partitions)\n";
        break;
      case apply_action::create: {
        auto& r = created[st.topic];
        if (r.ok()) {
          out << "✅ Created topic: " << st.topic << " (" << st.want
              << " partitions, replication " << spec->replication << ")\n";
          log::info("topic_created", {{"topic", st.topic},
                                      {"partitions", st.want},
                                      {"replication", spec->replication}});
        } else if (r.err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
          // Created by someone else since we fetched metadata.
          out << "ℹ️  Topic already exists: " << st.topic << "\n";
        } else {
          out << "❌ Failed to create topic " << st.topic << ": " << r.message
              << " (" << rd_kafka_err2name(r.err) << ")\n";
          not_ready.push_back(st.topic);
        }
        break;
      }
      case apply_action::short_partitions:
        out << "⚠️  " << st.topic << ": has " << st.have
            << " partitions, the catalog declares " << st.want
            << "; pass --grow to add " << st.want - st.have
            << " (keys then map to other partitions)\n";
        not_ready.push_back(st.topic);
        break;
      case apply_action::grow: {
        auto& r = grown[st.topic];
        if (r.ok()) {
          out << "✅ Grew topic " << st.topic << " from " << st.have << " to "
              << st.want << " partitions\n";
        } else {
          out << "❌ Failed to grow topic " << st.topic << ": " << r.message
              << "\n";
          not_ready.push_back(st.topic);
        }
        break;
      }
      }
    }
  }
  if (not_ready.empty()) {
    out << "✅ All " << plural(static_cast<int>(steps.size()), "topic")
        << " ready\n";
    return 0;
  }
  out << "❌ " << not_ready.size() << " of " << steps.size()
      << " topics not ready:";
  for (auto& t : not_ready)
    out << " " << t;
  out << "\n";
  return 1;
}

int topics_verify(session& s, const catalog& c, std::ostream& out) {
  auto issues = verify_topics(c, s.info.to_metadata());
  std::set<std::string> bad;
  for (auto& i : issues)
    bad.insert(i.name);
  for (auto& spec : c.topics) {
    if (bad.count(spec.name) != 0)
      continue;
    out << "✅ " << spec.name << " ("
        << s.info.find(spec.name)->partition_count() << " partitions)\n";
  }
  for (auto& i : issues) {
    if (i.problem == "missing")
      out << "❌ Missing topic: " << i.name << "\n";
    else
      out << "❌ " << i.name << ": " << i.problem << "\n";
  }
  if (issues.empty()) {
    out << "✅ All " << plural(static_cast<int>(c.topics.size()), "topic")
        << " of the catalog exist\n";
    return 0;
  }
  out << "Missing topics:";
  for (auto& i : issues)
    out << " " << i.name;
  out << "\n";
  return 1;
}

int topics_list(session& s, const catalog& c, bool all, std::ostream& out) {
  text_table table;
  table.add({"TOPIC", "PARTITIONS", "REPLICATION", "CATALOG"});
  int shown = 0;
  for (auto& t : s.info.topics) {
    if (t.internal() && !all)
      continue;
    auto spec = c.find(t.name);
    std::string in_catalog = "-";
    if (spec != nullptr)
      in_catalog = spec->partitions == t.partition_count()
                       ? "yes"
                       : "yes (declares " + std::to_string(spec->partitions) +
                             " partitions)";
    auto repl = t.partitions.empty() ? 0 : t.partitions[0].replicas.size();
    table.add({t.name, std::to_string(t.partition_count()),
               std::to_string(repl), in_catalog});
    ++shown;
  }
  table.print(out);
  out << plural(shown, "topic") << " on " << s.info.brokers.size() << " broker"
      << (s.info.brokers.size() == 1 ? "" : "s") << " (" << s.target.bootstrap
      << ")\n";
  return 0;
}

int topics_describe(session& s, const catalog& c,
                    const std::vector<std::string>& names, std::ostream& out) {
  std::vector<const topic_info*> topics;
  int unknown = 0;
  if (names.empty()) {
    for (auto& t : s.info.topics)
      if (!t.internal())
        topics.push_back(&t);
  } else {
    for (auto& n : names) {
      if (auto t = s.info.find(n))
        topics.push_back(t);
      else {
        out << "❌ Unknown topic: " << n << "\n";
        ++unknown;
      }
    }
  }
  for (auto t : topics) {
    auto repl = t->partitions.empty() ? 0 : t->partitions[0].replicas.size();
    out << "Topic: " << t->name << "  partitions=" << t->partition_count()
        << "  replication=" << repl;
    if (auto spec = c.find(t->name))
      out << "  catalog: " << spec->partitions << " partitions, retention "
          << (spec->retention.count() < 0
                  ? std::string{"forever"}
                  : config::format_duration(spec->retention))
          << ", compression " << kafka::compression_type(*spec);
    else
      out << "  (not in the catalog)";
    out << "\n";
    if (!t->error.empty())
      out << "  error: " << t->error << "\n";
    text_table table;
    table.add(
        {"PARTITION", "LEADER", "REPLICAS", "ISR", "LOW", "HIGH", "RECORDS"});
    int64_t total = 0;
    for (auto& p : t->partitions) {
      std::string low = "?", high = "?", records = "?";
      if (auto w = s.client->query_watermarks(t->name, p.id, query_timeout)) {
        low = std::to_string(w->low);
        high = std::to_string(w->high);
        records = std::to_string(w->high - w->low);
        total += w->high - w->low;
      }
      table.add({std::to_string(p.id), std::to_string(p.leader),
                 join(p.replicas), join(p.isr), low, high,
                 records + (p.error.empty() ? "" : "  (" + p.error + ")")});
    }
    table.print(out, "  ");
    out << "  " << total << " records retained\n";
  }
  return unknown == 0 ? 0 : 1;
}

int topics_delete(session& s, const std::vector<std::string>& names,
                  std::ostream& out) {
  if (!s.admin_api()) {
    out << "❌ " << mock_cannot_delete << "\n";
    return 1;
  }
  int failed = 0;
  for (auto& r : delete_topics(s.client->handle(), names, admin_timeout)) {
    if (r.ok()) {
      out << "✅ Deleted topic: " << r.name << "\n";
      log::info("topic_deleted", {{"topic", r.name}});
    } else {
      out << "❌ Failed to delete topic " << r.name << ": " << r.message << " ("
          << rd_kafka_err2name(r.err) << ")\n";
      ++failed;
    }
  }
  return failed == 0 ? 0 : 1;
}

} // namespace distiller::kafka::tools
