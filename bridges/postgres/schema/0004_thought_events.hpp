#pragma once

// Migration 4: the thought pipeline's event log (seed 003's five events),
// the source of SSE resume and of gap filling on every API node. APPLIED
// MIGRATIONS ARE IMMUTABLE: change the schema in a new file.

namespace distiller::postgres::schema {

inline constexpr const char* v0004_thought_events = R"sql(
-- The last sequence number given to one of the user's events. Every
-- transaction that writes events for a user advances it (a row lock), so a
-- user's events are numbered 1, 2, 3 … in commit order, without gaps.
ALTER TABLE users ADD COLUMN event_seq bigint NOT NULL DEFAULT 0
  CHECK (event_seq >= 0);

-- Every event of a user's thoughts, as the SSE streams send it: `seq` is the
-- stream's event id (Last-Event-ID). Written in the transaction of the state
-- change it announces; also produced to thought-updates (key user_id) for
-- the live path. Rows older than sse.replay_retention are pruned; a resume
-- from before the oldest kept row gets `event: reset`.
CREATE TABLE thought_events (
  user_id    uuid NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
  seq        bigint NOT NULL CHECK (seq > 0),
  thought_id uuid NOT NULL REFERENCES thoughts (thought_id) ON DELETE CASCADE,
  type       text NOT NULL,
  -- The event's own fields (the common ones — type, seq, ids, time, trace
  -- id — are columns).
  body       jsonb NOT NULL DEFAULT '{}'::jsonb
             CHECK (jsonb_typeof(body) = 'object'),
  trace_id   text,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, seq),
  CONSTRAINT thought_events_type_check
    CHECK (type IN ('thought_created', 'thought_processing',
                    'thought_agent_completed', 'thought_completed',
                    'thought_failed'))
);
-- Pruning by age.
CREATE INDEX thought_events_created_idx ON thought_events (created_at);
-- A thought's own events (re-announcing a redelivered thought).
CREATE INDEX thought_events_thought_idx ON thought_events (thought_id, seq);
)sql";

} // namespace distiller::postgres::schema
