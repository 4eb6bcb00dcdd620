#include "bridges/postgres/pool.hpp"

#include <algorithm>
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

bool connection_pool::down() const {
  std::lock_guard guard{mtx_};
  return down_;
}

void connection_pool::set_probe_interval(std::chrono::milliseconds interval) {
  std::lock_guard guard{mtx_};
  probe_interval_ = interval;
}

void connection_pool::mark_down(const std::string& reason,
                                std::chrono::milliseconds after) {
  bool was_down;
  {
    std::lock_guard guard{mtx_};
    was_down = down_;
    auto now = std::chrono::steady_clock::now();
    if (!down_)
      down_since_ = now;
    down_ = true;
    down_reason_ = reason;
    next_probe_ = now + after;
  }
  if (!was_down)
    log::warn("pg_store_down", {{"store", name_}, {"error", reason}});
}

std::unique_ptr<pqxx::connection> connection_pool::acquire(const char* op) {
  using std::chrono::steady_clock;
  std::unique_lock lock{mtx_};
  freed_.wait(lock, [this] { return !idle_.empty() || open_ < size_; });
  if (!idle_.empty()) {
    auto conn = std::move(idle_.back());
    idle_.pop_back();
    return conn;
  }
  // While the server is known unreachable, only the one caller whose probe
  // is due connects, briefly; everyone else fails now (503 upstream).
  // connect_timeout's patience is for a server still starting; once this
  // pool has reached it, a refused connection means it went away: one
  // attempt, then the down state below.
  auto timeout =
      ever_connected_ ? std::chrono::milliseconds{0} : connect_timeout_;
  bool probe = false;
  if (down_) {
    auto now = steady_clock::now();
    if (probing_ || now < next_probe_) {
      auto since = std::chrono::duration_cast<std::chrono::milliseconds>(
          now - down_since_);
      throw db_error(message(op, "database unavailable for " +
                                     std::to_string(since.count()) +
                                     " ms: " + down_reason_),
                     true);
    }
    probe = probing_ = true;
    timeout = std::chrono::milliseconds{0}; // one attempt (connect())
  }
  // Connect outside the lock: it may take up to `timeout`, and other
  // callers may meanwhile return connections or take idle ones.
  ++open_;
  lock.unlock();
  try {
    auto conn = postgres::connect(dsn_, timeout);
    prepare_(*conn);
    bool was_down;
    {
      std::lock_guard guard{mtx_};
      was_down = down_;
      down_ = false;
      ever_connected_ = true;
      if (probe)
        probing_ = false;
    }
    if (was_down)
      log::info("pg_store_up", {{"store", name_}});
    return conn;
  } catch (const std::exception& e) {
    {
      std::lock_guard guard{mtx_};
      --open_;
      if (probe)
        probing_ = false;
    }
    freed_.notify_one();
    std::string reason = std::string{"cannot connect: "} + e.what();
    mark_down(trimmed(reason), probe_interval_);
    throw db_error(message(op, reason), true);
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

void connection_pool::translate_current(const char* op, lease& held) {
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
    // The server may be gone: the next caller probes it briefly rather
    // than waiting out connect_timeout.
    mark_down("connection lost: " + trimmed(e.what()),
              std::chrono::milliseconds{0});
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
