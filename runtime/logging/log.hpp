#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "runtime/core/ids.hpp"

/// Structured logging in logfmt: one line per event,
///   ts=2026-11-22T05:55:40.123Z level=info event=node_started node=node-1
/// Values that contain spaces, quotes or '=' are quoted and escaped. The sink
/// is process-wide (stderr by default) and thread-safe; tests install their
/// own to capture lines.
namespace distiller::log {

enum class level : uint8_t { debug, info, warn, error };

std::string_view to_string(level x);

/// Parses "debug", "info", "warn" or "error".
std::optional<level> parse_level(std::string_view text);

/// One `key=value` pair of a log line.
struct field {
  std::string_view key;
  std::string value;

  field(std::string_view k, std::string_view v) : key(k), value(v) {}
  field(std::string_view k, const std::string& v) : key(k), value(v) {}
  field(std::string_view k, const char* v) : key(k), value(v) {}
  field(std::string_view k, bool v) : key(k), value(v ? "true" : "false") {}
  template <class T, class = std::enable_if_t<std::is_arithmetic_v<T>>>
  field(std::string_view k, T v) : key(k), value(format_number(v)) {}
  template <class T, class Tag>
  field(std::string_view k, const named_type<T, Tag>& v)
      : field(k, v.value()) {}

 private:
  template <class T>
  static std::string format_number(T v) {
    if constexpr (std::is_floating_point_v<T>) {
      char buf[32];
      std::snprintf(buf, sizeof(buf), "%.3f", static_cast<double>(v));
      return buf;
    } else {
      return std::to_string(v);
    }
  }
};

using fields = std::initializer_list<field>;

/// Sets the lowest level that is written.
void set_level(level min);
level current_level();
bool enabled(level x);

/// Replaces where lines go; an empty function restores stderr.
void set_sink(std::function<void(std::string_view line)> sink);

/// Renders one logfmt line (without trailing newline); exposed for tests.
std::string format_line(level lvl, std::string_view event, fields fs);

/// Quotes `value` if logfmt requires it.
std::string quote(std::string_view value);

void write(level lvl, std::string_view event, fields fs);

inline void debug(std::string_view event, fields fs = {}) {
  if (enabled(level::debug))
    write(level::debug, event, fs);
}
inline void info(std::string_view event, fields fs = {}) {
  if (enabled(level::info))
    write(level::info, event, fs);
}
inline void warn(std::string_view event, fields fs = {}) {
  if (enabled(level::warn))
    write(level::warn, event, fs);
}
inline void error(std::string_view event, fields fs = {}) {
  if (enabled(level::error))
    write(level::error, event, fs);
}

} // namespace distiller::log
