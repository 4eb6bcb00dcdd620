#include "runtime/logging/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <mutex>

namespace distiller::log {

namespace {

std::atomic<level> min_level{level::info};

struct sink_state {
  std::mutex mtx;
  std::function<void(std::string_view)> fn;
};

sink_state& sink() {
  static sink_state instance;
  return instance;
}

std::string timestamp() {
  using namespace std::chrono;
  auto now = system_clock::now();
  auto secs = system_clock::to_time_t(now);
  auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

} // namespace

std::string_view to_string(level x) {
  switch (x) {
  case level::debug:
    return "debug";
  case level::info:
    return "info";
  case level::warn:
    return "warn";
  case level::error:
    return "error";
  }
  return "info";
}

std::optional<level> parse_level(std::string_view text) {
  for (auto x : {level::debug, level::info, level::warn, level::error})
    if (text == to_string(x))
      return x;
  return std::nullopt;
}

void set_level(level min) {
  min_level = min;
}

level current_level() {
  return min_level.load();
}

bool enabled(level x) {
  return x >= min_level.load();
}

void set_sink(std::function<void(std::string_view)> fn) {
  std::lock_guard<std::mutex> guard{sink().mtx};
  sink().fn = std::move(fn);
}

std::string quote(std::string_view value) {
  bool needs = value.empty();
  for (char c : value)
    if (c == ' ' || c == '"' || c == '=' || c == '\\' ||
        static_cast<unsigned char>(c) < 0x20)
      needs = true;
  if (!needs)
    return std::string{value};
  std::string out;
  out.reserve(value.size() + 2);
  out += '"';
  for (char c : value) {
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\r':
      out += "\\r";
      break;
    case '\t':
      out += "\\t";
      break;
    default:
      if (static_cast<unsigned char>(c) < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof(buf), "\\u%04x", c);
        out += buf;
      } else {
        out += c;
      }
    }
  }
  out += '"';
  return out;
}

std::string format_line(level lvl, std::string_view event, fields fs) {
  std::string line;
  line.reserve(96);
  line += "ts=";
  line += timestamp();
  line += " level=";
  line += to_string(lvl);
  line += " event=";
  line += quote(event);
  for (const auto& f : fs) {
    line += ' ';
    line += f.key;
    line += '=';
    line += quote(f.value);
  }
  return line;
}

void write(level lvl, std::string_view event, fields fs) {
  auto line = format_line(lvl, event, fs);
  auto& s = sink();
  std::lock_guard<std::mutex> guard{s.mtx};
  if (s.fn) {
    s.fn(line);
  } else {
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), stderr);
  }
}

} // namespace distiller::log
