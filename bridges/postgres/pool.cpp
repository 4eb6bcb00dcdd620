#include "bridges/postgres/pool.hpp"

#include <cctype>
#include <stdexcept>

#include <pqxx/except>

#include "bridges/postgres/connection.hpp"
#include "runtime/logging/log.hpp"

namespace distiller::postgres {

namespace {

std::string trimmed(std::string text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.pop_back();
  return text;
}

// SQLSTATEs after which the same call may succeed: a transaction lost a
// race (class 40), the connection failed (class 08), or the server is
// shutting down or starting up (57P01..57P03).
bool retryable_state(const std::string& state) {
  return state.starts_with("40") || state.starts_with("08") ||
         state == "57P01" || state == "57P02" || state == "57P03";
}

} // namespace

connection_pool::connection_pool(std::string name, std::string dsn, int size,
                                 std::chrono::milliseconds connect_timeout,
                                 prepare_fn prepare)
    : name_(std::move(name)), dsn_(std::move(dsn)), size_(size),
      connect_timeout_(connect_timeout), prepare_(std::move(prepare)) {
  if (size_ < 1)
    throw std::invalid_argument(name_ + ": pool_size must be >= 1");
}

connection_pool::~connection_pool() = default;

std::string connection_pool::message(const char* op,
                                     const std::string& what) const {
  return name_ + "." + op + ": " + trimmed(what);
}

std::unique_ptr<pqxx::connection> connection_pool::acquire(const char* op) {
  std::unique_lock lock{mtx_};
  freed_.wait(lock, [this] { return !idle_.empty() || open_ < size_; });
  if (!idle_.empty()) {
    auto conn = std::move(idle_.back());
    idle_.pop_back();
    return conn;
  }
  // Connect outside the lock: it may take up to connect_timeout_, and other
  // callers may meanwhile return connections or take idle ones.
  ++open_;
  lock.unlock();
  try {
    auto conn = postgres::connect(dsn_, connect_timeout_);
    prepare_(*conn);
    return conn;
  } catch (const std::exception& e) {
    {
      std::lock_guard guard{mtx_};
      --open_;
    }
    freed_.notify_one();
    throw db_error(message(op, std::string{"cannot connect: "} + e.what()),
                   true);
  }
}

void connection_pool::release(std::unique_ptr<pqxx::connection> conn,
                              bool drop) {
  if (!conn)
    return;
  if (!drop && !conn->is_open())
    drop = true;
  {
    std::lock_guard guard{mtx_};
    if (drop)
      --open_;
    else
      idle_.push_back(std::move(conn));
  }
  freed_.notify_one();
  // A dropped connection closes here, outside the lock.
}

void connection_pool::translate_current(const char* op, lease& held) const {
  auto lost = [&] {
    return !held.conn || !held.conn->is_open();
  };
  try {
    throw;
  } catch (const db_error&) {
    held.drop = lost();
    throw;
  } catch (const pqxx::broken_connection& e) {
    held.drop = true;
    log::warn("pg_store_connection_lost",
              {{"store", name_}, {"op", op}, {"error", trimmed(e.what())}});
    throw db_error(message(op, std::string{"connection lost: "} + e.what()),
                   true);
  } catch (const pqxx::in_doubt_error& e) {
    // The connection broke during COMMIT, so the outcome is unknown. A
    // repeat finds the work done (a job id exists, a chunk is embedded) or
    // at worst writes an outbox row twice, which at-least-once consumers
    // tolerate.
    held.drop = true;
    throw db_error(message(op, e.what()), true);
  } catch (const pqxx::transaction_rollback& e) {
    held.drop = lost();
    throw db_error(message(op, e.what()), true);
  } catch (const pqxx::sql_error& e) {
    held.drop = lost();
    throw db_error(message(op, e.what()),
                   held.drop || retryable_state(e.sqlstate()));
  } catch (const std::exception& e) {
    held.drop = lost();
    throw db_error(message(op, e.what()), held.drop);
  }
}

} // namespace distiller::postgres
