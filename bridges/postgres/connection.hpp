#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include <pqxx/connection>

/// Opening one libpq connection, patiently: the server may still be starting
/// (a private cluster, a database container) when the node comes up.
namespace distiller::postgres {

/// Connects to `dsn`, retrying with backoff (50 ms doubling to 1 s) until
/// `timeout` has passed. Each attempt is bounded by libpq's connect_timeout
/// (added to the DSN unless it sets one). Throws std::runtime_error naming the
/// DSN without its password, the number of attempts and libpq's last error.
std::unique_ptr<pqxx::connection> connect(const std::string& dsn,
                                          std::chrono::milliseconds timeout);

/// `dsn` with any password replaced by `***`, for logs and errors. Handles
/// both `key=value` strings and `postgresql://user:pass@host/db?password=…`.
std::string redact_dsn(std::string_view dsn);

} // namespace distiller::postgres
