// `distiller load` against a real node: one in-process node (embedded
// Kafka, private PostgreSQL, HTTP on a free port) and the `distiller`
// binary run as a child for each workload for a few seconds. The JSON
// report's documented fields are checked against what the node saw
// (thoughts and document jobs in PostgreSQL), the plot file against the
// PNG/SVG formats; a threshold that cannot be met exits 1, bad usage 2, and
// `compare` prints both runs.

#include <gtest/gtest.h>

#include <filesystem>

#include <boost/json.hpp>
#include <pqxx/pqxx>

#include "actors/node/node.hpp"
#include "tests/support/testing.hpp"

namespace {

using namespace std::chrono_literals;
namespace dt = distiller::testing;
namespace node = distiller::node;
namespace json = boost::json;
namespace fs = std::filesystem;

class load_command : public ::testing::Test {
 protected:
  static inline dt::temp_dir* dir = nullptr;
  static inline node::node* n = nullptr;

  static void SetUpTestSuite() {
    dir = new dt::temp_dir{"distiller-load"};
    node::node_config cfg;
    cfg.runtime.node.name = "load-test";
    cfg.runtime.node.data_dir = (dir->path() / "var").string();
    cfg.kafka.catalog = (dt::source_dir() / "config" / "topics.toml").string();
    cfg.http.port = 0;
    node::resolve_paths(cfg);
    n = new node::node(cfg);
    n->start();
  }

  static void TearDownTestSuite() {
    if (n)
      n->stop();
    delete n;
    n = nullptr;
    delete dir;
    dir = nullptr;
  }

  static std::string data_dir() { return (dir->path() / "var").string(); }
  static fs::path file(const std::string& name) { return dir->path() / name; }

  int64_t scalar(const std::string& sql) {
    pqxx::connection c{n->pg_dsn()};
    pqxx::nontransaction tx{c};
    return tx.exec1(sql)[0].as<int64_t>();
  }

  /// `distiller load <args…> --data-dir <node's>`, from the source tree (for
  /// config/).
  dt::process_result load(std::vector<std::string> args,
                          std::chrono::milliseconds timeout = 120s) {
    std::vector<std::string> argv{dt::distiller_binary(), "load"};
    for (auto& a : args)
      argv.push_back(a);
    if (args.front() != "compare") {
      argv.push_back("--data-dir");
      argv.push_back(data_dir());
    }
    return dt::run_process(argv, {}, timeout);
  }

  static json::object report(const fs::path& p) {
    return json::parse(dt::read_file(p)).as_object();
  }

  static uint64_t u(const json::value& v) { return v.to_number<uint64_t>(); }
  static double d(const json::value& v) { return v.to_number<double>(); }

  /// The documented top-level fields and their consistency.
  static void check_common(const json::object& r, const std::string& command,
                           const std::vector<std::string>& histograms) {
    for (auto* key :
         {"version", "tool", "command", "argv", "target", "model", "config",
          "start", "end", "duration_s", "elapsed_s", "interrupted", "totals",
          "primary", "latency", "errors", "series", "workload", "thresholds"})
      EXPECT_TRUE(r.contains(key)) << key;
    EXPECT_EQ(r.at("version").as_int64(), 1);
    EXPECT_EQ(r.at("command").as_string(), command);
    EXPECT_FALSE(r.at("interrupted").as_bool());
    auto& t = r.at("totals").as_object();
    EXPECT_GT(u(t.at("sent")), 0u);
    EXPECT_EQ(u(t.at("ok")) + u(t.at("errors")), u(t.at("sent")));
    EXPECT_EQ(u(t.at("errors")), u(r.at("errors").at("total")));
    EXPECT_GT(d(t.at("rate")), 0);
    auto& lat = r.at("latency").as_object();
    for (auto& h : histograms) {
      ASSERT_TRUE(lat.contains(h)) << h;
      auto& l = lat.at(h).as_object();
      for (auto* key : {"count", "min_ms", "mean_ms", "p50_ms", "p90_ms",
                        "p99_ms", "p999_ms", "max_ms", "distribution"})
        EXPECT_TRUE(l.contains(key)) << h << "." << key;
      if (u(l.at("count")) > 0) {
        EXPECT_LE(d(l.at("min_ms")), d(l.at("p50_ms")));
        EXPECT_LE(d(l.at("p50_ms")), d(l.at("p99_ms")));
        EXPECT_LE(d(l.at("p99_ms")), d(l.at("max_ms")) + 1e-9);
        EXPECT_GT(d(l.at("max_ms")), 0);
        EXPECT_LT(d(l.at("max_ms")), 120'000);
      }
    }
    auto& series = r.at("series").as_object();
    auto& rows = series.at("rows").as_array();
    EXPECT_GE(rows.size(), 2u);
    uint64_t sent = 0;
    for (auto& row : rows)
      sent += u(row.as_array()[2]);
    EXPECT_EQ(sent, u(t.at("sent")));
    for (auto* cls : {"connect", "timeout", "http_4xx", "http_5xx", "protocol",
                      "unsent", "kafka"})
      EXPECT_TRUE(r.at("errors").at("by_class").as_object().contains(cls));
  }
};

TEST_F(load_command, thoughts_report_matches_the_node_and_draws_an_svg) {
  auto before = scalar("SELECT count(*) FROM thoughts");
  auto r =
      load({"thoughts", "--duration", "3s", "--rate", "20", "--users", "5",
            "--json", file("t.json").string(), "--plot", file("t.svg").string(),
            "--threshold", "p99<30s", "--no-progress"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("latency (ms)"), std::string::npos) << r.out;
  auto rep = report(file("t.json"));
  check_common(rep, "thoughts", {"submit", "completed"});
  auto& w = rep.at("workload").as_object();
  auto ok = u(rep.at("totals").at("ok"));
  EXPECT_NEAR(static_cast<double>(ok), 60, 3);
  EXPECT_EQ(u(w.at("accepted")), ok);
  EXPECT_EQ(u(w.at("completed")), ok);
  EXPECT_EQ(u(w.at("missing")), 0u);
  EXPECT_EQ(u(w.at("order_violations")), 0u);
  EXPECT_EQ(u(w.at("gaps")), 0u);
  EXPECT_EQ(u(w.at("duplicates")), 0u);
  EXPECT_EQ(u(rep.at("latency").at("completed").at("count")), ok);
  EXPECT_GT(d(w.at("thoughts_per_minute")), 0);
  // The node stored every accepted thought and completed it.
  EXPECT_EQ(scalar("SELECT count(*) FROM thoughts") - before,
            static_cast<int64_t>(ok));
  EXPECT_EQ(rep.at("thresholds").as_array().size(), 1u);
  EXPECT_TRUE(rep.at("thresholds").as_array()[0].at("ok").as_bool());
  auto svg = dt::read_file(file("t.svg"));
  EXPECT_NE(svg.find("<svg"), std::string::npos);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  // The default target came from node.json.
  EXPECT_EQ(rep.at("target").as_string(),
            "http://127.0.0.1:" + std::to_string(n->http_port()));

  // The same, closed model, then compared.
  auto r2 = load({"thoughts", "--count", "20", "--concurrency", "2", "--users",
                  "3", "--json", file("t2.json").string(), "-q"});
  ASSERT_EQ(r2.exit_code, 0) << r2.out << r2.err;
  auto rep2 = report(file("t2.json"));
  EXPECT_EQ(rep2.at("model").at("kind").as_string(), "closed");
  EXPECT_EQ(u(rep2.at("totals").at("sent")), 20u);
  auto c = load({"compare", file("t.json").string(), file("t2.json").string()});
  ASSERT_EQ(c.exit_code, 0) << c.out << c.err;
  EXPECT_NE(c.out.find("t.json"), std::string::npos) << c.out;
  EXPECT_NE(c.out.find("t2.json"), std::string::npos) << c.out;
  EXPECT_NE(c.out.find("open model"), std::string::npos) << c.out;
  EXPECT_NE(c.out.find("closed model"), std::string::npos) << c.out;
  EXPECT_NE(c.out.find("submit p99 (ms)"), std::string::npos) << c.out;
}

TEST_F(load_command, docs_uploads_complete_and_draw_a_png) {
  auto before = scalar("SELECT count(*) FROM document_jobs WHERE status = "
                       "'completed'");
  auto r = load({"docs", "--duration", "3s", "--rate", "4", "--size", "1500",
                 "--json", file("d.json").string(), "--plot",
                 file("d.png").string(), "--no-progress"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto rep = report(file("d.json"));
  check_common(rep, "docs", {"upload", "completed"});
  auto& w = rep.at("workload").as_object();
  auto ok = u(rep.at("totals").at("ok"));
  EXPECT_NEAR(static_cast<double>(ok), 12, 2);
  EXPECT_EQ(u(w.at("uploaded")), ok);
  EXPECT_EQ(u(w.at("completed")), ok);
  EXPECT_EQ(u(w.at("failed")), 0u);
  EXPECT_EQ(u(w.at("timed_out")), 0u);
  EXPECT_GE(u(w.at("chunks")), ok * 2);
  EXPECT_GT(d(w.at("documents_per_minute")), 0);
  EXPECT_EQ(u(rep.at("latency").at("completed").at("count")), ok);
  EXPECT_EQ(scalar("SELECT count(*) FROM document_jobs WHERE status = "
                   "'completed'") -
                before,
            static_cast<int64_t>(ok));
  auto png = dt::read_file(file("d.png"));
  ASSERT_GT(png.size(), 8u);
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
}

TEST_F(load_command, sse_streams_see_every_event_across_reconnect_storms) {
  auto r = load({"sse", "--connections", "20", "--users", "4", "--rate", "5",
                 "--duration", "4s", "--reconnect-every", "1s", "--json",
                 file("s.json").string(), "--no-progress"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto rep = report(file("s.json"));
  check_common(rep, "sse", {"delivery", "publish", "reconnect"});
  EXPECT_EQ(rep.at("primary").as_string(), "delivery");
  auto& w = rep.at("workload").as_object();
  EXPECT_EQ(u(w.at("streams")), 20u);
  EXPECT_EQ(u(w.at("gaps")), 0u);
  EXPECT_EQ(u(w.at("duplicates")), 0u);
  EXPECT_EQ(u(w.at("reorders")), 0u);
  EXPECT_EQ(u(w.at("tail_missing")), 0u);
  EXPECT_GE(u(w.at("reconnects")), 20u * 2);
  EXPECT_EQ(u(w.at("missing")), 0u);
  // Every thought's 8 events reached each of the user's 5 streams.
  auto thoughts = u(rep.at("totals").at("ok"));
  EXPECT_GE(u(w.at("events")), thoughts * 8 * 5);
  EXPECT_GT(u(rep.at("latency").at("delivery").at("count")), 0u);
  EXPECT_GT(u(rep.at("latency").at("reconnect").at("count")), 0u);
}

TEST_F(load_command, kafka_consumes_everything_it_produced) {
  auto r = load({"kafka", "--rate", "300", "--duration", "2s", "--size", "512",
                 "--json", file("k.json").string(), "--no-progress"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto rep = report(file("k.json"));
  check_common(rep, "kafka", {"e2e", "produce"});
  auto& w = rep.at("workload").as_object();
  auto ok = u(rep.at("totals").at("ok"));
  EXPECT_NEAR(static_cast<double>(ok), 600, 5);
  EXPECT_EQ(u(w.at("delivered")), ok);
  EXPECT_EQ(u(w.at("consumed")), ok);
  EXPECT_EQ(u(w.at("missing")), 0u);
  EXPECT_EQ(u(w.at("duplicates")), 0u);
  EXPECT_EQ(u(rep.at("latency").at("e2e").at("count")), ok);
  EXPECT_EQ(rep.at("config").at("size").as_int64(), 512);
  EXPECT_NE(std::string{w.at("topic").as_string()}.rfind("load-", 0),
            std::string::npos);
}

TEST_F(load_command, a_threshold_that_cannot_be_met_exits_1) {
  auto r = load({"thoughts", "--count", "5", "--rate", "10", "--users", "2",
                 "--threshold", "p99<1us", "--threshold", "errors<1%", "-q"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("threshold p99<1us missed"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("errors<1% missed"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("p99<1us MISSED"), std::string::npos) << r.out;
}

TEST_F(load_command, bad_usage_exits_2_naming_the_option) {
  auto remote = load(
      {"thoughts", "--target", "http://192.0.2.1:8000", "--duration", "1s"});
  EXPECT_EQ(remote.exit_code, 2);
  EXPECT_NE(remote.err.find("--allow-host 192.0.2.1"), std::string::npos)
      << remote.err;
  auto unbounded = load({"docs"});
  EXPECT_EQ(unbounded.exit_code, 2);
  EXPECT_NE(unbounded.err.find("--duration"), std::string::npos)
      << unbounded.err;
  auto threshold = load({"docs", "--count", "1", "--threshold", "p98<1s"});
  EXPECT_EQ(threshold.exit_code, 2);
  EXPECT_NE(threshold.err.find("p98<1s"), std::string::npos) << threshold.err;
  auto plot = load({"docs", "--count", "1", "--plot", "x.pdf"});
  EXPECT_EQ(plot.exit_code, 2);
  auto both =
      load({"docs", "--count", "1", "--rate", "5", "--concurrency", "2"});
  EXPECT_EQ(both.exit_code, 2);
  auto brokers =
      load({"kafka", "--count", "1", "--brokers", "kafka.example:9092"});
  EXPECT_EQ(brokers.exit_code, 2);
  EXPECT_NE(brokers.err.find("--allow-host kafka.example"), std::string::npos)
      << brokers.err;
}

} // namespace
