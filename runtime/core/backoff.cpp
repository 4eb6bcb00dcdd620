#include "runtime/core/backoff.hpp"

#include <algorithm>
#include <cmath>

namespace distiller {

std::chrono::milliseconds backoff_policy::base_delay(int attempt) const {
  auto n = std::max(attempt, 1) - 1;
  auto ms = static_cast<double>(initial.count()) * std::pow(multiplier, n);
  ms = std::min(ms, static_cast<double>(max_delay.count()));
  return std::chrono::milliseconds{static_cast<int64_t>(ms)};
}

std::chrono::milliseconds backoff_policy::delay(int attempt,
                                                std::mt19937_64& gen) const {
  auto base = static_cast<double>(base_delay(attempt).count());
  auto j = std::clamp(jitter, 0.0, 1.0);
  std::uniform_real_distribution<double> u{0.0, 1.0};
  auto ms = base * (1.0 - j + j * u(gen));
  return std::chrono::milliseconds{static_cast<int64_t>(ms)};
}

} // namespace distiller
