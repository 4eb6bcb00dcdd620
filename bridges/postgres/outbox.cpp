#include "bridges/postgres/outbox.hpp"

#include <algorithm>

#include <boost/json.hpp>
#include <pqxx/binarystring>
#include <pqxx/pqxx>

namespace distiller::postgres {

namespace {

/// $2 says whether the record has a key ($3); headers are a JSON object.
constexpr const char* insert_sql =
    "INSERT INTO outbox (topic, key, payload, headers)"
    " VALUES ($1, CASE WHEN $2::boolean THEN $3::bytea END, $4, $5::jsonb)";

/// Rows another relay holds are skipped, not waited for.
constexpr const char* lease_sql =
    "WITH due AS (SELECT id FROM outbox"
    " WHERE sent_at IS NULL AND available_at <= now()"
    " ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)"
    " UPDATE outbox o"
    " SET available_at = now() + $2::bigint * interval '1 millisecond'"
    " FROM due WHERE o.id = due.id"
    " RETURNING o.id, o.topic, o.key, o.payload, o.headers::text, o.attempts";

constexpr const char* mark_sent_sql =
    "UPDATE outbox SET sent_at = now()"
    " WHERE id = ANY($1::bigint[]) AND sent_at IS NULL";

constexpr const char* mark_failed_sql =
    "UPDATE outbox SET attempts = attempts + 1, last_error = $2,"
    " available_at = now() + $3::bigint * interval '1 millisecond'"
    " WHERE id = $1 AND sent_at IS NULL";

constexpr const char* backlog_sql =
    "SELECT count(*) FROM outbox WHERE sent_at IS NULL";

std::string bytes_of(const pqxx::field& f) {
  pqxx::binarystring bytes{f};
  return bytes.str();
}

std::string bigint_array(const std::vector<int64_t>& values) {
  std::string text = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0)
      text += ',';
    text += std::to_string(values[i]);
  }
  text += '}';
  return text;
}

} // namespace

void prepare_outbox_statements(pqxx::connection& conn) {
  conn.prepare("outbox_insert", insert_sql);
  conn.prepare("outbox_lease", lease_sql);
  conn.prepare("outbox_mark_sent", mark_sent_sql);
  conn.prepare("outbox_mark_failed", mark_failed_sql);
  conn.prepare("outbox_backlog", backlog_sql);
}

void insert_outbox(pqxx::work& tx, const outbox_message& msg) {
  tx.exec_prepared0("outbox_insert", msg.topic, msg.key.has_value(),
                    pqxx::binarystring{msg.key.value_or(std::string{})},
                    pqxx::binarystring{msg.payload},
                    headers_to_json(msg.headers));
}

std::string headers_to_json(
    const std::vector<std::pair<std::string, std::string>>& headers) {
  boost::json::object obj;
  for (const auto& [key, value] : headers)
    obj[key] = value;
  return boost::json::serialize(obj);
}

std::vector<std::pair<std::string, std::string>>
headers_from_json(std::string_view json) {
  std::vector<std::pair<std::string, std::string>> headers;
  auto doc = boost::json::parse(json); // the loop must not outlive it
  for (const auto& [key, value] : doc.as_object())
    headers.emplace_back(std::string{key}, value.is_string()
                                               ? std::string{value.get_string()}
                                               : boost::json::serialize(value));
  return headers;
}

void outbox_store::enqueue(const std::vector<outbox_message>& messages) {
  if (messages.empty())
    return;
  pool_.run("enqueue", [&](pqxx::work& tx) {
    for (const auto& msg : messages)
      insert_outbox(tx, msg);
  });
}

std::vector<outbox_row> outbox_store::lease(int limit,
                                            std::chrono::milliseconds lease) {
  return pool_.run("lease_outbox", [&](pqxx::work& tx) {
    std::vector<outbox_row> rows;
    for (const auto& r : tx.exec_prepared(
             "outbox_lease", limit, static_cast<int64_t>(lease.count()))) {
      outbox_row row;
      row.id = r[0].as<int64_t>();
      row.message.topic = r[1].as<std::string>();
      if (!r[2].is_null())
        row.message.key = bytes_of(r[2]);
      row.message.payload = bytes_of(r[3]);
      row.message.headers = headers_from_json(r[4].as<std::string>());
      row.attempts = r[5].as<int>();
      rows.push_back(std::move(row));
    }
    // UPDATE … RETURNING does not keep the subquery's order.
    std::sort(rows.begin(), rows.end(),
              [](const auto& a, const auto& b) { return a.id < b.id; });
    return rows;
  });
}

void outbox_store::mark_sent(const std::vector<int64_t>& ids) {
  if (ids.empty())
    return;
  auto array = bigint_array(ids);
  pool_.run("mark_sent", [&](pqxx::work& tx) {
    tx.exec_prepared0("outbox_mark_sent", array);
  });
}

void outbox_store::mark_failed(int64_t id, const std::string& error,
                               std::chrono::milliseconds retry_in) {
  pool_.run("mark_failed", [&](pqxx::work& tx) {
    tx.exec_prepared0("outbox_mark_failed", id, error,
                      static_cast<int64_t>(retry_in.count()));
  });
}

int64_t outbox_store::backlog() {
  return pool_.run("outbox_backlog", [&](pqxx::work& tx) {
    return tx.exec_prepared1("outbox_backlog")[0].as<int64_t>();
  });
}

} // namespace distiller::postgres
