#include "actors/load/threshold.hpp"

#include <charconv>
#include <cstdio>

#include "actors/load/report.hpp"
#include "actors/load/target.hpp"

namespace distiller::load {

namespace {

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return std::string{s};
}

bool parse_number(std::string_view s, double& out) {
  if (s.empty())
    return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc{} && r.ptr == s.data() + s.size() && out >= 0;
}

std::string fmt(double v, const char* unit) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.3g%s", v, unit);
  return buf;
}

} // namespace

threshold parse_threshold(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return usage_error("--threshold \"" + std::string{text} + "\": " + why +
                       " (examples: p99<50ms, completed.p99<5s, errors<1%, "
                       "rate>100)");
  };
  threshold t;
  t.text = trim(text);
  std::string_view s = t.text;
  auto at = s.find_first_of("<>");
  if (at == std::string_view::npos)
    throw bad("no comparison (<, <=, > or >=)");
  auto lhs = trim(s.substr(0, at));
  bool eq = at + 1 < s.size() && s[at + 1] == '=';
  t.cmp = s[at] == '<' ? (eq ? threshold::op::le : threshold::op::lt)
                       : (eq ? threshold::op::ge : threshold::op::gt);
  auto rhs = trim(s.substr(at + (eq ? 2 : 1)));
  std::string name = lhs;
  if (auto dot = lhs.rfind('.'); dot != std::string::npos) {
    t.histogram = lhs.substr(0, dot);
    name = lhs.substr(dot + 1);
    if (t.histogram.empty())
      throw bad("empty histogram name");
  }
  using m = threshold::metric;
  static const std::pair<const char*, m> names[] = {
      {"p50", m::p50},   {"p90", m::p90},    {"p99", m::p99},
      {"p999", m::p999}, {"p99.9", m::p999}, {"max", m::max},
      {"mean", m::mean}, {"min", m::min},    {"errors", m::errors},
      {"rate", m::rate}};
  bool found = false;
  for (auto& [n, v] : names) {
    if (name == n) {
      t.what = v;
      found = true;
    }
  }
  if (!found) {
    // "p99.9" splits at its dot above; put it back together.
    if (name == "9" && t.histogram.size() >= 3 &&
        t.histogram.compare(t.histogram.size() - 3, 3, "p99") == 0) {
      t.histogram.resize(t.histogram.size() - 3);
      if (!t.histogram.empty() && t.histogram.back() == '.')
        t.histogram.pop_back();
      t.what = m::p999;
      found = true;
    }
  }
  if (!found)
    throw bad("unknown metric \"" + name +
              "\" (p50, p90, p99, p999, max, mean, min, errors, rate)");
  if ((t.what == m::errors || t.what == m::rate) && !t.histogram.empty())
    throw bad(name + " takes no histogram name");
  std::string_view v = rhs;
  if (t.what == m::errors) {
    if (!v.empty() && v.back() == '%') {
      t.percent = true;
      v.remove_suffix(1);
    }
    if (!parse_number(v, t.value))
      throw bad("expected a count or a percentage");
    if (t.percent)
      t.value /= 100.0;
    return t;
  }
  if (t.what == m::rate) {
    if (v.size() > 2 && v.substr(v.size() - 2) == "/s")
      v.remove_suffix(2);
    if (!parse_number(v, t.value))
      throw bad("expected requests per second");
    return t;
  }
  double scale = 1;
  auto ends = [&](std::string_view unit) {
    return v.size() > unit.size() && v.substr(v.size() - unit.size()) == unit;
  };
  if (ends("ms")) {
    v.remove_suffix(2);
  } else if (ends("us")) {
    v.remove_suffix(2);
    scale = 0.001;
  } else if (ends("s")) {
    v.remove_suffix(1);
    scale = 1000;
  } else if (ends("m")) {
    v.remove_suffix(1);
    scale = 60'000;
  } else if (ends("h")) {
    v.remove_suffix(1);
    scale = 3'600'000;
  }
  if (!parse_number(v, t.value))
    throw bad("expected a latency such as 50ms, 1.5s, 800us, 2m or 1h");
  t.value *= scale;
  return t;
}

threshold_result evaluate(const threshold& t, const report& r) {
  threshold_result out;
  out.text = t.text;
  using m = threshold::metric;
  if (t.what == m::errors) {
    auto attempts = r.totals.ok + r.errors.total;
    out.actual = t.percent ? (attempts ? static_cast<double>(r.errors.total) /
                                             static_cast<double>(attempts)
                                       : 0.0)
                           : static_cast<double>(r.errors.total);
    out.shown =
        t.percent ? fmt(out.actual * 100, "%") : std::to_string(r.errors.total);
  } else if (t.what == m::rate) {
    out.actual = r.totals.rate;
    out.shown = fmt(out.actual, "/s");
  } else {
    auto name = t.histogram.empty() ? r.primary : t.histogram;
    const latency_summary* h = nullptr;
    for (auto& l : r.latency)
      if (l.name == name)
        h = &l;
    if (h == nullptr) {
      out.shown = "no histogram " + name;
      return out;
    }
    switch (t.what) {
    case m::p50:
      out.actual = h->p50_ms;
      break;
    case m::p90:
      out.actual = h->p90_ms;
      break;
    case m::p99:
      out.actual = h->p99_ms;
      break;
    case m::p999:
      out.actual = h->p999_ms;
      break;
    case m::max:
      out.actual = h->max_ms;
      break;
    case m::mean:
      out.actual = h->mean_ms;
      break;
    default:
      out.actual = h->min_ms;
      break;
    }
    out.shown = fmt(out.actual, " ms");
    if (h->count == 0) {
      // No value at all is not a pass of "p99 < 50 ms".
      out.shown = "no values in " + name;
      return out;
    }
  }
  switch (t.cmp) {
  case threshold::op::lt:
    out.ok = out.actual < t.value;
    break;
  case threshold::op::le:
    out.ok = out.actual <= t.value;
    break;
  case threshold::op::gt:
    out.ok = out.actual > t.value;
    break;
  case threshold::op::ge:
    out.ok = out.actual >= t.value;
    break;
  }
  return out;
}

} // namespace distiller::load
