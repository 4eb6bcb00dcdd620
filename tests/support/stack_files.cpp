#include "tests/support/stack_files.hpp"

#include <cctype>
#include <regex>
#include <stdexcept>

#include <boost/json.hpp>

#include "tests/support/testing.hpp"

namespace distiller::testing {

namespace json = boost::json;

// -- YAML ---------------------------------------------------------------------

boost::json::value read_yaml(const std::filesystem::path& path) {
  // -I: Debian's interpreter in isolated mode, whatever PYTHONPATH or a
  // pyenv on the PATH say; default=str keeps YAML dates serialisable.
  static const std::string script = "import json, sys, yaml\n"
                                    "with open(sys.argv[1]) as f:\n"
                                    "    doc = yaml.safe_load(f)\n"
                                    "json.dump(doc, sys.stdout, default=str)\n";
  auto r = run_process({"/usr/bin/python3", "-I", "-c", script, path.string()});
  if (r.exit_code != 0)
    throw std::runtime_error("cannot read " + path.string() +
                             " as YAML (python3-yaml): " + r.err);
  return json::parse(r.out);
}

boost::json::value parse_yaml(const std::string& text) {
  temp_dir dir{"distiller-yaml"};
  auto file = dir / "doc.yaml";
  write_file(file, text);
  return read_yaml(file);
}

// -- expressions of rules and dashboards --------------------------------------

std::vector<located_expr> rule_expressions(const std::filesystem::path& file) {
  std::vector<located_expr> out;
  auto doc = read_yaml(file);
  for (auto& group : doc.at("groups").as_array()) {
    for (auto& rule : group.at("rules").as_array()) {
      auto& r = rule.as_object();
      std::string name;
      if (auto* a = r.if_contains("alert"))
        name = std::string{a->as_string()};
      else if (auto* rec = r.if_contains("record"))
        name = std::string{rec->as_string()};
      out.push_back({file.filename().string() + ": " + name,
                     std::string{r.at("expr").as_string()}});
    }
  }
  return out;
}

std::string grafana_to_promql(std::string expr) {
  static const std::regex intervals{
      R"(\$\{?__(rate_interval|interval|range)\}?)"};
  static const std::regex variables{
      R"(\$\{[A-Za-z_][A-Za-z0-9_]*\}|\$[A-Za-z_][A-Za-z0-9_]*)"};
  expr = std::regex_replace(expr, intervals, "5m");
  return std::regex_replace(expr, variables, ".*");
}

namespace {

void collect_panels(const json::array& panels, const std::string& file,
                    std::vector<located_expr>& out) {
  for (auto& p : panels) {
    auto& panel = p.as_object();
    std::string title;
    if (auto* t = panel.if_contains("title"))
      title = std::string{t->as_string()};
    if (auto* targets = panel.if_contains("targets")) {
      for (auto& t : targets->as_array()) {
        auto& target = t.as_object();
        auto* expr = target.if_contains("expr");
        if (expr == nullptr)
          continue;
        std::string ref;
        if (auto* r = target.if_contains("refId"))
          ref = std::string{r->as_string()};
        out.push_back({file + ": panel '" + title + "' " + ref,
                       grafana_to_promql(std::string{expr->as_string()})});
      }
    }
    if (auto* nested = panel.if_contains("panels"))
      collect_panels(nested->as_array(), file, out);
  }
}

/// The selector of `label_values(selector, label)` (or the whole text).
std::string variable_selector(const std::string& query) {
  const std::string fn = "label_values(";
  if (query.rfind(fn, 0) != 0)
    return query;
  auto inner = query.substr(fn.size());
  if (!inner.empty() && inner.back() == ')')
    inner.pop_back();
  int depth = 0;
  size_t last_comma = std::string::npos;
  for (size_t i = 0; i < inner.size(); ++i) {
    char c = inner[i];
    if (c == '(' || c == '{' || c == '[')
      ++depth;
    else if (c == ')' || c == '}' || c == ']')
      --depth;
    else if (c == ',' && depth == 0)
      last_comma = i;
  }
  return last_comma == std::string::npos ? inner : inner.substr(0, last_comma);
}

} // namespace

std::vector<located_expr>
dashboard_expressions(const std::filesystem::path& file) {
  std::vector<located_expr> out;
  auto doc = json::parse(read_file(file)).as_object();
  auto name = file.filename().string();
  collect_panels(doc.at("panels").as_array(), name, out);
  if (auto* templating = doc.if_contains("templating")) {
    for (auto& v : templating->at("list").as_array()) {
      auto& var = v.as_object();
      if (var.at("type").as_string() != "query")
        continue;
      auto& q = var.at("query");
      std::string text = q.is_string() ? std::string{q.as_string()}
                                       : std::string{q.at("query").as_string()};
      out.push_back({name + ": variable '" +
                         std::string{var.at("name").as_string()} + "'",
                     grafana_to_promql(variable_selector(text))});
    }
  }
  return out;
}

// -- PromQL names
// ---------------------------------------------------------------

namespace {

bool ident_start(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':';
}

bool ident_char(char c) {
  return ident_start(c) || std::isdigit(static_cast<unsigned char>(c));
}

/// Skips the string literal starting at `i` (", ' or `).
size_t skip_string(std::string_view s, size_t i) {
  char quote = s[i++];
  while (i < s.size() && s[i] != quote) {
    if (s[i] == '\\' && quote != '`')
      ++i;
    ++i;
  }
  return i + 1;
}

/// Skips from the opening bracket at `i` to just after its match.
size_t skip_group(std::string_view s, size_t i) {
  char open = s[i];
  char close = open == '(' ? ')' : open == '[' ? ']' : '}';
  int depth = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == '"' || c == '\'' || c == '`') {
      i = skip_string(s, i);
      continue;
    }
    if (c == open)
      ++depth;
    else if (c == close && --depth == 0)
      return i + 1;
    ++i;
  }
  return i;
}

size_t skip_space(std::string_view s, size_t i) {
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i])))
    ++i;
  return i;
}

/// Reads the label names of the matchers in the `{…}` at `i`; returns the
/// position after the closing brace.
size_t read_matchers(std::string_view s, size_t i, std::set<std::string>& out) {
  ++i; // '{'
  while (i < s.size()) {
    i = skip_space(s, i);
    if (i < s.size() && s[i] == ',') {
      ++i;
      continue;
    }
    if (i >= s.size() || s[i] == '}')
      return i + 1;
    if (s[i] == '"' || s[i] == '\'' || s[i] == '`') {
      i = skip_string(s, i); // a quoted metric name (PromQL 3): not a label
      continue;
    }
    size_t start = i;
    while (i < s.size() && ident_char(s[i]))
      ++i;
    if (i == start) {
      ++i; // not a matcher; move on
      continue;
    }
    out.insert(std::string{s.substr(start, i - start)});
    i = skip_space(s, i);
    while (i < s.size() && (s[i] == '=' || s[i] == '!' || s[i] == '~'))
      ++i;
    i = skip_space(s, i);
    if (i < s.size() && (s[i] == '"' || s[i] == '\'' || s[i] == '`'))
      i = skip_string(s, i);
  }
  return i;
}

const std::set<std::string>& not_metrics() {
  static const std::set<std::string> names{
      // aggregations
      "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count",
      "count_values", "bottomk", "topk", "quantile", "limitk", "limit_ratio",
      // keywords and binary operators
      "by", "without", "on", "ignoring", "group_left", "group_right", "and",
      "or", "unless", "bool", "offset", "start", "end", "inf", "Inf", "nan",
      "NaN"};
  return names;
}

const std::set<std::string>& label_lists() {
  static const std::set<std::string> names{
      "by", "without", "on", "ignoring", "group_left", "group_right"};
  return names;
}

} // namespace

std::vector<metric_use> metrics_in(std::string_view s) {
  std::vector<metric_use> out;
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == '"' || c == '\'' || c == '`') {
      i = skip_string(s, i);
    } else if (c == '[') {
      i = skip_group(s, i); // a range or a subquery's resolution
    } else if (c == '{') {
      std::set<std::string> ignored; // a selector without a metric name
      i = read_matchers(s, i, ignored);
    } else if (std::isdigit(static_cast<unsigned char>(c)) ||
               (c == '.' && i + 1 < s.size() &&
                std::isdigit(static_cast<unsigned char>(s[i + 1])))) {
      // A number or a duration (0.99, 1e3, 5m, 1h30m).
      while (i < s.size() && (ident_char(s[i]) || s[i] == '.' ||
                              ((s[i] == '+' || s[i] == '-') &&
                               (s[i - 1] == 'e' || s[i - 1] == 'E'))))
        ++i;
    } else if (ident_start(c)) {
      size_t start = i;
      while (i < s.size() && ident_char(s[i]))
        ++i;
      std::string name{s.substr(start, i - start)};
      auto next = skip_space(s, i);
      bool call = next < s.size() && s[next] == '(';
      if (call && label_lists().count(name) > 0) {
        i = skip_group(s, next); // by (a, b): label names, not metrics
      } else if (call || not_metrics().count(name) > 0) {
        // a function, an aggregation or a keyword
      } else {
        metric_use use{name, {}};
        if (next < s.size() && s[next] == '{')
          i = read_matchers(s, next, use.labels);
        out.push_back(std::move(use));
      }
    } else {
      ++i;
    }
  }
  return out;
}

std::map<std::string, std::set<std::string>>
exposition_names(std::string_view text) {
  std::map<std::string, std::set<std::string>> out;
  size_t pos = 0;
  while (pos < text.size()) {
    auto end = text.find('\n', pos);
    if (end == std::string_view::npos)
      end = text.size();
    auto line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty() || line[0] == '#')
      continue;
    size_t i = 0;
    while (i < line.size() && ident_char(line[i]))
      ++i;
    auto& labels = out[std::string{line.substr(0, i)}];
    if (i >= line.size() || line[i] != '{')
      continue;
    ++i;
    while (i < line.size() && line[i] != '}') {
      size_t start = i;
      while (i < line.size() && line[i] != '=')
        ++i;
      labels.insert(std::string{line.substr(start, i - start)});
      i += 2; // ="
      while (i < line.size() && line[i] != '"') {
        if (line[i] == '\\')
          ++i;
        ++i;
      }
      ++i; // closing quote
      if (i < line.size() && line[i] == ',')
        ++i;
    }
  }
  return out;
}

} // namespace distiller::testing
