#pragma once

// Migration 5: cluster membership. Every node writes its own row about once
// a second; every node reads all rows and judges each member by the age of
// its last heartbeat on the database's clock, so all observers agree.
// APPLIED MIGRATIONS ARE IMMUTABLE: change the schema in a new file.

namespace distiller::postgres::schema {

inline constexpr const char* v0005_cluster_members = R"sql(
CREATE TABLE cluster_members (
  node          text PRIMARY KEY CHECK (node <> ''),
  -- A fresh id per process start: a restarted node is a new incarnation.
  incarnation   uuid NOT NULL,
  roles         text NOT NULL,
  http_url      text NOT NULL,
  cluster_host  text NOT NULL,
  cluster_port  integer NOT NULL CHECK (cluster_port BETWEEN 0 AND 65535),
  version       text NOT NULL,
  started_at    timestamptz NOT NULL,
  heartbeat_at  timestamptz NOT NULL DEFAULT now(),
  -- Set by a clean stop: the member left (not down).
  left_at       timestamptz
);
)sql";

} // namespace distiller::postgres::schema
