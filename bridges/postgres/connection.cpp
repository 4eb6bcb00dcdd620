#include "bridges/postgres/connection.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <stdexcept>
#include <thread>

#include <pqxx/except>

#include "runtime/logging/log.hpp"

namespace distiller::postgres {

namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

bool is_uri(std::string_view dsn) {
  return dsn.starts_with("postgresql://") || dsn.starts_with("postgres://");
}

// Replaces the value of every `password` parameter in a URI's query string.
void redact_query(std::string& uri, size_t query_start) {
  size_t pos = query_start;
  while (pos < uri.size()) {
    auto end = uri.find('&', pos);
    if (end == std::string::npos)
      end = uri.size();
    std::string_view param{uri.data() + pos, end - pos};
    if (param.starts_with("password=")) {
      auto value_start = pos + 9;
      uri.replace(value_start, end - value_start, "***");
      end = value_start + 3;
    }
    pos = end + 1;
  }
}

std::string redact_uri(std::string_view dsn) {
  std::string result{dsn};
  auto authority = result.find("://") + 3;
  auto authority_end = result.find_first_of("/?", authority);
  if (authority_end == std::string::npos)
    authority_end = result.size();
  auto at = result.rfind('@', authority_end);
  if (at != std::string::npos && at >= authority) {
    auto colon = result.find(':', authority);
    if (colon != std::string::npos && colon < at) {
      result.replace(colon + 1, at - colon - 1, "***");
      authority_end = result.find_first_of("/?", authority);
      if (authority_end == std::string::npos)
        authority_end = result.size();
    }
  }
  if (auto query = result.find('?', authority_end); query != std::string::npos)
    redact_query(result, query + 1);
  return result;
}

// Parses `key = value` pairs as libpq does (values may be single-quoted with
// backslash escapes) and rewrites the value of `password`.
std::string redact_key_values(std::string_view dsn) {
  std::string result;
  size_t i = 0;
  auto skip_space = [&] {
    while (i < dsn.size() && std::isspace(static_cast<unsigned char>(dsn[i])))
      result += dsn[i++];
  };
  while (i < dsn.size()) {
    skip_space();
    auto key_start = i;
    while (i < dsn.size() && dsn[i] != '=' &&
           !std::isspace(static_cast<unsigned char>(dsn[i])))
      ++i;
    auto key = dsn.substr(key_start, i - key_start);
    result += key;
    skip_space();
    if (i >= dsn.size() || dsn[i] != '=')
      break; // malformed: keep the rest as it is (it has no value to hide)
    result += dsn[i++];
    skip_space();
    std::string value;
    if (i < dsn.size() && dsn[i] == '\'') {
      value += dsn[i++];
      while (i < dsn.size() && dsn[i] != '\'') {
        if (dsn[i] == '\\' && i + 1 < dsn.size())
          value += dsn[i++];
        value += dsn[i++];
      }
      if (i < dsn.size())
        value += dsn[i++];
    } else {
      while (i < dsn.size() &&
             !std::isspace(static_cast<unsigned char>(dsn[i])))
        value += dsn[i++];
    }
    result += key == "password" ? std::string{"***"} : value;
  }
  if (i < dsn.size())
    result.append(dsn.substr(i));
  return result;
}

// Bounds one attempt: libpq otherwise waits for the OS's TCP timeout.
std::string with_connect_timeout(const std::string& dsn, milliseconds left) {
  if (dsn.find("connect_timeout") != std::string::npos)
    return dsn;
  auto secs = std::clamp<long long>((left.count() + 999) / 1000, 2, 10);
  auto param = "connect_timeout=" + std::to_string(secs);
  if (is_uri(dsn))
    return dsn + (dsn.find('?') == std::string::npos ? "?" : "&") + param;
  return dsn.empty() ? param : dsn + " " + param;
}

// libpq's messages for a DSN that no retry can fix.
bool is_permanent(std::string_view what) {
  constexpr std::array<std::string_view, 5> markers{
      "invalid connection option", "missing \"=\"",
      "unterminated quoted string", "invalid URI", "invalid integer value"};
  return std::any_of(markers.begin(), markers.end(), [&](auto marker) {
    return what.find(marker) != std::string_view::npos;
  });
}

std::string trimmed(std::string text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.pop_back();
  return text;
}

} // namespace

std::string redact_dsn(std::string_view dsn) {
  return is_uri(dsn) ? redact_uri(dsn) : redact_key_values(dsn);
}

std::unique_ptr<pqxx::connection> connect(const std::string& dsn,
                                          milliseconds timeout) {
  auto start = steady_clock::now();
  auto deadline = start + timeout;
  milliseconds backoff{50};
  int attempts = 0;
  std::string last_error;
  for (;;) {
    ++attempts;
    auto left = std::chrono::duration_cast<milliseconds>(deadline -
                                                         steady_clock::now());
    try {
      return std::make_unique<pqxx::connection>(
          with_connect_timeout(dsn, left));
    } catch (const pqxx::broken_connection& e) {
      last_error = trimmed(e.what());
      if (is_permanent(last_error))
        break;
    }
    auto now = steady_clock::now();
    if (now >= deadline)
      break;
    if (attempts == 1)
      log::debug("pg_connect_retry",
                 {{"dsn", redact_dsn(dsn)}, {"error", last_error}});
    std::this_thread::sleep_for(std::min<milliseconds>(
        backoff, std::chrono::duration_cast<milliseconds>(deadline - now)));
    backoff = std::min(backoff * 2, milliseconds{1000});
  }
  auto waited =
      std::chrono::duration_cast<milliseconds>(steady_clock::now() - start);
  throw std::runtime_error("cannot connect to PostgreSQL at '" +
                           redact_dsn(dsn) + "' (" + std::to_string(attempts) +
                           " attempt(s) in " + std::to_string(waited.count()) +
                           " ms): " + last_error);
}

} // namespace distiller::postgres
