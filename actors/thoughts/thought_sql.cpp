// The thought store's SQL (thought_sql.hpp): every statement it prepares
// on its connections.

#include "actors/thoughts/thought_sql.hpp"

#include <string>

#include "actors/thoughts/agents/agent.hpp"
#include "bridges/postgres/outbox.hpp"

namespace distiller::thoughts {

namespace {

// -- SQL ----------------------------------------------------------------------

#define DISTILLER_TIME(x)                                                      \
  " to_char(" x " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') "

// The columns of a thought_row, in its order.
#define DISTILLER_THOUGHT_COLUMNS                                              \
  " t.thought_id::text, t.user_id::text, t.text, t.status,"                    \
  " t.agents_completed, t.attempts, t.error, coalesce(t.trace_id, "            \
  "'')," DISTILLER_TIME("t.created_at") "," DISTILLER_TIME(                    \
      "t.updated_at") "," DISTILLER_TIME("t.completed_at") ","                 \
                                                           " (extract(epoch "  \
                                                           "FROM "             \
                                                           "t.created_at) * "  \
                                                           "1000000)::bigint," \
                                                           " t."               \
                                                           "classification::"  \
                                                           "text, "            \
                                                           "t.analysis::text," \
                                                           " t.value::text, "  \
                                                           "t.plan::text,"     \
                                                           " t.summary::text "

// The columns of a thought_event, in its order.
#define DISTILLER_EVENT_COLUMNS                                                \
  " e.user_id::text, e.seq, e.thought_id::text, e.type, e.body::text,"         \
  " coalesce(e.trace_id, ''), " DISTILLER_TIME(                                \
      "e.created_at") ", (extract(epoch FROM e.created_at) * "                 \
                      "1000000)::bigint "

/// A submission's user: added, or its event counter advanced — either way
/// its row is locked to the commit and the new number returned.
constexpr const char* next_seq_sql =
    "INSERT INTO users AS u (user_id, event_seq) VALUES ($1, 1)"
    " ON CONFLICT (user_id) DO UPDATE SET event_seq = u.event_seq + 1"
    " RETURNING u.event_seq";

/// The rest of a submission in one statement: the thought, its
/// thought_created event (number $5) and the ThoughtCreated outbox row
/// (topic $6; the same JSON as records.hpp's encode(thought_created)).
constexpr const char* insert_thought_sql =
    "WITH t AS ("
    "  INSERT INTO thoughts AS t (thought_id, user_id, text, trace_id)"
    "  VALUES ($1, $2, $3, nullif($4::text, ''))"
    "  RETURNING t.*),"
    " e AS ("
    "  INSERT INTO thought_events AS e"
    "    (user_id, seq, thought_id, type, body, trace_id)"
    "  SELECT t.user_id, $5, t.thought_id, 'thought_created',"
    "    jsonb_build_object('status', 'pending', 'text', t.text,"
    "      'created_at'," DISTILLER_TIME(
        "t.created_at") "), t.trace_id"
                        "  FROM t RETURNING e.*),"
                        " o AS ("
                        "  INSERT INTO outbox (topic, key, payload, headers)"
                        "  SELECT $6, convert_to(t.user_id::text, 'UTF8'),"
                        "    convert_to(json_build_object('type', "
                        "'ThoughtCreated',"
                        "      'thought_id', t.thought_id, 'user_id', "
                        "t.user_id,"
                        "      'created_at'," DISTILLER_TIME(
                            "t.created_at") ","
                                            "      'trace_id', "
                                            "coalesce(t.trace_id, ''))::text, "
                                            "'UTF8'),"
                                            "    "
                                            "jsonb_build_object('x-trace-id', "
                                            "coalesce(t.trace_id, ''))"
                                            "  FROM t)"
                                            " SELECT" DISTILLER_THOUGHT_COLUMNS
                                            "," DISTILLER_EVENT_COLUMNS
                                            " FROM t, e";

/// Numbers and stores events given as a JSON array of {user_id,
/// thought_id, type, body, trace_id}: each user's counter moves by its
/// number of events under the row lock, and the events take the numbers in
/// array order.
constexpr const char* emit_sql =
    "WITH x AS ("
    "  SELECT (a.x->>'user_id')::uuid AS user_id,"
    "         (a.x->>'thought_id')::uuid AS thought_id, a.x->>'type' AS type,"
    "         coalesce(a.x->'body', '{}'::jsonb) AS body,"
    "         nullif(a.x->>'trace_id', '') AS trace_id, a.ord"
    "  FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS a(x, ord)),"
    " c AS (SELECT user_id, count(*) AS n FROM x GROUP BY user_id),"
    " s AS (UPDATE users u SET event_seq = u.event_seq + c.n FROM c"
    "       WHERE u.user_id = c.user_id"
    "       RETURNING u.user_id, u.event_seq - c.n AS base)"
    " INSERT INTO thought_events AS e"
    "   (user_id, seq, thought_id, type, body, trace_id)"
    " SELECT x.user_id,"
    "        s.base + row_number() OVER (PARTITION BY x.user_id ORDER BY "
    "x.ord),"
    "        x.thought_id, x.type, x.body, x.trace_id"
    " FROM x JOIN s USING (user_id)"
    " RETURNING" DISTILLER_EVENT_COLUMNS;

constexpr const char* get_sql = "SELECT" DISTILLER_THOUGHT_COLUMNS
                                "FROM thoughts t WHERE t.thought_id = $1";

/// Keyset pagination on (created_at, thought_id), the index's order.
constexpr const char* list_sql =
    "SELECT" DISTILLER_THOUGHT_COLUMNS "FROM thoughts t"
    " WHERE t.user_id = $1 AND ($2::text IS NULL OR (t.created_at, "
    "t.thought_id)"
    "   < (timestamptz 'epoch' + $2::bigint * interval '1 microsecond',"
    "      $3::uuid))"
    " ORDER BY t.created_at DESC, t.thought_id DESC LIMIT $4";

constexpr const char* load_sql =
    "SELECT" DISTILLER_THOUGHT_COLUMNS "FROM thoughts t"
    " WHERE t.thought_id = ANY($1::uuid[])";

constexpr const char* events_after_sql =
    "SELECT" DISTILLER_EVENT_COLUMNS "FROM thought_events e"
    " WHERE e.user_id = $1 AND e.seq > $2 ORDER BY e.seq LIMIT $3";

constexpr const char* event_bounds_sql =
    "SELECT u.event_seq,"
    " coalesce((SELECT min(seq) FROM thought_events e"
    "           WHERE e.user_id = u.user_id), 0)"
    " FROM users u WHERE u.user_id = $1";

constexpr const char* heads_sql = "SELECT user_id::text, event_seq FROM users"
                                  " WHERE user_id = ANY($1::uuid[])";

constexpr const char* events_of_sql =
    "SELECT" DISTILLER_EVENT_COLUMNS "FROM thought_events e"
    " WHERE e.thought_id = $1 ORDER BY e.seq";

/// An attempt starts once: only when it is newer than the last one.
constexpr const char* begin_sql =
    "WITH r AS (SELECT (x->>'thought_id')::uuid AS thought_id,"
    "                  (x->>'attempt')::integer AS attempt"
    "           FROM jsonb_array_elements($1::jsonb) x)"
    " UPDATE thoughts t SET status = 'processing', attempts = r.attempt"
    " FROM r WHERE t.thought_id = r.thought_id"
    "   AND t.status IN ('pending', 'processing') AND t.attempts < r.attempt"
    " RETURNING" DISTILLER_THOUGHT_COLUMNS;

/// Agent k's result; only a thought that finished k - 1 moves (a
/// redelivery changes nothing), and step 5 completes it.
#define DISTILLER_SAVE_STEP(column, k, final_set)                              \
  "WITH r AS (SELECT (x->>'thought_id')::uuid AS thought_id,"                  \
  "                  x->'result' AS result"                                    \
  "           FROM jsonb_array_elements($1::jsonb) x)"                         \
  " UPDATE thoughts t SET " column                                             \
  " = r.result, agents_completed = " #k final_set                              \
  " FROM r WHERE t.thought_id = r.thought_id"                                  \
  "   AND t.agents_completed = " #k " - 1 AND t.status = 'processing'"         \
  " RETURNING" DISTILLER_THOUGHT_COLUMNS

constexpr const char* save_step_sql[agent_count] = {
    DISTILLER_SAVE_STEP("classification", 1, ""),
    DISTILLER_SAVE_STEP("analysis", 2, ""),
    DISTILLER_SAVE_STEP("value", 3, ""),
    DISTILLER_SAVE_STEP("plan", 4, ""),
    DISTILLER_SAVE_STEP("summary", 5,
                        ", status = 'completed', completed_at = now()"),
};

constexpr const char* fail_sql =
    "WITH r AS (SELECT (x->>'thought_id')::uuid AS thought_id,"
    "                  x->>'error' AS error,"
    "                  (x->>'attempts')::integer AS attempts"
    "           FROM jsonb_array_elements($1::jsonb) x)"
    " UPDATE thoughts t SET status = 'failed', error = r.error,"
    "   attempts = greatest(t.attempts, r.attempts), completed_at = now()"
    " FROM r WHERE t.thought_id = r.thought_id"
    "   AND t.status IN ('pending', 'processing')"
    " RETURNING" DISTILLER_THOUGHT_COLUMNS;

/// Oldest first, so a user's re-driven thoughts keep submission order.
constexpr const char* stuck_sql =
    "SELECT" DISTILLER_THOUGHT_COLUMNS "FROM thoughts t"
    " WHERE t.status IN ('pending', 'processing')"
    "   AND t.updated_at <= now() - $1::bigint * interval '1 millisecond'"
    " ORDER BY t.created_at, t.thought_id LIMIT $2";

/// Unsent ThoughtCreated rows of re-driven thoughts are superseded by the
/// fresh ones (the key is the user, the payload names the thought).
constexpr const char* supersede_sql =
    "UPDATE outbox SET sent_at = now(), last_error = 'superseded by a re-drive'"
    " WHERE sent_at IS NULL AND topic = $1"
    "   AND CASE WHEN topic = $1 THEN convert_from(payload, 'UTF8')::jsonb"
    "            ->>'thought_id' = ANY($2::text[]) ELSE false END";

/// Every unfinished thought again, in submission order; what waited unsent
/// is superseded (the fresh rows carry the same thoughts, in order).
constexpr const char* redrive_all_sql =
    "WITH sup AS (UPDATE outbox SET sent_at = now(),"
    "               last_error = 'superseded by a re-drive at start'"
    "             WHERE sent_at IS NULL AND topic = $1 RETURNING id)"
    " INSERT INTO outbox (topic, key, payload, headers)"
    " SELECT $1, convert_to(t.user_id::text, 'UTF8'),"
    "   convert_to(json_build_object('type', 'ThoughtCreated',"
    "     'thought_id', t.thought_id, 'user_id', t.user_id,"
    "     'created_at'," DISTILLER_TIME(
        "t.created_at") ","
                        "     'trace_id', coalesce(t.trace_id, ''))::text, "
                        "'UTF8'),"
                        "   jsonb_build_object('x-trace-id', "
                        "coalesce(t.trace_id, ''))"
                        " FROM thoughts t WHERE t.status IN ('pending', "
                        "'processing')"
                        " ORDER BY t.created_at, t.thought_id";

constexpr const char* touch_sql =
    "UPDATE thoughts SET updated_at = now() WHERE thought_id = ANY($1::uuid[])";

constexpr const char* prune_sql =
    "DELETE FROM thought_events WHERE ctid IN (SELECT ctid FROM thought_events"
    " WHERE created_at < now() - $1::bigint * interval '1 millisecond'"
    " LIMIT $2)";

#undef DISTILLER_SAVE_STEP
#undef DISTILLER_EVENT_COLUMNS
#undef DISTILLER_THOUGHT_COLUMNS
#undef DISTILLER_TIME

} // namespace

void prepare_thought_statements(pqxx::connection& conn) {
  conn.prepare("next_seq", next_seq_sql);
  conn.prepare("insert_thought", insert_thought_sql);
  conn.prepare("emit", emit_sql);
  conn.prepare("get", get_sql);
  conn.prepare("list", list_sql);
  conn.prepare("load", load_sql);
  conn.prepare("events_after", events_after_sql);
  conn.prepare("event_bounds", event_bounds_sql);
  conn.prepare("events_of", events_of_sql);
  conn.prepare("heads", heads_sql);
  conn.prepare("begin", begin_sql);
  for (size_t k = 0; k < agent_count; ++k)
    conn.prepare("save_step_" + std::to_string(k + 1), save_step_sql[k]);
  conn.prepare("fail", fail_sql);
  conn.prepare("stuck", stuck_sql);
  conn.prepare("supersede", supersede_sql);
  conn.prepare("redrive_all", redrive_all_sql);
  conn.prepare("touch", touch_sql);
  conn.prepare("prune", prune_sql);
  postgres::prepare_outbox_statements(conn);
}

} // namespace distiller::thoughts
