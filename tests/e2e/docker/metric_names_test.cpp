// Every metric the compose stack's alert rules (docker/prometheus/alerts.yml)
// and Grafana dashboards (docker/grafana/dashboards/*.json) use exists: a
// whole node (`distiller up`) runs documents, a thought, live and resumed
// event streams and a query, then its /metrics must contain each
// distiller_… name, with the labels the expressions select on. Names of the
// Kafka exporter (kafka_…) and of Prometheus itself (up) are checked against
// the documented list below instead. A name that matches neither fails, so a
// typo or a renamed family cannot go unnoticed in a dashboard nobody opens.

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>

#include <boost/json.hpp>

#include "runtime/core/ids.hpp"
#include "tests/support/document_client.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/stack_files.hpp"
#include "tests/support/testing.hpp"

namespace {

using namespace std::chrono_literals;
namespace dt = distiller::testing;
namespace fs = std::filesystem;
namespace json = boost::json;

/// Labels every scraped series has in the stack: Prometheus' own (job,
/// instance) and the target labels of docker/prometheus/prometheus.yml.
const std::set<std::string> scrape_labels{"job", "instance", "node", "roles"};

/// Metrics that do not come from a Distiller node, with their labels:
/// Prometheus' `up` for every target, and danielqsj/kafka-exporter v1.8.0's
/// families (kafka_exporter.go; the exporter adds no others we use).
const std::map<std::string, std::set<std::string>>& external_metrics() {
  static const std::map<std::string, std::set<std::string>> names{
      {"up", {}},
      {"kafka_brokers", {}},
      {"kafka_broker_info", {"id", "address"}},
      {"kafka_topic_partitions", {"topic"}},
      {"kafka_topic_partition_current_offset", {"topic", "partition"}},
      {"kafka_topic_partition_oldest_offset", {"topic", "partition"}},
      {"kafka_topic_partition_leader", {"topic", "partition"}},
      {"kafka_topic_partition_replicas", {"topic", "partition"}},
      {"kafka_topic_partition_in_sync_replica", {"topic", "partition"}},
      {"kafka_topic_partition_leader_is_preferred", {"topic", "partition"}},
      {"kafka_topic_partition_under_replicated_partition",
       {"topic", "partition"}},
      {"kafka_consumergroup_current_offset",
       {"consumergroup", "topic", "partition"}},
      {"kafka_consumergroup_current_offset_sum", {"consumergroup", "topic"}},
      {"kafka_consumergroup_lag", {"consumergroup", "topic", "partition"}},
      {"kafka_consumergroup_lag_sum", {"consumergroup", "topic"}},
      {"kafka_consumergroup_members", {"consumergroup"}},
  };
  return names;
}

fs::path docker_dir() {
  return dt::source_dir() / "docker";
}

/// Every expression of the rules and the dashboards.
std::vector<dt::located_expr> all_expressions() {
  auto out = dt::rule_expressions(docker_dir() / "prometheus" / "alerts.yml");
  for (auto& e :
       fs::directory_iterator(docker_dir() / "grafana" / "dashboards"))
    if (e.path().extension() == ".json")
      for (auto& x : dt::dashboard_expressions(e.path()))
        out.push_back(std::move(x));
  return out;
}

/// What the expressions use that `exported` lacks, one line each.
std::vector<std::string>
problems(const std::vector<dt::located_expr>& exprs,
         const std::map<std::string, std::set<std::string>>& exported) {
  std::map<std::string, std::set<std::string>> missing; // problem -> where
  for (auto& e : exprs) {
    for (auto& use : dt::metrics_in(e.expr)) {
      const std::set<std::string>* known = nullptr;
      if (auto i = external_metrics().find(use.name);
          i != external_metrics().end()) {
        known = &i->second;
      } else if (use.name.rfind("distiller_", 0) == 0) {
        auto j = exported.find(use.name);
        if (j == exported.end()) {
          missing["missing from /metrics: " + use.name].insert(e.where);
          continue;
        }
        known = &j->second;
      } else {
        missing["neither a Distiller metric nor a documented external one: " +
                use.name]
            .insert(e.where);
        continue;
      }
      for (auto& l : use.labels)
        if (known->count(l) == 0 && scrape_labels.count(l) == 0)
          missing["label " + l + " not on " + use.name].insert(e.where);
    }
  }
  std::vector<std::string> out;
  for (auto& [what, where] : missing) {
    std::string line = what + " (used in";
    for (auto& w : where)
      line += " " + w + ";";
    line.back() = ')';
    out.push_back(line);
  }
  return out;
}

class StackMetrics : public ::testing::Test {
 protected:
  dt::temp_dir dir_{"distiller-e2e-metric-names"};
  std::unique_ptr<dt::child_process> node_;
  uint16_t port_ = 0;

  void start_node() {
    auto catalog = (dt::source_dir() / "config" / "topics.toml").string();
    node_ = std::make_unique<dt::child_process>(
        std::vector<std::string>{dt::distiller_binary(), "up", "--port", "0",
                                 "--name", "node-1", "--data-dir",
                                 dir_.path().string(), "--set",
                                 "kafka.catalog=" + catalog},
        std::vector<std::string>{}, dir_.path());
    auto file = dir_ / "node.json";
    auto mine = [&] {
      try {
        auto info = json::parse(dt::read_file(file)).as_object();
        return info.at("pid").as_int64() == node_->pid();
      } catch (const std::exception&) {
        return false;
      }
    };
    ASSERT_TRUE(dt::wait_until([&] { return mine() || !node_->running(); },
                               180s, 50ms) &&
                node_->running())
        << "node did not start:\n"
        << node_->err();
    auto info = json::parse(dt::read_file(file)).as_object();
    port_ = static_cast<uint16_t>(info.at("http_port").as_int64());
    ASSERT_TRUE(dt::wait_until(
        [&] {
          try {
            dt::http_client c{port_};
            return c.get("/ready").status == 200;
          } catch (const std::exception&) {
            return false;
          }
        },
        120s, 100ms))
        << node_->err();
  }

  void TearDown() override {
    if (node_ && node_->running()) {
      node_->signal(SIGINT);
      EXPECT_EQ(node_->wait(60s), 0) << node_->err();
    }
  }

  std::map<std::string, std::set<std::string>> scrape() {
    dt::http_client c{port_};
    auto r = c.get("/metrics");
    EXPECT_EQ(r.status, 200u);
    return dt::exposition_names(r.body);
  }
};

TEST(StackExpressions, NamesAreFoundInTheExpressions) {
  // The extraction itself, on the shapes the files use.
  auto uses = dt::metrics_in(
      R"(sum by (node, bridge) (rate(distiller_bridge_records_processed_total{node=~".*"}[5m])) / on (node) group_left (roles) up{job="distiller"} > 0.5 and histogram_quantile(0.99, sum by (le) (rate(x_seconds_bucket[5m]))) offset 1h)");
  std::vector<std::string> names;
  for (auto& u : uses)
    names.push_back(u.name);
  EXPECT_EQ(names, (std::vector<std::string>{
                       "distiller_bridge_records_processed_total", "up",
                       "x_seconds_bucket"}));
  EXPECT_EQ(uses[0].labels, (std::set<std::string>{"node"}));
  EXPECT_EQ(uses[1].labels, (std::set<std::string>{"job"}));
  EXPECT_EQ(
      dt::grafana_to_promql(R"(rate(a{node=~"$node"}[$__rate_interval]))"),
      R"(rate(a{node=~".*"}[5m]))");
  auto exposition =
      dt::exposition_names("# TYPE a counter\na{x=\"1\",y=\"a,\\\"b\"} 1\nb "
                           "2\nc_bucket{le=\"+Inf\"} 3\n");
  EXPECT_EQ(exposition["a"], (std::set<std::string>{"x", "y"}));
  EXPECT_EQ(exposition.count("b"), 1u);
  EXPECT_EQ(exposition["c_bucket"], (std::set<std::string>{"le"}));
  // Every file contributes.
  auto all = all_expressions();
  EXPECT_GT(all.size(), 50u);
}

TEST_F(StackMetrics, EveryNameTheRulesAndDashboardsUseIsExported) {
  auto exprs = all_expressions();
  ASSERT_FALSE(exprs.empty());
  ASSERT_NO_FATAL_FAILURE(start_node());

  // -- activity: a live thought stream, a document, a thought, a query, a
  // resumed stream and a 404, so the families that need traffic have series.
  auto user = distiller::make_uuid();
  dt::sse_reader live{port_, "/thoughts/stream/" + user};
  ASSERT_EQ(live.reply().status, 200u);
  ASSERT_TRUE(live.next(30s)); // ready
  dt::document_client docs{port_};
  auto job = docs.upload_ok(
      "starfish.txt",
      "Starfish open mussels by pulling on the shells with their tube feet. "
      "They are patient hunters of the rocky shore. A mussel gives up after "
      "a while, and the starfish pushes its stomach inside.");
  {
    dt::http_client c{port_};
    auto r = c.post("/thoughts",
                    json::serialize(json::object{
                        {"text", "I need to call the dentist by Friday."},
                        {"user_id", user}}));
    ASSERT_EQ(r.status, 202u) << r.body;
  }
  std::string last_id;
  bool completed = false;
  while (!completed) {
    auto e = live.next(60s);
    ASSERT_TRUE(e) << "no thought_completed event";
    if (!e->id.empty())
      last_id = e->id;
    completed = e->event == "thought_completed";
  }
  auto final_status = docs.wait_final(job);
  ASSERT_TRUE(final_status.is_object());
  EXPECT_EQ(final_status.at("status").as_string(), "completed");
  EXPECT_FALSE(docs.events(job, 30s).empty()); // a job stream
  EXPECT_EQ(docs.query("How do starfish open mussels?").status, 200u);
  {
    // Resuming from the first event replays the rest.
    dt::sse_reader resumed{
        port_, "/thoughts/stream/" + user, {{"Last-Event-ID", "1"}}};
    ASSERT_EQ(resumed.reply().status, 200u);
    EXPECT_TRUE(resumed.next(30s));
    dt::http_client c{port_};
    EXPECT_EQ(c.get("/no-such-page").status, 404u);
  }

  // Offsets are committed (and lag exported) in the background: scrape until
  // nothing is missing or the deadline passes, then report what still is.
  std::vector<std::string> left;
  dt::wait_until(
      [&] {
        left = problems(exprs, scrape());
        return left.empty();
      },
      30s, 500ms);
  std::string report;
  for (auto& l : left)
    report += "  " + l + "\n";
  EXPECT_TRUE(left.empty())
      << left.size()
      << " problem(s) with the metric names of docker/prometheus/alerts.yml "
         "and docker/grafana/dashboards:\n"
      << report;
}

} // namespace
