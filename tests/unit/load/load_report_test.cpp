// The load tool's report and its parts: threshold parsing and evaluation,
// the JSON report's round trip, the compare table, the gnuplot script, the
// Server-Sent Events parser, the sequence checker and the target rules.

#include <gtest/gtest.h>

#include <sstream>

#include <boost/json.hpp>

#include "actors/load/plot.hpp"
#include "actors/load/report.hpp"
#include "actors/load/seq_checker.hpp"
#include "actors/load/sse_parser.hpp"
#include "actors/load/target.hpp"
#include "actors/load/threshold.hpp"

namespace {

namespace load = distiller::load;
namespace json = boost::json;
using m = load::threshold::metric;
using op = load::threshold::op;

TEST(Threshold, ParsesLatenciesWithUnits) {
  auto t = load::parse_threshold("p99<50ms");
  EXPECT_EQ(t.what, m::p99);
  EXPECT_EQ(t.cmp, op::lt);
  EXPECT_DOUBLE_EQ(t.value, 50);
  EXPECT_TRUE(t.histogram.empty());
  EXPECT_DOUBLE_EQ(load::parse_threshold("p50 <= 1.5s").value, 1500);
  EXPECT_EQ(load::parse_threshold("p50 <= 1.5s").cmp, op::le);
  EXPECT_DOUBLE_EQ(load::parse_threshold("max<800us").value, 0.8);
  EXPECT_DOUBLE_EQ(load::parse_threshold("mean<12").value, 12);
  auto named = load::parse_threshold("completed.p999<5s");
  EXPECT_EQ(named.histogram, "completed");
  EXPECT_EQ(named.what, m::p999);
  EXPECT_DOUBLE_EQ(named.value, 5000);
  auto dotted = load::parse_threshold("completed.p99.9<5s");
  EXPECT_EQ(dotted.histogram, "completed");
  EXPECT_EQ(dotted.what, m::p999);
  EXPECT_EQ(load::parse_threshold("p99.9<5s").what, m::p999);
  EXPECT_TRUE(load::parse_threshold("p99.9<5s").histogram.empty());
  EXPECT_EQ(load::parse_threshold("p90>=1ms").cmp, op::ge);
}

TEST(Threshold, ParsesErrorsAndRate) {
  auto e = load::parse_threshold("errors<1%");
  EXPECT_EQ(e.what, m::errors);
  EXPECT_TRUE(e.percent);
  EXPECT_DOUBLE_EQ(e.value, 0.01);
  auto n = load::parse_threshold("errors<=3");
  EXPECT_FALSE(n.percent);
  EXPECT_DOUBLE_EQ(n.value, 3);
  auto r = load::parse_threshold("rate>100/s");
  EXPECT_EQ(r.what, m::rate);
  EXPECT_EQ(r.cmp, op::gt);
  EXPECT_DOUBLE_EQ(r.value, 100);
}

TEST(Threshold, RejectsWhatItCannotRead) {
  for (auto bad : {"p99", "p98<5ms", "p99<fast", "p99<-1ms", "errors<x%",
                   "upload.rate>5", "rate>", ".p99<5ms", "p99<5ks"})
    EXPECT_THROW(load::parse_threshold(bad), load::usage_error) << bad;
  try {
    load::parse_threshold("p98<5ms");
  } catch (const load::usage_error& e) {
    EXPECT_NE(std::string{e.what()}.find("p98<5ms"), std::string::npos);
  }
}

load::report sample_report() {
  load::report r;
  r.command = "thoughts";
  r.argv = {"distiller", "load", "thoughts", "--rate=50"};
  r.target = "http://127.0.0.1:8000";
  r.model = json::object{{"kind", "open"}, {"rate", 50.0}, {"connections", 5}};
  r.config = json::object{{"duration_s", 10.0}, {"users", 100}};
  r.start = "2026-12-01T09:30:00.123Z";
  r.end = "2026-12-01T09:30:10.456Z";
  r.duration_s = 10;
  r.elapsed_s = 10.333;
  r.totals = {500, 498, 2, 49.8, 50.0, 25, 25};
  r.primary = "submit";
  load::log_histogram h;
  for (int i = 1; i <= 1000; ++i)
    h.record_us(i * 37);
  r.latency.push_back(load::summarize("submit", h));
  r.latency.push_back(load::summarize("completed", load::log_histogram{}));
  load::error_counts e;
  e.by_class[static_cast<size_t>(load::error_class::http_5xx)] = 2;
  e.by_status[503] = 2;
  e.by_kafka_error["_MSG_TIMED_OUT"] = 0;
  r.errors = load::summarize(e);
  r.totals.errors = r.errors.total;
  r.series_interval_s = 1;
  r.series_names = {"submit", "completed"};
  for (int i = 0; i < 3; ++i) {
    load::series_row row;
    row.t = i;
    row.sent = 50;
    row.ok = 49 + (i % 2);
    row.errors = 1 - (i % 2);
    row.latency[0] = {row.ok, 3.25 + i, 17.5};
    r.series.push_back(row);
  }
  r.workload = json::object{{"accepted", 498}, {"thoughts_per_minute", 2988.5}};
  load::threshold_result t;
  t.text = "p99<50ms";
  t.ok = true;
  t.actual = 36.7;
  t.shown = "36.7 ms";
  r.thresholds.push_back(t);
  return r;
}

TEST(Report, JsonRoundTripsEveryField) {
  auto r = sample_report();
  auto text = json::serialize(load::to_json(r));
  auto back = load::report_from_json(json::parse(text));
  EXPECT_EQ(back.model, r.model);
  EXPECT_EQ(back.config, r.config);
  EXPECT_EQ(back.totals, r.totals);
  EXPECT_EQ(back.errors, r.errors);
  EXPECT_EQ(back.series, r.series);
  EXPECT_EQ(back.series_names, r.series_names);
  EXPECT_EQ(back.workload, r.workload);
  EXPECT_EQ(back.thresholds, r.thresholds);
  ASSERT_EQ(back.latency.size(), r.latency.size());
  for (size_t i = 0; i < r.latency.size(); ++i)
    EXPECT_EQ(back.latency[i], r.latency[i]) << r.latency[i].name;
  EXPECT_EQ(back, r);
  auto v = json::parse(text).as_object();
  EXPECT_EQ(v.at("version").as_int64(), 1);
  EXPECT_EQ(v.at("tool").as_string(), "distiller load");
  EXPECT_EQ(v.at("errors").at("by_class").at("http_5xx").as_int64(), 2);
  EXPECT_EQ(v.at("errors").at("by_class").at("connect").as_int64(), 0);
  EXPECT_EQ(v.at("latency").at("submit").at("count").as_int64(), 1000);
  auto& dist = v.at("latency").at("submit").at("distribution").as_array();
  ASSERT_GT(dist.size(), 10u);
  EXPECT_DOUBLE_EQ(dist.front().as_array()[0].as_double(), 0.0);
  EXPECT_DOUBLE_EQ(dist.back().as_array()[0].as_double(), 100.0);
  EXPECT_EQ(v.at("series").at("columns").as_array().size(), 11u);
}

TEST(Report, ReadingNamesTheBadField) {
  auto v = load::to_json(sample_report());
  v.as_object().at("totals").as_object().erase("ok");
  try {
    load::report_from_json(v);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string{e.what()}.find("totals.ok"), std::string::npos);
  }
  auto w = load::to_json(sample_report());
  w.as_object()["version"] = 7;
  EXPECT_THROW(load::report_from_json(w), std::runtime_error);
}

TEST(Report, ThresholdsAreEvaluatedAgainstTheSummary) {
  auto r = sample_report();
  auto p99 = r.latency[0].p99_ms;
  EXPECT_TRUE(load::evaluate(load::parse_threshold("p99<50ms"), r).ok);
  auto missed = load::evaluate(load::parse_threshold("p99<1ms"), r);
  EXPECT_FALSE(missed.ok);
  EXPECT_DOUBLE_EQ(missed.actual, p99);
  EXPECT_FALSE(load::evaluate(load::parse_threshold("errors<0.1%"), r).ok);
  EXPECT_TRUE(load::evaluate(load::parse_threshold("errors<1%"), r).ok);
  EXPECT_TRUE(load::evaluate(load::parse_threshold("rate>40"), r).ok);
  EXPECT_FALSE(load::evaluate(load::parse_threshold("rate>60"), r).ok);
  // No values is no pass; an unknown name neither.
  EXPECT_FALSE(load::evaluate(load::parse_threshold("completed.p99<1h"), r).ok);
  auto unknown = load::evaluate(load::parse_threshold("nope.p99<1s"), r);
  EXPECT_FALSE(unknown.ok);
  EXPECT_NE(unknown.shown.find("nope"), std::string::npos);
}

TEST(Report, SummaryAndCompareShowBothRuns) {
  auto a = sample_report();
  auto b = sample_report();
  b.latency[0].p99_ms = a.latency[0].p99_ms * 2;
  b.totals.rate = 99.6;
  std::ostringstream sum;
  load::print_summary(a, sum);
  EXPECT_NE(sum.str().find("submit*"), std::string::npos);
  EXPECT_NE(sum.str().find("503 x2"), std::string::npos);
  EXPECT_NE(sum.str().find("p99<50ms ok"), std::string::npos);
  std::ostringstream cmp;
  load::print_compare(a, b, "/tmp/a.json", "/tmp/b.json", cmp);
  auto text = cmp.str();
  EXPECT_NE(text.find("a.json"), std::string::npos);
  EXPECT_NE(text.find("b.json"), std::string::npos);
  EXPECT_NE(text.find("submit p99 (ms)"), std::string::npos);
  EXPECT_NE(text.find("2.00x"), std::string::npos);
  EXPECT_NE(text.find("thoughts_per_minute"), std::string::npos);
}

TEST(Plot, ScriptDrawsBothPanelsForSvgAndPng) {
  auto r = sample_report();
  auto svg = load::plot_script(r, "/tmp/x.svg", "s.dat", "d.dat");
  EXPECT_NE(svg.find("set terminal svg"), std::string::npos);
  EXPECT_NE(svg.find("multiplot layout 2,1"), std::string::npos);
  EXPECT_NE(svg.find("'submit p99'"), std::string::npos);
  EXPECT_NE(svg.find("'99.9%%' 1000"), std::string::npos);
  auto png = load::plot_script(r, "/tmp/x.PNG", "s.dat", "d.dat");
  EXPECT_NE(png.find("set terminal pngcairo"), std::string::npos);
  EXPECT_THROW(load::plot_script(r, "/tmp/x.pdf", "s", "d"),
               std::runtime_error);
}

TEST(SseParser, EventsInAnyPiecesAndLineEndings) {
  load::sse_parser p;
  std::vector<load::sse_event> got;
  auto on = [&](const load::sse_event& e) {
    got.push_back(e);
  };
  std::string text = "retry: 2000\r\n\r\nid: 7\r\nevent: thought_created\r\n"
                     "data: {\"seq\":7}\r\n\r\n: ping\n\nid: 8\ndata: a\n"
                     "data: b\n\nevent: ready\rdata: {}\r\r";
  for (size_t i = 0; i < text.size(); i += 3)
    ASSERT_TRUE(p.feed(std::string_view{text}.substr(i, 3), on));
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].id, "7");
  EXPECT_EQ(got[0].event, "thought_created");
  EXPECT_EQ(got[0].data, "{\"seq\":7}");
  EXPECT_EQ(got[1].id, "8");
  EXPECT_EQ(got[1].event, "");
  EXPECT_EQ(got[1].data, "a\nb");
  EXPECT_EQ(got[2].event, "ready");
  EXPECT_EQ(got[2].id, "8"); // the id persists
  EXPECT_EQ(p.comments(), 1u);
  load::sse_parser small{16};
  EXPECT_FALSE(small.feed(std::string(64, 'x'), on));
}

TEST(SeqChecker, GapsDuplicatesAndReorders) {
  load::seq_checker c;
  c.start_at(0);
  EXPECT_EQ(c.check(1), load::seq_checker::verdict::next);
  EXPECT_EQ(c.check(2), load::seq_checker::verdict::next);
  EXPECT_EQ(c.check(5), load::seq_checker::verdict::gap);
  EXPECT_EQ(c.missing(), 2u);
  EXPECT_EQ(c.check(3), load::seq_checker::verdict::late);
  EXPECT_EQ(c.check(3), load::seq_checker::verdict::duplicate);
  EXPECT_EQ(c.check(5), load::seq_checker::verdict::duplicate);
  EXPECT_EQ(c.missing(), 1u);
  EXPECT_EQ(c.reorders(), 1u);
  EXPECT_EQ(c.duplicates(), 2u);
  EXPECT_EQ(c.last(), 5u);
  c.reset_to(100);
  EXPECT_EQ(c.missing(), 0u);
  EXPECT_EQ(c.check(101), load::seq_checker::verdict::next);
  load::seq_checker bounded{4};
  bounded.check(1);
  bounded.check(1000);
  EXPECT_EQ(bounded.missing(), 998u);
}

TEST(Target, ParsesUrlsAndKeepsLoadOnThisMachine) {
  auto t = load::parse_target("http://127.0.0.1:8000");
  EXPECT_EQ(t.host, "127.0.0.1");
  EXPECT_EQ(t.port, 8000);
  EXPECT_EQ(t.url(), "http://127.0.0.1:8000");
  EXPECT_EQ(load::parse_target("http://[::1]:9000/").host, "::1");
  EXPECT_EQ(load::parse_target("http://localhost").port, 80);
  for (auto bad : {"https://127.0.0.1:1", "127.0.0.1:80", "http://h:0",
                   "http://h:99999", "http://h:80/api", "http://:80"})
    EXPECT_THROW(load::parse_target(bad), load::usage_error) << bad;
  EXPECT_TRUE(load::is_loopback_host("127.3.4.5"));
  EXPECT_TRUE(load::is_loopback_host("::1"));
  EXPECT_TRUE(load::is_loopback_host("[::1]"));
  EXPECT_TRUE(load::is_loopback_host("LocalHost"));
  EXPECT_FALSE(load::is_loopback_host("10.0.0.1"));
  EXPECT_FALSE(load::is_loopback_host("128.0.0.1"));
  EXPECT_FALSE(load::is_loopback_host("example.org"));
  EXPECT_NO_THROW(load::check_host_allowed("127.0.0.1", {}, "--target"));
  EXPECT_THROW(load::check_host_allowed("node-2", {}, "--target"),
               load::usage_error);
  EXPECT_NO_THROW(load::check_host_allowed("node-2", {"NODE-2"}, "--target"));
  EXPECT_EQ(load::broker_hosts("a:9092, [::1]:9093,PLAINTEXT://b:1"),
            (std::vector<std::string>{"a", "::1", "b"}));
}

} // namespace
