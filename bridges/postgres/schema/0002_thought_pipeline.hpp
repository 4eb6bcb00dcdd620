#pragma once

// Migration 2: the thought pipeline (seed 003): users and their thoughts with
// the five agents' results. APPLIED MIGRATIONS ARE IMMUTABLE: change the
// schema in a new file.

namespace distiller::postgres::schema {

inline constexpr const char* v0002_thought_pipeline = R"sql(
-- Users known to the thought pipeline. There is no sign-up: the transaction
-- that saves a thought adds its user first (INSERT ... ON CONFLICT DO NOTHING).
CREATE TABLE users (
  user_id    uuid PRIMARY KEY,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- One submitted text and the five agents' results (classify, analyse, value,
-- plan, summarise), each a JSON document. Agent k (1..5) saves its result with
--   UPDATE thoughts SET <result> = $2, agents_completed = k
--     WHERE thought_id = $1 AND agents_completed = k - 1
-- so a redelivered event neither repeats nor skips a step.
CREATE TABLE thoughts (
  thought_id       uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id          uuid NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
  text             text NOT NULL CHECK (text <> ''),
  status           text NOT NULL DEFAULT 'pending',
  classification   jsonb,
  analysis         jsonb,
  value            jsonb,
  plan             jsonb,
  summary          jsonb,
  agents_completed smallint NOT NULL DEFAULT 0
                   CHECK (agents_completed BETWEEN 0 AND 5),
  -- Processing attempts; after the third failure the thought is 'failed'.
  attempts         integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  error            text,
  trace_id         text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  completed_at     timestamptz,
  CONSTRAINT thoughts_status_check
    CHECK (status IN ('pending', 'processing', 'completed', 'failed')),
  CONSTRAINT thoughts_completed_check
    CHECK (status <> 'completed' OR agents_completed = 5),
  CONSTRAINT thoughts_failed_check
    CHECK (status <> 'failed' OR error IS NOT NULL)
);
-- GET /users/{user_id}/thoughts: newest first, keyset pagination.
CREATE INDEX thoughts_user_recent_idx
  ON thoughts (user_id, created_at DESC, thought_id DESC);
-- Thoughts still in flight, for recovery after a crash.
CREATE INDEX thoughts_unfinished_idx ON thoughts (created_at)
  WHERE status IN ('pending', 'processing');
CREATE TRIGGER thoughts_touch BEFORE UPDATE ON thoughts
  FOR EACH ROW EXECUTE FUNCTION distiller_touch_updated_at();
)sql";

} // namespace distiller::postgres::schema
