#include "actors/load/run.hpp"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>

#include <boost/json.hpp>

#include "actors/load/docs_workload.hpp"
#include "actors/load/http_driver.hpp"
#include "actors/load/kafka_workload.hpp"
#include "actors/load/plot.hpp"
#include "actors/load/report.hpp"
#include "actors/load/target.hpp"
#include "actors/load/thoughts_workload.hpp"
#include "actors/load/threshold.hpp"
#include "bridges/kafka/handles.hpp"

namespace distiller::load {

namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

std::chrono::nanoseconds seconds(double s) {
  return std::chrono::nanoseconds{static_cast<int64_t>(std::llround(s * 1e9))};
}

std::string random_run_id() {
  std::random_device rd;
  char buf[9];
  std::snprintf(buf, sizeof(buf), "%08x", rd());
  return buf;
}

std::string rfc3339(std::chrono::system_clock::time_point t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                t.time_since_epoch())
                .count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

/// A steady time point as wall-clock time (for the report's start and end).
std::chrono::system_clock::time_point wall(steady::time_point t) {
  auto now_s = steady::now();
  auto now_w = std::chrono::system_clock::now();
  return now_w -
         std::chrono::duration_cast<std::chrono::system_clock::duration>(now_s -
                                                                         t);
}

void check(const load_options& o) {
  auto& c = o.command;
  if (c != "docs" && c != "thoughts" && c != "sse" && c != "kafka")
    throw usage_error("unknown load command " + c);
  if (o.duration_s <= 0 && o.count == 0)
    throw usage_error("--duration or --count: give at least one bound (e.g. "
                      "--duration 30s)");
  if (o.rate > 0 && o.concurrency > 0)
    throw usage_error("--rate and --concurrency: choose the open model "
                      "(--rate) or the closed one (--concurrency)");
  if (o.warmup_s < 0 || o.timeout_s <= 0)
    throw usage_error("--warmup/--timeout: must be positive");
  if (!o.plot_path.empty()) {
    auto ext = o.plot_path.size() >= 4
                   ? o.plot_path.substr(o.plot_path.size() - 4)
                   : std::string{};
    for (auto& ch : ext)
      ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (ext != ".svg" && ext != ".png")
      throw usage_error("--plot " + o.plot_path +
                        ": the name must end in .svg or .png");
  }
  if (!o.folder.empty() && c != "docs")
    throw usage_error("--folder: only for load docs");
  if (o.reconnect_every_s > 0 && c != "sse")
    throw usage_error("--reconnect-every: only for load sse");
  if (o.acks != "all" && o.acks != "1" && o.acks != "0")
    throw usage_error("--acks: 0, 1 or all");
}

struct workload_run {
  run_times times;
  json::object fields;
  json::object config;
  std::string target;
};

} // namespace

double default_rate(const std::string& command) {
  if (command == "kafka")
    return 1000;
  if (command == "thoughts")
    return 50;
  return 10;
}

int default_connections(double rate) {
  return static_cast<int>(std::clamp(std::ceil(rate / 10.0), 2.0, 256.0));
}

int run_load(const load_options& in, const kafka::kafka_config& kafka_cfg,
             const std::string& data_dir, std::ostream& out,
             const std::atomic<bool>* stop) {
  auto o = in;
  check(o);
  std::vector<threshold> thresholds;
  for (auto& t : o.thresholds)
    thresholds.push_back(parse_threshold(t));
  bool closed = o.concurrency > 0;
  if (!closed && o.rate <= 0)
    o.rate = default_rate(o.command);
  bool sse = o.command == "sse";
  // For sse, --connections is the number of streams; the publishing pool is
  // sized from the rate.
  int streams = sse ? (o.connections > 0 ? o.connections : 100) : 0;
  int pool = (!sse && o.connections > 0)
                 ? o.connections
                 : (closed ? o.concurrency : default_connections(o.rate));
  if (o.size == 0)
    o.size = o.command == "kafka" ? 256 : 2048;
  if (o.drain_s < 0)
    o.drain_s = (o.command == "docs" || o.command == "thoughts") ? 60 : 30;
  auto run_id = random_run_id();

  http_run_settings s;
  s.sched.closed = closed;
  s.sched.rate = o.rate;
  s.sched.concurrency = o.concurrency;
  s.sched.warmup = seconds(o.warmup_s);
  s.sched.duration = seconds(o.duration_s);
  s.sched.count = o.count;
  s.connections = pool;
  s.timeout = seconds(o.timeout_s);
  s.drain = seconds(o.drain_s);
  s.command = o.command;
  s.stop = stop;
  s.progress = o.quiet                   ? progress_mode::quiet
               : o.no_progress           ? progress_mode::lines
               : ::isatty(STDERR_FILENO) ? progress_mode::bar
                                         : progress_mode::lines;

  std::unique_ptr<recorder> rec;
  workload_run wr;
  if (o.command == "kafka") {
    auto where = kafka::tools::locate_cluster(kafka_cfg, data_dir);
    if (!where)
      throw std::runtime_error(kafka::error_text(where.error()));
    auto& target = *where;
    for (auto& h : broker_hosts(target.bootstrap))
      check_host_allowed(h, o.allow_hosts, "--brokers");
    auto how = kafka::tools::settings_of(kafka_cfg);
    how.stop = stop;
    auto opened = kafka::tools::open_session(target, kafka_cfg, how);
    if (!opened)
      throw std::runtime_error(kafka::error_text(opened.error()));
    auto& session = **opened;
    kafka_load_options ko;
    ko.topic = o.topic;
    ko.partitions = o.partitions;
    ko.acks = o.acks;
    ko.size = o.size;
    ko.keep_topic = o.keep_topic;
    ko.run_id = run_id;
    rec = std::make_unique<recorder>(std::vector<std::string>{"e2e", "produce"},
                                     0);
    if (s.progress != progress_mode::quiet)
      std::fprintf(stderr, "load kafka: %s, %s\n", target.bootstrap.c_str(),
                   o.topic.empty() ? ("topic load-" + run_id).c_str()
                                   : ("topic " + o.topic).c_str());
    auto kr = run_kafka(session, ko, *rec, s);
    wr.times = kr.times;
    wr.fields = std::move(kr.fields);
    wr.config = std::move(kr.config);
    wr.target = target.bootstrap;
  } else {
    auto target =
        o.target.empty() ? node_target(data_dir) : parse_target(o.target);
    check_host_allowed(target.host, o.allow_hosts, "--target");
    target.token = o.token;
    std::unique_ptr<http_workload> w;
    if (o.command == "docs") {
      docs_options d;
      d.folder = o.folder;
      d.size = o.size;
      d.job_timeout = seconds(o.job_timeout_s);
      d.run_id = run_id;
      w = make_docs_workload(d);
    } else {
      thoughts_options t;
      t.sse = sse;
      t.streams = streams;
      t.users =
          o.users > 0 ? o.users : (sse ? std::max(1, (streams + 9) / 10) : 100);
      t.reconnect_every = seconds(o.reconnect_every_s);
      t.run_id = run_id;
      w = make_thoughts_workload(t);
    }
    rec = std::make_unique<recorder>(w->histograms(), w->primary());
    if (s.progress != progress_mode::quiet && o.command != "docs")
      std::fprintf(stderr, "load %s: %s, opening the streams...\n",
                   o.command.c_str(), target.url().c_str());
    wr.times = run_http(*w, *rec, target, s);
    wr.fields = w->fields(wr.times.duration_s);
    wr.config = w->config();
    wr.target = target.url();
  }

  // -- the report
  report r;
  r.command = o.command;
  r.argv = o.argv;
  r.target = wr.target;
  if (closed)
    r.model = json::object{{"kind", "closed"}, {"concurrency", o.concurrency}};
  else if (o.command == "kafka")
    r.model = json::object{{"kind", "open"}, {"rate", o.rate}};
  else
    r.model = json::object{{"kind", "open"},
                           {"rate", o.rate},
                           {"connections", pool},
                           {"connections_opened", wr.times.connections}};
  json::object cfg;
  cfg["duration_s"] = o.duration_s;
  cfg["count"] = o.count;
  cfg["warmup_s"] = o.warmup_s;
  cfg["timeout_s"] = o.timeout_s;
  cfg["drain_s"] = o.drain_s;
  cfg["run_id"] = run_id;
  for (auto& [k, v] : wr.config)
    cfg[k] = v;
  r.config = std::move(cfg);
  auto measured = rec->measured_s();
  r.start = rfc3339(wall(wr.times.measure_start));
  r.end =
      rfc3339(wall(wr.times.measure_start) +
              std::chrono::duration_cast<std::chrono::system_clock::duration>(
                  std::chrono::duration<double>(measured)));
  // Rounded to what the report can say exactly (see report.hpp).
  auto round3 = [](double x) {
    return std::round(x * 1000.0) / 1000.0;
  };
  r.duration_s = round3(wr.times.duration_s);
  r.elapsed_s = round3(measured);
  r.interrupted = wr.times.interrupted;
  auto errors = rec->errors();
  r.errors = summarize(errors);
  r.totals.sent = rec->sent_count();
  r.totals.ok = rec->ok_count();
  r.totals.errors = r.errors.total;
  r.totals.rate = r.duration_s > 0
                      ? round3(static_cast<double>(r.totals.ok) / r.duration_s)
                      : 0.0;
  r.totals.throughput =
      r.duration_s > 0
          ? round3(static_cast<double>(r.totals.sent) / r.duration_s)
          : 0.0;
  r.totals.warmup_sent = wr.times.warmup_sent;
  r.totals.warmup_ok = wr.times.warmup_ok;
  r.primary = rec->names()[rec->primary()];
  for (size_t i = 0; i < rec->names().size(); ++i)
    r.latency.push_back(summarize(rec->names()[i], rec->histogram(i)));
  auto series = rec->series();
  r.series_interval_s = series.width();
  r.series_names = rec->names();
  r.series = series.rows();
  r.workload = std::move(wr.fields);
  bool all_ok = true;
  for (auto& t : thresholds) {
    r.thresholds.push_back(evaluate(t, r));
    all_ok = all_ok && r.thresholds.back().ok;
  }

  print_summary(r, out);
  out << std::flush;
  int code = all_ok ? 0 : 1;
  if (!o.json_path.empty()) {
    std::ofstream f{o.json_path};
    f << json::serialize(to_json(r)) << "\n";
    if (!f) {
      std::fprintf(stderr, "distiller: cannot write %s\n", o.json_path.c_str());
      code = 1;
    }
  }
  if (!o.plot_path.empty()) {
    try {
      write_plot(r, o.plot_path);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "distiller: %s\n", e.what());
      code = 1;
    }
  }
  for (auto& t : r.thresholds)
    if (!t.ok)
      std::fprintf(stderr, "distiller: threshold %s missed: %s\n",
                   t.text.c_str(), t.shown.c_str());
  return code;
}

int run_compare(const std::string& a, const std::string& b, std::ostream& out) {
  auto read = [](const std::string& path) {
    std::ifstream in{path};
    if (!in)
      throw usage_error("compare: cannot read " + path);
    std::stringstream buf;
    buf << in.rdbuf();
    boost::system::error_code ec;
    auto v = json::parse(buf.str(), ec);
    if (ec)
      throw usage_error("compare: " + path + " is not JSON: " + ec.message());
    try {
      return report_from_json(v);
    } catch (const std::exception& e) {
      throw usage_error("compare: " + path + ": " + e.what());
    }
  };
  auto ra = read(a);
  auto rb = read(b);
  print_compare(ra, rb, a, b, out);
  return 0;
}

} // namespace distiller::load
