#pragma once

/// A pool of libpq connections for one store (the document store, the
/// thought store, the outbox): at most `size` connections, made lazily with
/// postgres::connect() and reused, each with the store's prepared
/// statements. `run` lends one to a caller for one transaction.
///
///   postgres::connection_pool pool{"thought_store", dsn, 4, 10s, prepare};
///   auto n = pool.run("count", [](pqxx::work& tx) {
///     return tx.exec1("SELECT count(*) FROM thoughts")[0].as<int64_t>();
///   });
///
/// Threads: thread-safe. A caller waits (condition variable) while all
/// connections are lent out. A connection is used by one caller at a time.
/// Failure: a connection that broke (pqxx::broken_connection, or closed
/// after any error) is dropped, and the next caller that finds no idle one
/// connects anew. Once the server is found unreachable (a connection broke,
/// or connecting failed), the pool is *down*: callers that need a new
/// connection fail at once instead of each waiting `connect_timeout` (which
/// only the pool's first connection waits: a server still starting), and
/// one caller at a time probes the server with a single connection attempt
/// (refused at once when the server is gone; libpq's 2 s connect_timeout
/// bounds one that does not answer) at most every `probe_interval`; the
/// first probe that connects brings the pool back. Every error leaves `run` as
/// a `db_error` whose text starts with "<name>.<op>: "; lost connections,
/// serialization failures (40001), deadlocks (40P01) and a server shutting down
/// or starting (57P01..57P03) are retryable, anything else is not.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <pqxx/connection>
#include <pqxx/transaction>

namespace distiller::postgres {

/// A failed database call: what failed, and whether trying again may help.
class db_error : public std::runtime_error {
 public:
  db_error(const std::string& what, bool retryable)
      : std::runtime_error(what), retryable_(retryable) {}
  bool retryable() const noexcept { return retryable_; }

 private:
  bool retryable_;
};

class connection_pool {
 public:
  /// Prepares the store's statements on a fresh connection.
  using prepare_fn = std::function<void(pqxx::connection&)>;

  /// `name` prefixes error messages ("document_store"). Throws
  /// std::invalid_argument for a size below 1.
  connection_pool(std::string name, std::string dsn, int size,
                  std::chrono::milliseconds connect_timeout,
                  prepare_fn prepare);
  ~connection_pool();
  connection_pool(const connection_pool&) = delete;
  connection_pool& operator=(const connection_pool&) = delete;

  /// Runs `fn(tx)` in one transaction of type `Tx` and commits it; returns
  /// what `fn` returns. A db_error thrown by `fn` passes unchanged; any
  /// other error becomes a db_error "<name>.<op>: …".
  template <class Tx = pqxx::work, class F>
  auto run(const char* op, F&& fn) {
    lease held{*this, acquire(op)};
    try {
      Tx tx{*held.conn};
      if constexpr (std::is_void_v<std::invoke_result_t<F&, Tx&>>) {
        fn(tx);
        tx.commit();
      } else {
        auto result = fn(tx);
        tx.commit();
        return result;
      }
    } catch (...) {
      translate_current(op, held);
    }
  }

  const std::string& name() const noexcept { return name_; }

  /// True while the server is known unreachable (see above).
  bool down() const;

  /// How often a probe may run while down (default 500 ms).
  void set_probe_interval(std::chrono::milliseconds interval);

 private:
  /// A connection on loan; goes back to the pool (or away) on destruction.
  struct lease {
    connection_pool& pool;
    std::unique_ptr<pqxx::connection> conn;
    bool drop = false;
    ~lease() { pool.release(std::move(conn), drop); }
  };

  std::unique_ptr<pqxx::connection> acquire(const char* op);
  void release(std::unique_ptr<pqxx::connection> conn, bool drop);

  /// Rethrows the exception being handled as a db_error and marks the
  /// lease's connection for dropping when it is no longer usable.
  [[noreturn]] void translate_current(const char* op, lease& held);

  /// Marks the server unreachable; the next probe is due after `after`.
  void mark_down(const std::string& reason, std::chrono::milliseconds after);

  std::string message(const char* op, const std::string& what) const;

  std::string name_;
  std::string dsn_;
  int size_;
  std::chrono::milliseconds connect_timeout_;
  prepare_fn prepare_;

  std::chrono::milliseconds probe_interval_{500};

  mutable std::mutex mtx_;
  std::condition_variable freed_;
  bool down_ = false;
  bool probing_ = false;
  bool ever_connected_ = false;
  std::string down_reason_;
  std::chrono::steady_clock::time_point down_since_;
  std::chrono::steady_clock::time_point next_probe_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;
  /// Connections made and not dropped: idle ones plus those on loan.
  int open_ = 0;
};

} // namespace distiller::postgres
