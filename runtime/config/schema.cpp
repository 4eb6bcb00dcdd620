#include "runtime/config/schema.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace distiller::config {

namespace {

std::string_view trim(std::string_view x) {
  while (!x.empty() && std::isspace(static_cast<unsigned char>(x.front())))
    x.remove_prefix(1);
  while (!x.empty() && std::isspace(static_cast<unsigned char>(x.back())))
    x.remove_suffix(1);
  return x;
}

std::optional<int64_t> parse_int(std::string_view text) {
  text = trim(text);
  int64_t value = 0;
  auto [end, ec] =
      std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty())
    return std::nullopt;
  return value;
}

std::string quoted(std::string_view text) {
  return "\"" + std::string{text} + "\"";
}

/// Splits "12ms" into 12 and "ms".
bool split_unit(std::string_view text, uint64_t& number, std::string& unit) {
  text = trim(text);
  size_t i = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])))
    ++i;
  if (i == 0)
    return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + i, number);
  if (ec != std::errc{})
    return false;
  unit = std::string{trim(text.substr(i))};
  std::transform(unit.begin(), unit.end(), unit.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return true;
}

} // namespace

config_error::config_error(std::string key, std::string message)
    : std::runtime_error("config error: key '" + key + "': " + message),
      key_(std::move(key)) {}

// -- parsers
// -------------------------------------------------------------------

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  uint64_t n = 0;
  std::string unit;
  if (!split_unit(text, n, unit))
    return std::nullopt;
  using std::chrono::milliseconds;
  if (unit.empty() || unit == "ms")
    return milliseconds{n};
  if (unit == "s")
    return milliseconds{n * 1000};
  if (unit == "m" || unit == "min")
    return milliseconds{n * 60'000};
  if (unit == "h")
    return milliseconds{n * 3'600'000};
  return std::nullopt;
}

std::optional<uint64_t> parse_bytes(std::string_view text) {
  uint64_t n = 0;
  std::string unit;
  if (!split_unit(text, n, unit))
    return std::nullopt;
  if (unit.empty() || unit == "b")
    return n;
  if (unit == "kib" || unit == "k")
    return n << 10;
  if (unit == "mib" || unit == "m")
    return n << 20;
  if (unit == "gib" || unit == "g")
    return n << 30;
  return std::nullopt;
}

std::string format_duration(std::chrono::milliseconds x) {
  auto ms = x.count();
  if (ms != 0 && ms % 3'600'000 == 0)
    return std::to_string(ms / 3'600'000) + "h";
  if (ms != 0 && ms % 60'000 == 0)
    return std::to_string(ms / 60'000) + "m";
  if (ms != 0 && ms % 1000 == 0)
    return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

std::string format_bytes(uint64_t x) {
  if (x != 0 && x % (1ull << 30) == 0)
    return std::to_string(x >> 30) + "GiB";
  if (x != 0 && x % (1ull << 20) == 0)
    return std::to_string(x >> 20) + "MiB";
  if (x != 0 && x % (1ull << 10) == 0)
    return std::to_string(x >> 10) + "KiB";
  return std::to_string(x);
}

// -- schema
// ----------------------------------------------------------------------

option& schema::push(std::string key, std::string doc, std::string allowed) {
  if (find(key) != nullptr)
    throw std::logic_error("config key declared twice: " + key);
  option o;
  o.key = std::move(key);
  o.doc = std::move(doc);
  o.allowed = std::move(allowed);
  options_.push_back(std::move(o));
  return options_.back();
}

void schema::add_string(std::string key, std::string& field, std::string doc) {
  auto& o = push(std::move(key), std::move(doc), "string");
  o.apply = [&field](std::string_view text) -> std::optional<std::string> {
    field = std::string{text};
    return std::nullopt;
  };
  o.render = [&field] {
    return field;
  };
  o.default_text = field;
}

void schema::add_choice(std::string key, std::string& field,
                        std::vector<std::string> choices, std::string doc) {
  std::string allowed;
  for (auto& c : choices)
    allowed += (allowed.empty() ? "" : "|") + c;
  auto& o = push(std::move(key), std::move(doc), allowed);
  o.apply = [&field, choices,
             allowed](std::string_view text) -> std::optional<std::string> {
    auto t = trim(text);
    if (std::find(choices.begin(), choices.end(), t) == choices.end())
      return "expected one of " + allowed + ", got " + quoted(text);
    field = std::string{t};
    return std::nullopt;
  };
  o.render = [&field] {
    return field;
  };
  o.default_text = field;
}

void schema::add_int(std::string key, int64_t& field, int64_t min, int64_t max,
                     std::string doc) {
  auto allowed = "integer " + std::to_string(min) + ".." + std::to_string(max);
  auto& o = push(std::move(key), std::move(doc), allowed);
  o.apply = [&field, min, max,
             allowed](std::string_view text) -> std::optional<std::string> {
    auto v = parse_int(text);
    if (!v || *v < min || *v > max)
      return "expected an " + allowed + ", got " + quoted(text);
    field = *v;
    return std::nullopt;
  };
  o.render = [&field] {
    return std::to_string(field);
  };
  o.default_text = std::to_string(field);
}

namespace {

/// Shortest text that reads back as the same double ("0.75", "60").
std::string number_text(double x) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, x);
  return std::string{buf, r.ptr};
}

} // namespace

void schema::add_number(std::string key, double& field, double min, double max,
                        std::string doc) {
  auto allowed = "number " + number_text(min) + ".." + number_text(max);
  auto& o = push(std::move(key), std::move(doc), allowed);
  o.apply = [&field, min, max,
             allowed](std::string_view text) -> std::optional<std::string> {
    double v = 0;
    auto b = text.data(), e = text.data() + text.size();
    auto r = std::from_chars(b, e, v);
    if (text.empty() || r.ec != std::errc{} || r.ptr != e || !(v >= min) ||
        !(v <= max))
      return "expected a " + allowed + ", got " + quoted(text);
    field = v;
    return std::nullopt;
  };
  o.render = [&field] {
    return number_text(field);
  };
  o.default_text = number_text(field);
}

void schema::add_int(std::string key, int& field, int min, int max,
                     std::string doc) {
  auto allowed = "integer " + std::to_string(min) + ".." + std::to_string(max);
  auto& o = push(std::move(key), std::move(doc), allowed);
  o.apply = [&field, min, max,
             allowed](std::string_view text) -> std::optional<std::string> {
    auto v = parse_int(text);
    if (!v || *v < min || *v > max)
      return "expected an " + allowed + ", got " + quoted(text);
    field = static_cast<int>(*v);
    return std::nullopt;
  };
  o.render = [&field] {
    return std::to_string(field);
  };
  o.default_text = std::to_string(field);
}

void schema::add_bool(std::string key, bool& field, std::string doc) {
  auto& o = push(std::move(key), std::move(doc), "true|false");
  o.apply = [&field](std::string_view text) -> std::optional<std::string> {
    auto t = trim(text);
    if (t == "true" || t == "1" || t == "yes" || t == "on")
      field = true;
    else if (t == "false" || t == "0" || t == "no" || t == "off")
      field = false;
    else
      return "expected true|false, got " + quoted(text);
    return std::nullopt;
  };
  o.render = [&field] {
    return std::string{field ? "true" : "false"};
  };
  o.default_text = field ? "true" : "false";
}

void schema::add_list(std::string key, std::vector<std::string>& field,
                      std::string doc) {
  auto& o = push(std::move(key), std::move(doc), "comma-separated list");
  o.apply = [&field](std::string_view text) -> std::optional<std::string> {
    std::vector<std::string> items;
    while (!text.empty()) {
      auto comma = text.find(',');
      auto item = trim(text.substr(0, comma));
      if (item.empty())
        return "empty item in list " + quoted(text);
      items.emplace_back(item);
      if (comma == std::string_view::npos)
        break;
      text.remove_prefix(comma + 1);
    }
    field = std::move(items);
    return std::nullopt;
  };
  o.render = [&field] {
    std::string out;
    for (auto& x : field)
      out += (out.empty() ? "" : ",") + x;
    return out;
  };
  o.default_text = o.render();
}

void schema::add_duration(std::string key, std::chrono::milliseconds& field,
                          std::chrono::milliseconds min, std::string doc) {
  auto allowed =
      "duration >= " + format_duration(min) + " (e.g. 250ms, 30s, 5m, 1h)";
  auto& o = push(std::move(key), std::move(doc), allowed);
  o.apply = [&field, min,
             allowed](std::string_view text) -> std::optional<std::string> {
    auto v = parse_duration(text);
    if (!v || *v < min)
      return "expected a " + allowed + ", got " + quoted(text);
    field = *v;
    return std::nullopt;
  };
  o.render = [&field] {
    return format_duration(field);
  };
  o.default_text = format_duration(field);
}

void schema::add_bytes(std::string key, uint64_t& field, uint64_t min,
                       uint64_t max, std::string doc) {
  auto allowed = "size " + format_bytes(min) + ".." + format_bytes(max) +
                 " (e.g. 512KiB, 50MiB)";
  auto& o = push(std::move(key), std::move(doc), allowed);
  o.apply = [&field, min, max,
             allowed](std::string_view text) -> std::optional<std::string> {
    auto v = parse_bytes(text);
    if (!v || *v < min || *v > max)
      return "expected a " + allowed + ", got " + quoted(text);
    field = *v;
    return std::nullopt;
  };
  o.render = [&field] {
    return format_bytes(field);
  };
  o.default_text = format_bytes(field);
}

void schema::mark_secret(const std::string& key) {
  for (auto& o : options_)
    if (o.key == key) {
      o.secret = true;
      return;
    }
  throw std::logic_error("mark_secret: no key " + key);
}

std::string mask_secret(const option&, const std::string& value) {
  if (value.empty())
    return value;
  // A URI's user:password@ and a key/value string's password=… keep the
  // rest readable (which host, which database).
  auto scheme = value.find("://");
  if (scheme != std::string::npos) {
    auto at = value.find('@', scheme + 3);
    auto colon = value.find(':', scheme + 3);
    auto out = value;
    if (at != std::string::npos && colon != std::string::npos && colon < at)
      out.replace(colon + 1, at - colon - 1, "***");
    auto pw = out.find("password=");
    if (pw != std::string::npos) {
      auto end = out.find('&', pw);
      out.replace(pw + 9,
                  (end == std::string::npos ? out.size() : end) - pw - 9,
                  "***");
    }
    return out;
  }
  auto pw = value.find("password=");
  if (pw != std::string::npos && (pw == 0 || value[pw - 1] == ' ')) {
    auto out = value;
    size_t start = pw + 9, end = start;
    if (end < out.size() && out[end] == '\'') {
      end = out.find('\'', end + 1);
      end = end == std::string::npos ? out.size() : end + 1;
    } else {
      end = out.find(' ', end);
      if (end == std::string::npos)
        end = out.size();
    }
    out.replace(start, end - start, "***");
    return out;
  }
  if (value.find('=') != std::string::npos &&
      value.find(' ') != std::string::npos)
    return value; // a key/value connection string without a password
  return "***";
}

void schema::alias_env(const std::string& key, std::string env_var,
                       std::string unit) {
  for (auto& o : options_)
    if (o.key == key) {
      if (env_var == env_name(key))
        throw std::logic_error("alias of " + key + " is its own variable " +
                               env_var);
      o.env_aliases.push_back(std::move(env_var));
      o.env_alias_units.push_back(std::move(unit));
      return;
    }
  throw std::logic_error("alias for undeclared config key: " + key);
}

void schema::set(const std::string& key, std::string_view text) {
  auto* o = find(key);
  if (o == nullptr)
    throw config_error(key, "unknown key (see docs/configuration.md for the "
                            "keys this version knows)");
  if (auto err = o->apply(text))
    throw config_error(key, *err);
}

const option* schema::find(const std::string& key) const {
  for (auto& o : options_)
    if (o.key == key)
      return &o;
  return nullptr;
}

std::string schema::env_name(const std::string& key) {
  std::string result = "DISTILLER_";
  for (char c : key)
    result += c == '.' ? '_' : static_cast<char>(std::toupper(c));
  return result;
}

} // namespace distiller::config
