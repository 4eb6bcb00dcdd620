#pragma once

/// The one error vocabulary of the façade's APIs: a machine-readable code
/// and a sentence for a human, sent as `{"error": code, "detail": detail}`
/// with the matching status. Services answer with these; routes turn them
/// into responses with `to_response`, so a code means the same on every
/// route and in /openapi.json.
///
///   not_found 404 · invalid_argument 400 · unavailable 503 (Retry-After
///   when known) · internal 500 — and route-specific codes for bad input
///   (invalid_json, invalid_user_id, text_too_long …) chosen by the routes.
///
/// Plain data; thread-safe to copy.

#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "bridges/http/response.hpp"

namespace distiller::http {

struct api_error {
  unsigned status = 500;
  std::string error = "internal";
  std::string detail;
  /// Seconds for Retry-After (503).
  std::optional<int> retry_after;

  static api_error not_found(std::string detail) {
    return {404, "not_found", std::move(detail), std::nullopt};
  }
  static api_error unavailable(std::string detail, int retry_after_s = 1) {
    return {503, "unavailable", std::move(detail), retry_after_s};
  }
  static api_error internal(std::string detail) {
    return {500, "internal", std::move(detail), std::nullopt};
  }
};

inline response to_response(const api_error& e) {
  auto r = response::error(e.status, e.error, e.detail);
  if (e.retry_after)
    r.with_header("Retry-After", std::to_string(*e.retry_after));
  return r;
}

/// A value or the error that prevented it.
template <class T>
using api_result = std::variant<T, api_error>;

} // namespace distiller::http
