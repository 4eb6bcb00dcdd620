#pragma once

/// Times as they travel in records and the API: RFC 3339 UTC text with
/// milliseconds ("2026-12-01T09:30:00.123Z"), and microseconds since the
/// epoch for arithmetic (latencies, cursors). Pure functions.

#include <cstdint>
#include <string>
#include <string_view>

namespace distiller {

/// Microseconds since the epoch of an RFC 3339 UTC time
/// ("2026-12-01T09:30:00.123Z"; fraction optional, up to microseconds);
/// 0 when malformed or not UTC ("Z").
int64_t rfc3339_to_us(std::string_view text) noexcept;

/// Microseconds since the epoch now (system clock).
int64_t now_us() noexcept;

/// RFC 3339 UTC text with milliseconds of `us` microseconds since the epoch
/// ("2026-12-01T09:30:00.123Z"; the fraction is truncated, not rounded).
std::string us_to_rfc3339(int64_t us);

} // namespace distiller
