#include "actors/load/report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>
#include <stdexcept>

#include <boost/json.hpp>

namespace distiller::load {

namespace json = boost::json;

namespace {

double ms(int64_t us) {
  return static_cast<double>(us) / 1000.0;
}

// -- reading JSON with errors that name the field
// ------------------------------

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

// -- printing -----------------------------------------------------------------

std::string fixed(double v, int digits = 2) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", digits, v);
  return buf;
}

std::string latency_text(double v) {
  // Three significant digits, no exponent: 0.412, 12.3, 1530.
  char buf[64];
  if (v >= 100)
    std::snprintf(buf, sizeof(buf), "%.0f", v);
  else if (v >= 10)
    std::snprintf(buf, sizeof(buf), "%.1f", v);
  else
    std::snprintf(buf, sizeof(buf), "%.2f", v);
  return buf;
}

std::string pad(std::string s, size_t width, bool right = true) {
  if (s.size() >= width)
    return s;
  std::string fill(width - s.size(), ' ');
  return right ? fill + s : s + fill;
}

std::string model_text(const json::object& m) {
  std::string out;
  auto* kind = m.if_contains("kind");
  if (kind && kind->is_string() && kind->as_string() == "closed") {
    out = "closed model";
    if (auto* c = m.if_contains("concurrency"))
      out += ", concurrency " + json::serialize(*c);
    return out;
  }
  out = "open model";
  if (auto* r = m.if_contains("rate"); r && (r->is_number()))
    out += ", " + latency_text(num(*r, "rate")) + "/s";
  if (auto* c = m.if_contains("connections"))
    out += ", " + json::serialize(*c) + " connections";
  return out;
}

std::string value_text(const json::value& v) {
  if (v.is_string())
    return std::string{v.as_string()};
  if (v.is_double())
    return latency_text(v.as_double());
  return json::serialize(v);
}

} // namespace

// -- summaries ----------------------------------------------------------------

latency_summary summarize(const std::string& name, const log_histogram& h) {
  latency_summary s;
  s.name = name;
  s.count = h.count();
  s.min_ms = ms(h.min_us());
  // Whole microseconds: exact in decimal, so the JSON reads back the same.
  s.mean_ms = std::round(h.mean_us()) / 1000.0;
  s.p50_ms = ms(h.value_at(0.50));
  s.p90_ms = ms(h.value_at(0.90));
  s.p99_ms = ms(h.value_at(0.99));
  s.p999_ms = ms(h.value_at(0.999));
  s.max_ms = ms(h.max_us());
  if (s.count == 0)
    return s;
  // Four points per halving of the tail (50 %, 59 %, 65 %, 70 %, 75 % …),
  // HdrHistogram's percentile ticks, up to the last value, then the max.
  double last_q = 1.0 - 1.0 / static_cast<double>(s.count);
  for (int k = 0; k <= 80; ++k) {
    double q = 1.0 - std::pow(0.5, k / 4.0);
    if (k > 0 && q > last_q)
      break;
    s.distribution.emplace_back(std::round(q * 1e6) / 1e4, ms(h.value_at(q)));
  }
  s.distribution.emplace_back(100.0, s.max_ms);
  return s;
}

error_summary summarize(const error_counts& e) {
  error_summary s;
  s.total = e.total();
  for (size_t i = 0; i < error_class_count; ++i)
    s.by_class[to_string(static_cast<error_class>(i))] = e.by_class[i];
  for (auto& [status, n] : e.by_status)
    s.by_status[std::to_string(status)] = n;
  s.by_kafka_error = e.by_kafka_error;
  return s;
}

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

// -- the summary table
// ------------------------------------------------------------

void print_summary(const report& r, std::ostream& out) {
  out << "\ndistiller load " << r.command << " -> " << r.target << " ("
      << model_text(r.model) << ")" << (r.interrupted ? ", interrupted" : "")
      << "\n";
  out << "duration " << fixed(r.duration_s, 1) << " s (results until "
      << fixed(r.elapsed_s, 1) << " s), sent " << r.totals.sent << ", ok "
      << r.totals.ok << ", errors " << r.errors.total;
  auto attempts = r.totals.ok + r.errors.total;
  if (attempts > 0)
    out << " ("
        << fixed(100.0 * static_cast<double>(r.errors.total) /
                 static_cast<double>(attempts))
        << " %)";
  out << "\nrate " << fixed(r.totals.rate, 1) << "/s ok, throughput "
      << fixed(r.totals.throughput, 1) << "/s sent";
  if (r.totals.warmup_sent > 0)
    out << "; warm-up " << r.totals.warmup_sent << " sent, not counted";
  out << "\n\n";
  out << pad("latency (ms)", 14, false) << pad("count", 9) << pad("min", 9)
      << pad("mean", 9) << pad("p50", 9) << pad("p90", 9) << pad("p99", 9)
      << pad("p99.9", 9) << pad("max", 9) << "\n";
  for (auto& l : r.latency) {
    auto name = l.name + (l.name == r.primary ? "*" : "");
    out << pad(name, 14, false) << pad(std::to_string(l.count), 9);
    if (l.count == 0) {
      out << pad("-", 9) << "\n";
      continue;
    }
    for (double v : {l.min_ms, l.mean_ms, l.p50_ms, l.p90_ms, l.p99_ms,
                     l.p999_ms, l.max_ms})
      out << pad(latency_text(v), 9);
    out << "\n";
  }
  out << "(* primary: thresholds without a name and the progress p99)\n\n";
  out << "errors: ";
  if (r.errors.total == 0) {
    out << "none\n";
  } else {
    bool first = true;
    for (auto& [cls, n] : r.errors.by_class) {
      if (n == 0)
        continue;
      out << (first ? "" : ", ") << cls << " " << n;
      first = false;
    }
    for (auto& [status, n] : r.errors.by_status)
      out << ", " << status << " x" << n;
    for (auto& [name, n] : r.errors.by_kafka_error)
      out << ", " << name << " x" << n;
    out << "\n";
  }
  if (!r.workload.empty()) {
    out << r.command << ":";
    bool first = true;
    for (auto& [k, v] : r.workload) {
      if (v.is_object() || v.is_array())
        continue;
      out << (first ? " " : ", ") << std::string{k} << " " << value_text(v);
      first = false;
    }
    out << "\n";
  }
  if (!r.thresholds.empty()) {
    out << "thresholds:";
    for (auto& t : r.thresholds)
      out << "  " << t.text << " " << (t.ok ? "ok" : "MISSED") << " ("
          << t.shown << ")";
    out << "\n";
  }
}

// -- compare
// ------------------------------------------------------------------------

void print_compare(const report& a, const report& b, const std::string& name_a,
                   const std::string& name_b, std::ostream& out) {
  size_t w0 = 24, w = 22;
  auto row = [&](const std::string& label, const std::string& x,
                 const std::string& y, const std::string& ratio) {
    out << pad(label, w0, false) << pad(x, w) << pad(y, w) << pad(ratio, 9)
        << "\n";
  };
  auto ratio = [](double x, double y) -> std::string {
    if (x == 0)
      return y == 0 ? "1.00" : "-";
    return fixed(y / x) + "x";
  };
  auto numbers = [&](const std::string& label, double x, double y,
                     bool integer) {
    auto text = [&](double v) {
      return integer ? std::to_string(static_cast<uint64_t>(v))
                     : latency_text(v);
    };
    row(label, text(x), text(y), ratio(x, y));
  };
  auto base = [](const std::string& p) {
    auto slash = p.find_last_of('/');
    return slash == std::string::npos ? p : p.substr(slash + 1);
  };
  row("", base(name_a), base(name_b), "b/a");
  row("command", a.command, b.command, "");
  row("target", a.target, b.target, "");
  row("model", model_text(a.model), model_text(b.model), "");
  row("start", a.start.substr(0, 19), b.start.substr(0, 19), "");
  numbers("duration (s)", a.duration_s, b.duration_s, false);
  numbers("sent", static_cast<double>(a.totals.sent),
          static_cast<double>(b.totals.sent), true);
  numbers("ok", static_cast<double>(a.totals.ok),
          static_cast<double>(b.totals.ok), true);
  numbers("errors", static_cast<double>(a.errors.total),
          static_cast<double>(b.errors.total), true);
  numbers("rate (ok/s)", a.totals.rate, b.totals.rate, false);
  numbers("throughput (sent/s)", a.totals.throughput, b.totals.throughput,
          false);
  std::vector<std::string> names;
  for (auto& l : a.latency)
    names.push_back(l.name);
  for (auto& l : b.latency)
    if (std::find(names.begin(), names.end(), l.name) == names.end())
      names.push_back(l.name);
  auto find = [](const report& r, const std::string& n) {
    const latency_summary* out = nullptr;
    for (auto& l : r.latency)
      if (l.name == n)
        out = &l;
    return out;
  };
  for (auto& n : names) {
    auto* x = find(a, n);
    auto* y = find(b, n);
    latency_summary none;
    if (!x)
      x = &none;
    if (!y)
      y = &none;
    numbers(n + " count", static_cast<double>(x->count),
            static_cast<double>(y->count), true);
    const std::pair<const char*, double latency_summary::*> cols[] = {
        {" p50 (ms)", &latency_summary::p50_ms},
        {" p90 (ms)", &latency_summary::p90_ms},
        {" p99 (ms)", &latency_summary::p99_ms},
        {" p99.9 (ms)", &latency_summary::p999_ms},
        {" max (ms)", &latency_summary::max_ms},
        {" mean (ms)", &latency_summary::mean_ms}};
    for (auto& [label, member] : cols)
      numbers(n + label, x->*member, y->*member, false);
  }
  std::vector<std::string> keys;
  for (auto& [k, v] : a.workload)
    keys.emplace_back(k);
  for (auto& [k, v] : b.workload)
    if (std::find(keys.begin(), keys.end(), std::string{k}) == keys.end())
      keys.emplace_back(k);
  for (auto& k : keys) {
    auto* x = a.workload.if_contains(k);
    auto* y = b.workload.if_contains(k);
    if ((x && (x->is_object() || x->is_array())) ||
        (y && (y->is_object() || y->is_array())))
      continue;
    if (x && y && x->is_number() && y->is_number()) {
      bool integer = !x->is_double() && !y->is_double();
      numbers(k, num(*x, k), num(*y, k), integer);
    } else {
      row(k, x ? value_text(*x) : "-", y ? value_text(*y) : "-", "");
    }
  }
}

} // namespace distiller::load
