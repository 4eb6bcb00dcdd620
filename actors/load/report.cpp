#include "actors/load/report.hpp"
#include "actors/load/report_fields.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>
#include <stdexcept>

#include <boost/json.hpp>

namespace distiller::load {

namespace json = boost::json;
using detail::num;

namespace {

double ms(int64_t us) {
  return static_cast<double>(us) / 1000.0;
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
