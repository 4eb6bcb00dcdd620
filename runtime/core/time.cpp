#include "runtime/core/time.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace distiller {

namespace {

/// Reads `n` digits at `i` into `out`; false when they are not digits.
bool digits(std::string_view t, size_t i, size_t n, int& out) noexcept {
  if (i + n > t.size())
    return false;
  out = 0;
  for (size_t k = i; k < i + n; ++k) {
    if (t[k] < '0' || t[k] > '9')
      return false;
    out = out * 10 + (t[k] - '0');
  }
  return true;
}

} // namespace

int64_t rfc3339_to_us(std::string_view t) noexcept {
  // YYYY-MM-DDTHH:MM:SS[.f…]Z
  int y, mo, d, h, mi, s;
  if (!digits(t, 0, 4, y) || t.size() < 20 || t[4] != '-' ||
      !digits(t, 5, 2, mo) || t[7] != '-' || !digits(t, 8, 2, d) ||
      (t[10] != 'T' && t[10] != 't') || !digits(t, 11, 2, h) || t[13] != ':' ||
      !digits(t, 14, 2, mi) || t[16] != ':' || !digits(t, 17, 2, s))
    return 0;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  auto secs = static_cast<int64_t>(timegm(&tm));
  int64_t frac = 0;
  size_t i = 19;
  if (i < t.size() && t[i] == '.') {
    int n = 0;
    ++i;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') {
      if (n < 6) {
        frac = frac * 10 + (t[i] - '0');
        ++n;
      }
      ++i;
    }
    while (n++ < 6)
      frac *= 10;
  }
  if (i + 1 != t.size() || (t[i] != 'Z' && t[i] != 'z'))
    return 0;
  return secs * 1'000'000 + frac;
}

int64_t now_us() noexcept {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string us_to_rfc3339(int64_t us) {
  // Floor division, so that times before 1970 still get a fraction in
  // 0..999.
  auto secs = us / 1'000'000;
  auto rem = us % 1'000'000;
  if (rem < 0) {
    rem += 1'000'000;
    --secs;
  }
  auto t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  auto n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof(buf) - n, ".%03dZ",
                static_cast<int>(rem / 1000));
  return buf;
}

} // namespace distiller
