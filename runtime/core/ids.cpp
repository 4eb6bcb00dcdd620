#include "runtime/core/ids.hpp"

#include <cctype>

#include <array>
#include <cstdio>
#include <random>

namespace distiller {

namespace {

std::array<uint64_t, 2> random_128() {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  return {gen(), gen()};
}

} // namespace

trace_id make_trace_id() {
  auto [hi, lo] = random_128();
  char buf[33];
  std::snprintf(buf, sizeof(buf), "%016llx%016llx",
                static_cast<unsigned long long>(hi),
                static_cast<unsigned long long>(lo));
  return trace_id{buf};
}

std::string make_uuid() {
  auto [hi, lo] = random_128();
  // Version 4 and RFC 4122 variant bits.
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
  char buf[37];
  std::snprintf(buf, sizeof(buf), "%08llx-%04llx-%04llx-%04llx-%012llx",
                static_cast<unsigned long long>(hi >> 32),
                static_cast<unsigned long long>((hi >> 16) & 0xffff),
                static_cast<unsigned long long>(hi & 0xffff),
                static_cast<unsigned long long>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xffffffffffffULL));
  return buf;
}

bool is_uuid(std::string_view text) noexcept {
  if (text.size() != 36)
    return false;
  for (size_t i = 0; i < text.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? text[i] != '-'
             : !std::isxdigit(static_cast<unsigned char>(text[i])))
      return false;
  }
  return true;
}

} // namespace distiller
