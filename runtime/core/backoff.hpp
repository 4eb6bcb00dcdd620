#pragma once

#include <chrono>
#include <cstdint>
#include <random>

/// Exponential backoff with jitter for retries: attempt n (1-based) waits
///   base = min(max_delay, initial * multiplier^(n-1))
///   delay = base * (1 - jitter + jitter * u),  u uniform in [0, 1)
/// so delays grow with each attempt, never exceed `max_delay`, and spread
/// out (jitter 0 gives exact exponential delays; 1 gives "full jitter").
namespace distiller {

struct backoff_policy {
  /// Attempts in total, the first one included (3 = first try + 2 retries).
  int max_attempts = 3;
  std::chrono::milliseconds initial{100};
  double multiplier = 2.0;
  std::chrono::milliseconds max_delay{30000};
  /// Fraction of the delay that is randomised, 0..1.
  double jitter = 0.2;

  /// True if another attempt is allowed after `attempts` failed ones.
  bool may_retry(int attempts) const noexcept {
    return attempts < max_attempts;
  }

  /// The delay before attempt `attempt + 1`, after `attempt` failed ones.
  std::chrono::milliseconds delay(int attempt, std::mt19937_64& gen) const;

  /// The delay without jitter (the upper bound of `delay`).
  std::chrono::milliseconds base_delay(int attempt) const;
};

} // namespace distiller
