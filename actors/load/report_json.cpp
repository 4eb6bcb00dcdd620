// A load report as JSON (report.hpp): to_json and report_from_json, whose
// errors name the field that is missing or of the wrong kind.

#include "actors/load/report.hpp"
#include "actors/load/report_fields.hpp"

#include <stdexcept>

#include <boost/json.hpp>

namespace distiller::load {

namespace json = boost::json;

namespace detail {

const json::value& field(const json::object& o, const char* key,
                         const std::string& where) {
  auto* v = o.if_contains(key);
  if (v == nullptr)
    throw std::runtime_error("report: missing " + where + key);
  return *v;
}

const json::object& obj(const json::object& o, const char* key,
                        const std::string& where) {
  auto& v = field(o, key, where);
  if (!v.is_object())
    throw std::runtime_error("report: " + where + key + " is not an object");
  return v.as_object();
}

const json::array& arr(const json::object& o, const char* key,
                       const std::string& where) {
  auto& v = field(o, key, where);
  if (!v.is_array())
    throw std::runtime_error("report: " + where + key + " is not an array");
  return v.as_array();
}

std::string str(const json::object& o, const char* key,
                const std::string& where) {
  auto& v = field(o, key, where);
  if (!v.is_string())
    throw std::runtime_error("report: " + where + key + " is not a string");
  return std::string{v.as_string()};
}

double num(const json::value& v, const std::string& what) {
  if (v.is_double())
    return v.as_double();
  if (v.is_int64())
    return static_cast<double>(v.as_int64());
  if (v.is_uint64())
    return static_cast<double>(v.as_uint64());
  throw std::runtime_error("report: " + what + " is not a number");
}

double num(const json::object& o, const char* key, const std::string& where) {
  return num(field(o, key, where), where + key);
}

uint64_t count(const json::value& v, const std::string& what) {
  if (v.is_uint64())
    return v.as_uint64();
  if (v.is_int64() && v.as_int64() >= 0)
    return static_cast<uint64_t>(v.as_int64());
  throw std::runtime_error("report: " + what + " is not a count");
}

uint64_t count(const json::object& o, const char* key,
               const std::string& where) {
  return count(field(o, key, where), where + key);
}

std::map<std::string, uint64_t> counts(const json::object& o, const char* key,
                                       const std::string& where) {
  std::map<std::string, uint64_t> out;
  for (auto& [k, v] : obj(o, key, where))
    out[std::string{k}] = count(v, where + key + "." + std::string{k});
  return out;
}

json::object counts_json(const std::map<std::string, uint64_t>& m) {
  json::object o;
  for (auto& [k, v] : m)
    o[k] = v;
  return o;
}

} // namespace detail

using namespace detail;

// -- JSON
// -----------------------------------------------------------------------

json::value to_json(const report& r) {
  json::object o;
  o["version"] = r.version;
  o["tool"] = "distiller load";
  o["command"] = r.command;
  json::array argv;
  for (auto& a : r.argv)
    argv.emplace_back(a);
  o["argv"] = std::move(argv);
  o["target"] = r.target;
  o["model"] = r.model;
  o["config"] = r.config;
  o["start"] = r.start;
  o["end"] = r.end;
  o["duration_s"] = r.duration_s;
  o["elapsed_s"] = r.elapsed_s;
  o["interrupted"] = r.interrupted;
  o["totals"] =
      json::object{{"sent", r.totals.sent},
                   {"ok", r.totals.ok},
                   {"errors", r.totals.errors},
                   {"rate", r.totals.rate},
                   {"throughput", r.totals.throughput},
                   {"warmup", json::object{{"sent", r.totals.warmup_sent},
                                           {"ok", r.totals.warmup_ok}}}};
  o["primary"] = r.primary;
  json::object lat;
  for (auto& l : r.latency) {
    json::array dist;
    for (auto& [q, v] : l.distribution)
      dist.emplace_back(json::array{q, v});
    lat[l.name] = json::object{{"count", l.count},
                               {"min_ms", l.min_ms},
                               {"mean_ms", l.mean_ms},
                               {"p50_ms", l.p50_ms},
                               {"p90_ms", l.p90_ms},
                               {"p99_ms", l.p99_ms},
                               {"p999_ms", l.p999_ms},
                               {"max_ms", l.max_ms},
                               {"distribution", std::move(dist)}};
  }
  o["latency"] = std::move(lat);
  o["errors"] =
      json::object{{"total", r.errors.total},
                   {"by_class", counts_json(r.errors.by_class)},
                   {"by_status", counts_json(r.errors.by_status)},
                   {"by_kafka_error", counts_json(r.errors.by_kafka_error)}};
  json::array columns{"t", "dt", "sent", "ok", "errors"};
  for (auto& n : r.series_names) {
    columns.emplace_back(n + "_count");
    columns.emplace_back(n + "_p50_ms");
    columns.emplace_back(n + "_p99_ms");
  }
  json::array rows;
  for (auto& row : r.series) {
    json::array a{row.t, row.dt, row.sent, row.ok, row.errors};
    for (size_t i = 0; i < r.series_names.size() && i < max_histograms; ++i) {
      a.emplace_back(row.latency[i].count);
      a.emplace_back(row.latency[i].p50_ms);
      a.emplace_back(row.latency[i].p99_ms);
    }
    rows.emplace_back(std::move(a));
  }
  o["series"] = json::object{{"interval_s", r.series_interval_s},
                             {"columns", std::move(columns)},
                             {"rows", std::move(rows)}};
  o["workload"] = r.workload;
  json::array th;
  for (auto& t : r.thresholds)
    th.emplace_back(json::object{{"threshold", t.text},
                                 {"ok", t.ok},
                                 {"actual", t.actual},
                                 {"shown", t.shown}});
  o["thresholds"] = std::move(th);
  return o;
}

report report_from_json(const json::value& v) {
  if (!v.is_object())
    throw std::runtime_error("report: not a JSON object");
  auto& o = v.as_object();
  report r;
  r.version = static_cast<int>(count(o, "version", ""));
  if (r.version != 1)
    throw std::runtime_error("report: version " + std::to_string(r.version) +
                             " is not supported (1 is)");
  r.command = str(o, "command", "");
  for (auto& a : arr(o, "argv", ""))
    r.argv.emplace_back(a.is_string() ? std::string{a.as_string()} : "");
  r.target = str(o, "target", "");
  r.model = obj(o, "model", "");
  r.config = obj(o, "config", "");
  r.start = str(o, "start", "");
  r.end = str(o, "end", "");
  r.duration_s = num(o, "duration_s", "");
  r.elapsed_s = num(o, "elapsed_s", "");
  auto& intr = field(o, "interrupted", "");
  r.interrupted = intr.is_bool() && intr.as_bool();
  auto& t = obj(o, "totals", "");
  r.totals.sent = count(t, "sent", "totals.");
  r.totals.ok = count(t, "ok", "totals.");
  r.totals.errors = count(t, "errors", "totals.");
  r.totals.rate = num(t, "rate", "totals.");
  r.totals.throughput = num(t, "throughput", "totals.");
  auto& w = obj(t, "warmup", "totals.");
  r.totals.warmup_sent = count(w, "sent", "totals.warmup.");
  r.totals.warmup_ok = count(w, "ok", "totals.warmup.");
  r.primary = str(o, "primary", "");
  for (auto& [k, lv] : obj(o, "latency", "")) {
    std::string where = "latency." + std::string{k} + ".";
    if (!lv.is_object())
      throw std::runtime_error("report: " + where + " is not an object");
    auto& l = lv.as_object();
    latency_summary s;
    s.name = std::string{k};
    s.count = count(l, "count", where);
    s.min_ms = num(l, "min_ms", where);
    s.mean_ms = num(l, "mean_ms", where);
    s.p50_ms = num(l, "p50_ms", where);
    s.p90_ms = num(l, "p90_ms", where);
    s.p99_ms = num(l, "p99_ms", where);
    s.p999_ms = num(l, "p999_ms", where);
    s.max_ms = num(l, "max_ms", where);
    for (auto& p : arr(l, "distribution", where)) {
      if (!p.is_array() || p.as_array().size() != 2)
        throw std::runtime_error("report: " + where +
                                 "distribution has a bad point");
      s.distribution.emplace_back(num(p.as_array()[0], where + "distribution"),
                                  num(p.as_array()[1], where + "distribution"));
    }
    r.latency.push_back(std::move(s));
  }
  auto& e = obj(o, "errors", "");
  r.errors.total = count(e, "total", "errors.");
  r.errors.by_class = counts(e, "by_class", "errors.");
  r.errors.by_status = counts(e, "by_status", "errors.");
  r.errors.by_kafka_error = counts(e, "by_kafka_error", "errors.");
  auto& s = obj(o, "series", "");
  r.series_interval_s = num(s, "interval_s", "series.");
  auto& cols = arr(s, "columns", "series.");
  for (size_t i = 5; i + 2 < cols.size(); i += 3) {
    if (!cols[i].is_string())
      throw std::runtime_error("report: series.columns has a non-string");
    std::string c{cols[i].as_string()};
    auto cut = c.rfind("_count");
    r.series_names.push_back(cut == std::string::npos ? c : c.substr(0, cut));
  }
  for (auto& rv : arr(s, "rows", "series.")) {
    if (!rv.is_array() || rv.as_array().size() != cols.size())
      throw std::runtime_error("report: series.rows has a row of the wrong "
                               "length");
    auto& a = rv.as_array();
    series_row row;
    row.t = num(a[0], "series.rows.t");
    row.dt = num(a[1], "series.rows.dt");
    row.sent = count(a[2], "series.rows.sent");
    row.ok = count(a[3], "series.rows.ok");
    row.errors = count(a[4], "series.rows.errors");
    for (size_t i = 0; i < r.series_names.size() && i < max_histograms; ++i) {
      row.latency[i].count = count(a[5 + 3 * i], "series.rows.count");
      row.latency[i].p50_ms = num(a[6 + 3 * i], "series.rows.p50_ms");
      row.latency[i].p99_ms = num(a[7 + 3 * i], "series.rows.p99_ms");
    }
    r.series.push_back(row);
  }
  r.workload = obj(o, "workload", "");
  for (auto& tv : arr(o, "thresholds", "")) {
    if (!tv.is_object())
      throw std::runtime_error("report: thresholds has a non-object");
    auto& to = tv.as_object();
    threshold_result tr;
    tr.text = str(to, "threshold", "thresholds.");
    auto& okv = field(to, "ok", "thresholds.");
    tr.ok = okv.is_bool() && okv.as_bool();
    tr.actual = num(to, "actual", "thresholds.");
    tr.shown = str(to, "shown", "thresholds.");
    r.thresholds.push_back(std::move(tr));
  }
  return r;
}

} // namespace distiller::load
