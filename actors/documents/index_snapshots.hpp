#pragma once

/// The rules of the query node's index snapshots, as plain data and pure
/// functions (the pipeline's index_keeper.cpp applies them): what a snapshot
/// records, when it may be used, the `embedded_at` high-water mark, and when
/// the next one is due. Design: docs/document-pipeline.md, "Index snapshots".
///
/// The mark. A snapshot (or an index in memory) holding every embedded chunk
/// whose `embedded_at` is before a mark M needs, at the next start, only the
/// chunks with `embedded_at >= M` from PostgreSQL. Vector ids cannot be the
/// key: they are drawn when chunks are inserted, long before the chunks are
/// embedded, in any order. `embedded_at` is the embedding transaction's
/// `now()`, its start, so a row may become visible after rows with later
/// stamps. The mark therefore comes from PostgreSQL's own clock at the
/// moment the index has read everything visible: it is the earlier of that
/// time and the start of the oldest transaction still open in the database
/// (which might commit rows stamped before it), minus a safety margin for
/// what that view can miss (a transaction that began but is not shown yet,
/// sessions of roles whose activity this role cannot see, a clock step).
/// Adding a chunk twice is harmless (both indexes ignore known vector ids),
/// so reading a little too much costs time, never correctness.
///
/// Threads: plain values and pure functions; snapshot_policy is not
/// synchronised (its one user is the pipeline's snapshot code, under its
/// mutex).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace distiller::documents {

/// A time on PostgreSQL's clock: microseconds since the Unix epoch (the
/// resolution of timestamptz).
using pg_micros = int64_t;

/// What an index was built from. A snapshot is used only when every field
/// matches the running node: another database (its `database_identity`
/// row) has other chunks under the same vector ids, another embedder model
/// or dimension other vectors, another kind (flat / hnsw / the sparse
/// analyzer) another structure.
struct snapshot_identity {
  std::string database;
  std::string model;
  size_t dimension = 0;
  std::string kind;
};

struct snapshot_meta {
  snapshot_identity identity;
  /// Every chunk embedded before this (PostgreSQL clock) is in the index.
  pg_micros mark = 0;
  /// Entries the index held when it was saved (for logs and the policy).
  size_t entries = 0;
};

/// "key=value" lines, format 1.
std::string encode_meta(const snapshot_meta& meta);

/// nullopt for anything `encode_meta` did not write (empty, another format,
/// a missing or malformed field).
std::optional<snapshot_meta> decode_meta(std::string_view text);

/// Why a snapshot made from `saved` cannot serve `wanted` ("" when it can):
/// names the first field that differs and both values.
std::string mismatch(const snapshot_identity& saved,
                     const snapshot_identity& wanted);

/// The mark that holds once an index has everything PostgreSQL showed at
/// `read_at`: min(read_at, oldest_open) − margin, where `oldest_open` is the
/// start of the oldest other transaction open in the database at that time
/// (nullopt: none).
pg_micros mark_after_read(pg_micros read_at,
                          std::optional<pg_micros> oldest_open,
                          std::chrono::microseconds margin);

/// When the next snapshot is due: after `every` entries were added since
/// the last one, or after `interval` if at least one was. The clock is the
/// caller's (tests pass their own times).
class snapshot_policy {
 public:
  using clock = std::chrono::steady_clock;

  /// `entries` is how many the index holds at `start` (what the snapshot it
  /// was loaded from already has, or 0 after a rebuild from scratch).
  snapshot_policy(std::chrono::milliseconds interval, size_t every,
                  clock::time_point start, size_t entries);

  bool due(clock::time_point now, size_t entries) const;

  /// A snapshot of `entries` entries was written at `now`.
  void saved(clock::time_point now, size_t entries);

  /// Entries added since the last snapshot (0 when the index shrank, which
  /// it does not).
  size_t pending(size_t entries) const;

 private:
  std::chrono::milliseconds interval_;
  size_t every_;
  clock::time_point last_;
  size_t saved_entries_;
};

} // namespace distiller::documents
