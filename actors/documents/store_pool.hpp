#pragma once

/// The document store's connections: at most `size` libpq connections, made
/// lazily with postgres::connect() and reused, each with the store's prepared
/// statements. `run` lends one to a caller for one transaction.
///
/// Threads: thread-safe. A caller waits (condition variable) while all
/// connections are lent out. A connection is used by one caller at a time.
/// Failure: a connection that broke (pqxx::broken_connection, or closed
/// after any error) is dropped, and the next caller that finds no idle one
/// connects anew. Every error leaves `run` as a store_error naming the
/// operation; lost connections, serialization failures (40001), deadlocks
/// (40P01) and a server shutting down or starting (57P01..57P03) are
/// retryable, anything else is not.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <pqxx/connection>
#include <pqxx/transaction>

#include "actors/documents/document_store.hpp"

namespace distiller::documents {

class store_pool {
 public:
  /// Prepares the store's statements on a fresh connection.
  using prepare_fn = std::function<void(pqxx::connection&)>;

  store_pool(std::string dsn, int size,
             std::chrono::milliseconds connect_timeout, prepare_fn prepare);
  ~store_pool();
  store_pool(const store_pool&) = delete;
  store_pool& operator=(const store_pool&) = delete;

  /// Runs `fn(tx)` in one transaction of type `Tx` and commits it; returns
  /// what `fn` returns. A store_error thrown by `fn` passes unchanged; any
  /// other error becomes a store_error "document_store.<op>: …".
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

 private:
  /// A connection on loan; goes back to the pool (or away) on destruction.
  struct lease {
    store_pool& pool;
    std::unique_ptr<pqxx::connection> conn;
    bool drop = false;
    ~lease() { pool.release(std::move(conn), drop); }
  };

  std::unique_ptr<pqxx::connection> acquire(const char* op);
  void release(std::unique_ptr<pqxx::connection> conn, bool drop);

  /// Rethrows the exception being handled as a store_error and marks the
  /// lease's connection for dropping when it is no longer usable.
  [[noreturn]] static void translate_current(const char* op, lease& held);

  std::string dsn_;
  int size_;
  std::chrono::milliseconds connect_timeout_;
  prepare_fn prepare_;

  std::mutex mtx_;
  std::condition_variable freed_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;
  /// Connections made and not dropped: idle ones plus those on loan.
  int open_ = 0;
};

} // namespace distiller::documents
