#include "bridges/kafka_tools/key_pattern.hpp"

#include <chrono>
#include <cstdio>
#include <random>

#include "bridges/kafka_tools/options.hpp"
#include "runtime/core/ids.hpp"

namespace distiller::kafka::tools {

namespace {

constexpr const char* option_name = "--key-pattern";

std::string random_hex8() {
  thread_local std::mt19937 gen{std::random_device{}()};
  char buf[9];
  std::snprintf(buf, sizeof(buf), "%08x", static_cast<unsigned>(gen()));
  return buf;
}

} // namespace

key_pattern::key_pattern(std::string_view text) : text_(text) {
  std::string literal;
  auto flush = [&] {
    if (!literal.empty())
      parts_.push_back({kind::literal, std::move(literal)});
    literal.clear();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '}') {
      if (i + 1 < text.size() && text[i + 1] == '}') {
        literal += '}';
        ++i;
        continue;
      }
      throw option_error(option_name, "unbalanced '}' at position " +
                                          std::to_string(i) +
                                          " (write }} for a literal brace)");
    }
    if (c != '{') {
      literal += c;
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '{') {
      literal += '{';
      ++i;
      continue;
    }
    auto close = text.find('}', i);
    if (close == std::string_view::npos)
      throw option_error(option_name,
                         "unclosed '{' at position " + std::to_string(i));
    auto name = text.substr(i + 1, close - i - 1);
    kind k;
    if (name == "i")
      k = kind::index;
    else if (name == "i0")
      k = kind::index0;
    else if (name == "n")
      k = kind::count;
    else if (name == "uuid")
      k = kind::uuid;
    else if (name == "rand")
      k = kind::rand;
    else if (name == "ts")
      k = kind::timestamp;
    else
      throw option_error(option_name,
                         "unknown placeholder {" + std::string{name} +
                             "}; use {i}, {i0}, {n}, {uuid}, {rand} or {ts}");
    flush();
    parts_.push_back({k, {}});
    i = close;
  }
  flush();
}

std::string key_pattern::expand(int64_t i, int64_t n) const {
  std::string result;
  for (auto& p : parts_) {
    switch (p.k) {
    case kind::literal:
      result += p.literal;
      break;
    case kind::index:
      result += std::to_string(i);
      break;
    case kind::index0:
      result += std::to_string(i - 1);
      break;
    case kind::count:
      result += std::to_string(n);
      break;
    case kind::uuid:
      result += make_uuid();
      break;
    case kind::rand:
      result += random_hex8();
      break;
    case kind::timestamp:
      result += std::to_string(
          std::chrono::duration_cast<std::chrono::milliseconds>(
              std::chrono::system_clock::now().time_since_epoch())
              .count());
      break;
    }
  }
  return result;
}

} // namespace distiller::kafka::tools
