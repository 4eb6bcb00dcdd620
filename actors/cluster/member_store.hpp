#pragma once

/// The membership table (schema 0005 `cluster_members`): each node writes
/// its own row about once a second and reads everyone's, with each
/// heartbeat's age measured on the database's clock.
///
/// Threads: thread-safe (one pooled connection). Failure: database errors
/// throw postgres::db_error.

#include <chrono>
#include <string>
#include <vector>

#include "bridges/postgres/pool.hpp"
#include "runtime/cluster/membership.hpp"

namespace distiller::cluster {

class member_store {
 public:
  member_store(std::string dsn, std::chrono::milliseconds connect_timeout);

  /// Writes this node's heartbeat (and its row, on the first call). False
  /// when another live process holds the same node name (its heartbeat is
  /// younger than `down_after` and its incarnation differs): then nothing
  /// is written.
  bool heartbeat(const member_row& self, std::chrono::milliseconds down_after);

  /// Every row, by node name.
  std::vector<member_row> read();

  /// Marks this incarnation as having left (a clean stop).
  void leave(const std::string& node, const std::string& incarnation);

 private:
  postgres::connection_pool pool_;
};

} // namespace distiller::cluster
