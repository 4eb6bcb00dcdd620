#pragma once

/// Helpers for the tests of docker/ (the compose stack, Prometheus' rules and
/// Grafana's dashboards): reading YAML, collecting the PromQL expressions of
/// the alert rules and the dashboards, the metric names and label names they
/// select, and a /metrics exposition's sample names with their labels.
/// Plain functions on text; YAML is read by Debian's python3-yaml (installed
/// by scripts/deps), everything else here is C++.

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

namespace distiller::testing {

/// `path` (YAML) as JSON, read by /usr/bin/python3 with PyYAML; throws
/// std::runtime_error naming the file when it cannot be read or parsed.
boost::json::value read_yaml(const std::filesystem::path& path);

/// The same for YAML text (e.g. `docker-compose config` output).
boost::json::value parse_yaml(const std::string& text);

/// One PromQL expression and where it was found ("alerts.yml:
/// DistillerNodeDown", "distiller-overview.json: panel 'HTTP latency' A").
struct located_expr {
  std::string where;
  std::string expr;
};

/// The `expr` of every rule in a Prometheus rules file.
std::vector<located_expr> rule_expressions(const std::filesystem::path& file);

/// Every target's `expr` and every query variable's query in a Grafana
/// dashboard (rows' nested panels included), Grafana's variables replaced
/// (grafana_to_promql); a `label_values(selector, label)` query yields its
/// selector.
std::vector<located_expr>
dashboard_expressions(const std::filesystem::path& file);

/// Grafana's variables turned into valid PromQL: $__rate_interval,
/// $__interval and $__range become 5m, any other $name or ${name} `.*`
/// (they only appear in ranges and in label-matcher strings).
std::string grafana_to_promql(std::string expr);

/// A metric a PromQL expression selects, with the label names its matchers
/// name (`x{a="1", b=~"2"}` → x, {a, b}).
struct metric_use {
  std::string name;
  std::set<std::string> labels;
};

/// Every metric an expression selects, in order (not deduplicated).
/// Function and aggregation names, keywords, `by (…)`/`without (…)`/
/// `on (…)`/`ignoring (…)`/`group_left (…)`/`group_right (…)` label lists,
/// string literals, ranges and numbers are not metrics.
std::vector<metric_use> metrics_in(std::string_view expr);

/// A Prometheus text exposition: each sample name (histograms' _bucket, _sum
/// and _count included) with the union of its label names.
std::map<std::string, std::set<std::string>>
exposition_names(std::string_view text);

} // namespace distiller::testing
