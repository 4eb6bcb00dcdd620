#pragma once

/// The transactional outbox (schema 0003): Kafka records written in the same
/// transaction as the state they announce, published later by the relay
/// (bridges/outbox/relay.hpp). Both pipelines write to it; one relay per
/// node publishes every row, whatever its topic.
///
///   // inside a store's transaction (its pool prepared the statements):
///   postgres::insert_outbox(tx, {"thought-processing", user_id, payload,
///                                {{"x-trace-id", trace}}});
///   // the relay:
///   postgres::outbox_store box{pool};
///   auto rows = box.lease(200, 2min);
///   … produce …
///   box.mark_sent(ids);
///
/// Threads: `outbox_store` is thread-safe (its pool is); the free functions
/// use the caller's transaction.
/// Failure: every database error is a postgres::db_error (see pool.hpp).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <pqxx/connection>
#include <pqxx/transaction>

#include "bridges/postgres/pool.hpp"

namespace distiller::postgres {

/// A Kafka record to be published by the outbox relay.
struct outbox_message {
  std::string topic;
  std::optional<std::string> key;
  std::string payload;
  std::vector<std::pair<std::string, std::string>> headers;
};

/// An unsent outbox row, leased to one relay.
struct outbox_row {
  int64_t id = 0;
  outbox_message message;
  int attempts = 0;
};

/// Prepares the outbox statements (names start with "outbox_") on `conn`;
/// every pool whose transactions call insert_outbox or use an outbox_store
/// prepares them.
void prepare_outbox_statements(pqxx::connection& conn);

/// Adds `msg` to the outbox inside `tx`.
void insert_outbox(pqxx::work& tx, const outbox_message& msg);

/// Kafka headers as a JSON object of strings (a repeated name keeps its
/// last value).
std::string headers_to_json(
    const std::vector<std::pair<std::string, std::string>>& headers);

/// The inverse of headers_to_json; a non-string value keeps its JSON text.
std::vector<std::pair<std::string, std::string>>
headers_from_json(std::string_view json);

/// The relay's side of the outbox, on a pool that prepared the outbox
/// statements.
class outbox_store {
 public:
  explicit outbox_store(connection_pool& pool) : pool_(pool) {}

  /// Adds rows (one transaction).
  void enqueue(const std::vector<outbox_message>& messages);

  /// Leases up to `limit` unsent rows that are due, in id order, for `lease`
  /// (their available_at moves to now + lease, so another relay skips them;
  /// FOR UPDATE SKIP LOCKED).
  std::vector<outbox_row> lease(int limit, std::chrono::milliseconds lease);

  void mark_sent(const std::vector<int64_t>& ids);

  /// Counts an attempt, records `error`, makes the row due again after
  /// `retry_in`.
  void mark_failed(int64_t id, const std::string& error,
                   std::chrono::milliseconds retry_in);

  /// Unsent rows (for metrics and tests).
  int64_t backlog();

 private:
  connection_pool& pool_;
};

} // namespace distiller::postgres
