#pragma once

// Migration 3: the transactional outbox and the consumers' idempotency
// ledger, shared by both pipelines. APPLIED MIGRATIONS ARE IMMUTABLE: change
// the schema in a new file.

namespace distiller::postgres::schema {

inline constexpr const char* v0003_outbox = R"sql(
-- Kafka records written in the same transaction as the state they announce
-- (an upload's job row, a new thought); the outbox relay publishes unsent
-- rows in id order, sets sent_at after the broker acknowledged them, and
-- backs off failures through available_at. Kafka stays optional for
-- accepting work: rows wait here while it is unreachable.
CREATE TABLE outbox (
  id           bigserial PRIMARY KEY,
  topic        text NOT NULL CHECK (topic <> ''),
  key          bytea,
  payload      bytea NOT NULL,
  -- Kafka headers as a JSON object of strings, e.g. {"x-trace-id": "…"}.
  headers      jsonb NOT NULL DEFAULT '{}'::jsonb
               CHECK (jsonb_typeof(headers) = 'object'),
  created_at   timestamptz NOT NULL DEFAULT now(),
  available_at timestamptz NOT NULL DEFAULT now(),
  sent_at      timestamptz,
  attempts     integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  last_error   text
);
-- The relay's queue: only unsent rows, in order.
CREATE INDEX outbox_unsent_idx ON outbox (id) WHERE sent_at IS NULL;
-- Pruning of sent rows.
CREATE INDEX outbox_sent_idx ON outbox (sent_at) WHERE sent_at IS NOT NULL;

-- Records whose effects are committed, per consumer group. Kafka delivers at
-- least once (a crash or rebalance replays records after the last commit): a
-- handler whose effect is not idempotent by itself inserts its record here in
-- the same transaction (ON CONFLICT DO NOTHING) and skips it when that
-- inserts nothing. Rows older than the topics' retention can be deleted.
CREATE TABLE processed_records (
  consumer_group  text NOT NULL,
  topic           text NOT NULL,
  kafka_partition integer NOT NULL CHECK (kafka_partition >= 0),
  kafka_offset    bigint NOT NULL CHECK (kafka_offset >= 0),
  processed_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer_group, topic, kafka_partition, kafka_offset)
);
CREATE INDEX processed_records_processed_at_idx
  ON processed_records (processed_at);
)sql";

} // namespace distiller::postgres::schema
