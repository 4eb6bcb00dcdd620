#include "runtime/config/loader.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <toml++/toml.h>

#include "runtime/config/toml_text.hpp"

extern char** environ;

namespace distiller::config {

namespace {

/// Renders a TOML leaf as the text our parsers accept.
std::optional<std::string> leaf_text(const toml::node& node) {
  if (auto s = node.as_string())
    return s->get();
  if (auto i = node.as_integer())
    return std::to_string(i->get());
  if (auto b = node.as_boolean())
    return std::string{b->get() ? "true" : "false"};
  if (auto f = node.as_floating_point()) {
    std::ostringstream out;
    out << f->get();
    return out.str();
  }
  if (auto arr = node.as_array()) {
    std::string out;
    for (auto& item : *arr) {
      auto text = leaf_text(item);
      if (!text || item.is_array() || item.is_table())
        return std::nullopt;
      out += (out.empty() ? "" : ",") + *text;
    }
    return out;
  }
  return std::nullopt;
}

/// Whether `segment` is a TOML bare key, as every declared key's segments
/// are: letters, digits, '_' and '-'.
bool bare_key(std::string_view segment) {
  if (segment.empty())
    return false;
  for (unsigned char c : segment)
    if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') &&
        !(c >= '0' && c <= '9') && c != '_' && c != '-')
      return false;
  return true;
}

/// A key segment as the error names it: bare, or quoted as TOML would
/// quote it (so `"" = 1` is key '""' and `"http.port" = 1` is not the
/// key http.port).
std::string segment_text(std::string_view segment) {
  if (bare_key(segment))
    return std::string{segment};
  std::string out = "\"";
  for (unsigned char c : segment) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

void walk(schema& s, const toml::table& table, const std::string& prefix,
          bool all_bare) {
  for (auto& [k, node] : table) {
    auto segment = segment_text(k.str());
    auto key = prefix.empty() ? segment : prefix + "." + segment;
    bool bare = all_bare && bare_key(k.str());
    if (auto sub = node.as_table()) {
      walk(s, *sub, key, bare);
      continue;
    }
    if (!bare || s.find(key) == nullptr)
      throw config_error(key, "unknown key (see docs/configuration.md)");
    auto text = leaf_text(node);
    if (!text)
      throw config_error(key, "unsupported value type (expected a string, "
                              "number, boolean or array of those)");
    s.set(key, *text);
  }
}

std::string toml_value(const option& o, const std::string& value) {
  // Integers and booleans are written bare; everything else quoted.
  bool bare = o.allowed.rfind("integer", 0) == 0 ||
              o.allowed.rfind("number", 0) == 0 || o.allowed == "true|false";
  if (bare)
    return value;
  if (o.allowed == "comma-separated list") {
    std::string out = "[";
    std::string_view rest = value;
    bool first = true;
    while (!rest.empty()) {
      auto comma = rest.find(',');
      out +=
          (first ? "\"" : ", \"") + std::string{rest.substr(0, comma)} + "\"";
      first = false;
      if (comma == std::string_view::npos)
        break;
      rest.remove_prefix(comma + 1);
    }
    return out + "]";
  }
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\')
      out += '\\';
    out += c;
  }
  return out + "\"";
}

} // namespace

void load_file(schema& s, const std::string& path, bool required) {
  if (!std::filesystem::exists(path)) {
    if (required)
      throw config_error("config", "file not found: " + path);
    return;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw config_error("config", "cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  load_text(s, text.str(), path);
}

void load_text(schema& s, std::string_view toml_text,
               const std::string& origin) {
  check_toml_text(toml_text, "config", origin);
  toml::table table;
  try {
    table = toml::parse(toml_text, origin);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << "cannot parse " << origin << " at line " << e.source().begin.line
        << ", column " << e.source().begin.column << ": " << e.description();
    throw config_error("config", msg.str());
  }
  walk(s, table, "", true);
}

void load_env(schema& s, const std::map<std::string, std::string>& env) {
  for (auto& o : s.options())
    for (size_t k = 0; k < o.env_aliases.size(); ++k)
      if (auto i = env.find(o.env_aliases[k]); i != env.end()) {
        auto value = i->second;
        auto& unit = o.env_alias_units[k];
        bool bare = !value.empty() &&
                    value.find_first_not_of("0123456789") == std::string::npos;
        if (bare && !unit.empty())
          value += unit;
        try {
          s.set(o.key, value);
        } catch (const config_error& e) {
          // Name the variable the user set, not only the key.
          std::string what = e.what();
          auto prefix = "config error: key '" + o.key + "': ";
          if (what.rfind(prefix, 0) == 0)
            what.erase(0, prefix.size());
          throw config_error(o.key, what + " (from the environment variable " +
                                        o.env_aliases[k] + "=" + i->second +
                                        ")");
        }
      }
  for (auto& [name, value] : env) {
    if (name.rfind("DISTILLER_", 0) != 0 || name == config_file_env ||
        name == client_token_env)
      continue;
    const option* match = nullptr;
    for (auto& o : s.options())
      if (schema::env_name(o.key) == name)
        match = &o;
    if (match == nullptr)
      throw config_error(name, "unknown environment variable (DISTILLER_ "
                               "variables must name a key, e.g. "
                               "DISTILLER_HTTP_PORT)");
    s.set(match->key, value);
  }
}

void load_flags(schema& s,
                const std::vector<std::pair<std::string, std::string>>& flags) {
  for (auto& [key, value] : flags)
    s.set(key, value);
}

std::pair<std::string, std::string> split_assignment(const std::string& text) {
  auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0)
    throw config_error(text, "expected section.key=value");
  return {text.substr(0, eq), text.substr(eq + 1)};
}

std::map<std::string, std::string> process_environment() {
  std::map<std::string, std::string> result;
  for (char** p = environ; p != nullptr && *p != nullptr; ++p) {
    std::string_view entry{*p};
    auto eq = entry.find('=');
    if (eq != std::string_view::npos)
      result.emplace(entry.substr(0, eq), entry.substr(eq + 1));
  }
  return result;
}

std::string render_toml(const schema& s, bool mask_secrets) {
  std::ostringstream out;
  out << "# Distiller node configuration.\n"
      << "# Precedence: defaults < this file < environment (DISTILLER_SECTION_"
         "KEY)\n"
      << "# < command-line flags (--set section.key=value).\n";
  std::string section;
  for (auto& o : s.options()) {
    auto dot = o.key.rfind('.');
    auto sec = o.key.substr(0, dot);
    if (sec != section) {
      section = sec;
      out << "\n[" << section << "]\n";
    }
    out << "# " << o.doc << " (" << o.allowed << ")\n";
    auto value = o.render();
    if (mask_secrets && o.secret)
      value = mask_secret(o, value);
    out << o.key.substr(dot + 1) << " = " << toml_value(o, value) << "\n";
  }
  return out.str();
}

std::string render_markdown(const schema& s) {
  std::ostringstream out;
  out << "| key | default | allowed | environment | meaning |\n"
      << "| --- | --- | --- | --- | --- |\n";
  for (auto& o : s.options()) {
    std::string env = "`" + schema::env_name(o.key) + "`";
    for (size_t k = 0; k < o.env_aliases.size(); ++k)
      env += ", `" + o.env_aliases[k] + "`" +
             (o.env_alias_units[k].empty()
                  ? std::string{}
                  : " (in " +
                        std::string{o.env_alias_units[k] == "s"
                                        ? "seconds"
                                        : o.env_alias_units[k]} +
                        ")");
    auto def = o.default_text.empty() ? std::string{"(empty)"}
                                      : "`" + o.default_text + "`";
    auto allowed = o.allowed;
    for (size_t i = 0; (i = allowed.find('|', i)) != std::string::npos; i += 2)
      allowed.replace(i, 1, "\\|");
    out << "| `" << o.key << "` | " << def << " | " << allowed << " | " << env
        << " | " << o.doc << " |\n";
  }
  return out.str();
}

} // namespace distiller::config
