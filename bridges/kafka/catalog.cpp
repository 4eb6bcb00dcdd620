#include "bridges/kafka/catalog.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <fstream>
#include <optional>
#include <sstream>
#include <utility>

#include <toml++/toml.h>

#include "runtime/config/schema.hpp"
#include "runtime/config/toml_text.hpp"

namespace distiller::kafka {

namespace {

using config::config_error;
using std::chrono::milliseconds;

// -- limits -------------------------------------------------------------------

constexpr int max_partitions = 1024;
constexpr int max_replication = 16;
constexpr size_t max_topic_name = 249;

/// The catalog's `compression` values: every codec, then "producer".
std::vector<std::string> compressions() {
  auto names = compression_names();
  names.push_back("producer");
  return names;
}
const std::vector<std::string> cleanup_policies{"delete", "compact"};

/// The keys a topic (and `[defaults]`, minus the per-topic ones) may set.
const std::vector<std::string> default_keys{
    "partitions",     "replication",         "retention", "compression",
    "cleanup_policy", "min_insync_replicas", "segment"};
const std::vector<std::string> topic_only_keys{"dead_letter", "description"};

std::string join(const std::vector<std::string>& xs, std::string_view sep) {
  std::string out;
  for (auto& x : xs)
    out += (out.empty() ? "" : std::string{sep}) + x;
  return out;
}

bool contains(const std::vector<std::string>& xs, std::string_view x) {
  return std::find(xs.begin(), xs.end(), x) != xs.end();
}

/// Renders a TOML value for an error message.
std::string show(const toml::node& node) {
  if (auto s = node.as_string())
    return "\"" + s->get() + "\"";
  std::ostringstream out;
  if (node.is_table())
    out << "a table";
  else if (node.is_array())
    out << "an array";
  else
    node.visit([&out](auto&& x) { out << x; });
  return out.str();
}

// -- value parsers ------------------------------------------------------------

int get_int(const toml::node& node, const std::string& key, int min, int max) {
  auto i = node.as_integer();
  if (i == nullptr || i->get() < min || i->get() > max)
    throw config_error(key, "expected an integer " + std::to_string(min) +
                                ".." + std::to_string(max) + ", got " +
                                show(node));
  return static_cast<int>(i->get());
}

std::string get_choice(const toml::node& node, const std::string& key,
                       const std::vector<std::string>& choices) {
  auto s = node.as_string();
  if (s == nullptr || !contains(choices, s->get()))
    throw config_error(key, "expected one of " + join(choices, "|") + ", got " +
                                show(node));
  return s->get();
}

std::string get_string(const toml::node& node, const std::string& key) {
  auto s = node.as_string();
  if (s == nullptr)
    throw config_error(key, "expected a string, got " + show(node));
  return s->get();
}

/// "500ms", "30s", "15m", "12h", "7d" or an integer of milliseconds; with
/// `allow_forever`, also -1 / "-1" / "forever" (Kafka's retention.ms = -1).
std::optional<milliseconds> parse_span(std::string_view text,
                                       bool allow_forever) {
  if (allow_forever && (text == "-1" || text == "forever"))
    return milliseconds{-1};
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || end == text.data())
    return std::nullopt;
  std::string_view unit{end,
                        static_cast<size_t>(text.data() + text.size() - end)};
  uint64_t scale = 0;
  if (unit.empty() || unit == "ms")
    scale = 1;
  else if (unit == "s")
    scale = 1000;
  else if (unit == "m" || unit == "min")
    scale = 60'000;
  else if (unit == "h")
    scale = 3'600'000;
  else if (unit == "d")
    scale = 86'400'000;
  else
    return std::nullopt;
  // Reject zero and anything that would not fit Kafka's int64 milliseconds.
  if (n == 0 || n > static_cast<uint64_t>(INT64_MAX) / scale)
    return std::nullopt;
  return milliseconds{static_cast<int64_t>(n * scale)};
}

milliseconds get_span(const toml::node& node, const std::string& key,
                      bool allow_forever) {
  std::optional<milliseconds> result;
  if (auto i = node.as_integer())
    result = parse_span(std::to_string(i->get()), allow_forever);
  else if (auto s = node.as_string())
    result = parse_span(s->get(), allow_forever);
  if (!result)
    throw config_error(key, std::string{"expected a duration such as \"7d\", "
                                        "\"12h\", \"30m\", \"500ms\" or a "
                                        "positive number of milliseconds"} +
                                (allow_forever ? " (or -1 for forever)" : "") +
                                ", got " + show(node));
  return *result;
}

// -- tables -------------------------------------------------------------------

/// Applies the keys of `table` (under `prefix`) to `spec`; `allowed` lists
/// the keys this table may have.
void apply(const toml::table& table, const std::string& prefix,
           const std::vector<std::string>& allowed, topic_spec& spec) {
  for (auto& [k, node] : table) {
    std::string name{k.str()};
    auto key = prefix + "." + name;
    if (!contains(allowed, name))
      throw config_error(key,
                         "unknown key (allowed: " + join(allowed, ", ") + ")");
    if (name == "partitions")
      spec.partitions = get_int(node, key, 1, max_partitions);
    else if (name == "replication")
      spec.replication = get_int(node, key, 1, max_replication);
    else if (name == "retention")
      spec.retention = get_span(node, key, true);
    else if (name == "compression")
      spec.codec = compression_from_name(get_choice(node, key, compressions()));
    else if (name == "cleanup_policy")
      spec.cleanup_policy = get_choice(node, key, cleanup_policies);
    else if (name == "min_insync_replicas")
      spec.min_insync_replicas = get_int(node, key, 1, max_replication);
    else if (name == "segment")
      spec.segment = get_span(node, key, false);
    else if (name == "dead_letter")
      spec.dead_letter = get_string(node, key);
    else if (name == "description")
      spec.description = get_string(node, key);
  }
}

const toml::table& as_table(const toml::node& node, const std::string& key) {
  auto t = node.as_table();
  if (t == nullptr)
    throw config_error(key,
                       "expected a table ([" + key + "]), got " + show(node));
  return *t;
}

/// Kafka refuses topics whose names differ only in '.' versus '_', since
/// both map to the same metric name.
std::string metric_name(std::string name) {
  std::replace(name.begin(), name.end(), '.', '_');
  return name;
}

/// The table header in force at `line` (1-based) of `text`, with quotes
/// removed: `[topics."a.dlq"]` gives "topics.a.dlq"; empty at the root.
std::string header_at(std::string_view text, size_t line) {
  std::string header;
  size_t current = 1;
  size_t pos = 0;
  while (pos <= text.size() && current <= line) {
    auto end = text.find('\n', pos);
    auto row =
        text.substr(pos, end == std::string_view::npos ? text.npos : end - pos);
    auto first = row.find_first_not_of(" \t");
    if (first != std::string_view::npos && row[first] == '[' &&
        row.substr(first).find(']') != std::string_view::npos) {
      auto inner = row.substr(first + 1, row.find(']', first) - first - 1);
      header.clear();
      for (char c : inner)
        if (c != '"' && c != '\'' && c != '[' && c != ' ' && c != '\t')
          header += c;
    }
    if (end == std::string_view::npos)
      break;
    pos = end + 1;
    ++current;
  }
  return header;
}

/// toml++ reports a repeated table as "cannot redefine existing table
/// 'topics.x'" and a repeated key as "cannot redefine existing integer
/// 'partitions'"; returns the full dotted key so the error can name it.
std::optional<std::string> redefined_key(std::string_view description,
                                         std::string_view text, size_t line) {
  if (description.find("redefine") == std::string_view::npos)
    return std::nullopt;
  auto open = description.find('\'');
  auto close = description.rfind('\'');
  if (open == std::string_view::npos || close <= open)
    return std::nullopt;
  std::string key{description.substr(open + 1, close - open - 1)};
  if (description.find("existing table") != std::string_view::npos)
    return key;
  // A key inside a table: toml++ names only the key itself.
  auto header = header_at(text, line);
  return header.empty() ? key : header + "." + key;
}

catalog build(const toml::table& root) {
  // topic_spec's own defaults apply unless [defaults] overrides them.
  topic_spec defaults;
  for (auto& [k, node] : root) {
    std::string name{k.str()};
    if (name != "defaults" && name != "topics")
      throw config_error(name, "unknown key (allowed: defaults, topics)");
  }
  if (auto node = root.get("defaults"))
    apply(as_table(*node, "defaults"), "defaults", default_keys, defaults);
  auto topics_node = root.get("topics");
  if (topics_node == nullptr)
    throw config_error("topics", "the catalog declares no topics (add "
                                 "[topics.<name>] tables)");
  auto& topics = as_table(*topics_node, "topics");
  auto topic_keys = default_keys;
  topic_keys.insert(topic_keys.end(), topic_only_keys.begin(),
                    topic_only_keys.end());
  // toml++ keeps tables sorted by key; restore the file's order so the
  // catalog reads (and is created) the way it is written.
  std::vector<std::pair<toml::source_position, topic_spec>> specs;
  std::map<std::string, std::string> seen; // metric name -> topic name
  for (auto& [k, node] : topics) {
    std::string name{k.str()};
    auto prefix = "topics." + name;
    if (!valid_topic_name(name))
      throw config_error(
          prefix, "invalid topic name (1.." + std::to_string(max_topic_name) +
                      " characters of a-z A-Z 0-9 . _ -, not \".\" or "
                      "\"..\")");
    auto [i, fresh] = seen.emplace(metric_name(name), name);
    if (!fresh)
      throw config_error(prefix, "duplicate topic: collides with '" +
                                     i->second +
                                     "' (Kafka treats '.' and '_' alike)");
    auto spec = defaults;
    spec.name = name;
    apply(as_table(node, prefix), prefix, topic_keys, spec);
    if (spec.min_insync_replicas > spec.replication)
      throw config_error(prefix + ".min_insync_replicas",
                         "expected an integer 1.." +
                             std::to_string(spec.replication) +
                             " (at most the replication), got " +
                             std::to_string(spec.min_insync_replicas));
    specs.emplace_back(node.source().begin, std::move(spec));
  }
  std::stable_sort(specs.begin(), specs.end(), [](auto& x, auto& y) {
    return std::pair{x.first.line, x.first.column} <
           std::pair{y.first.line, y.first.column};
  });
  catalog result;
  for (auto& [pos, spec] : specs)
    result.topics.push_back(std::move(spec));
  for (auto& t : result.topics) {
    if (t.dead_letter.empty())
      continue;
    auto key = "topics." + t.name + ".dead_letter";
    if (t.dead_letter == t.name)
      throw config_error(key, "a topic cannot be its own dead-letter topic");
    if (result.find(t.dead_letter) == nullptr)
      throw config_error(key, "unknown topic \"" + t.dead_letter +
                                  "\" (declare it in the catalog too)");
  }
  return result;
}

} // namespace

const topic_spec* catalog::find(std::string_view name) const {
  for (auto& t : topics)
    if (t.name == name)
      return &t;
  return nullptr;
}

bool valid_topic_name(std::string_view name) {
  if (name.empty() || name.size() > max_topic_name || name == "." ||
      name == "..")
    return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
  });
}

catalog parse_catalog(std::string_view toml_text, const std::string& origin) {
  config::check_toml_text(toml_text, "kafka.catalog", origin);
  toml::table root;
  try {
    root = toml::parse(toml_text, origin);
  } catch (const toml::parse_error& e) {
    auto line = std::to_string(e.source().begin.line);
    if (auto key =
            redefined_key(e.description(), toml_text, e.source().begin.line))
      throw config_error(*key, "duplicate: defined again in " + origin +
                                   " at line " + line);
    throw config_error("kafka.catalog",
                       "cannot parse " + origin + " at line " + line +
                           ", column " +
                           std::to_string(e.source().begin.column) + ": " +
                           std::string{e.description()});
  }
  return build(root);
}

catalog load_catalog(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  if (!in)
    throw config_error("kafka.catalog", "cannot read topic catalog " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return parse_catalog(text.str(), path);
}

std::string compression_type(const topic_spec& t) {
  return t.codec ? to_string(*t.codec) : "producer";
}

std::map<std::string, std::string> topic_configs(const topic_spec& t) {
  return {
      {"retention.ms", std::to_string(t.retention.count())},
      {"compression.type", compression_type(t)},
      {"cleanup.policy", t.cleanup_policy},
      {"min.insync.replicas", std::to_string(t.min_insync_replicas)},
      {"segment.ms", std::to_string(t.segment.count())},
  };
}

} // namespace distiller::kafka
