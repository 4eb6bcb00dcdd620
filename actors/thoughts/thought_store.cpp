#include "actors/thoughts/thought_store.hpp"

#include <algorithm>
#include <map>
#include <stdexcept>
#include <utility>

#include <boost/json.hpp>
#include <pqxx/pqxx>

#include "actors/thoughts/thought_sql.hpp"
#include "bridges/postgres/outbox.hpp"
#include "runtime/core/ids.hpp"

namespace distiller::thoughts {

namespace json = boost::json;

namespace {

// -- conversions --------------------------------------------------------------

std::optional<std::string> opt_text(const pqxx::field& f) {
  if (f.is_null())
    return std::nullopt;
  return f.as<std::string>();
}

thought_row to_thought(const pqxx::row& r) {
  thought_row t;
  t.thought_id = r[0].as<std::string>();
  t.user_id = r[1].as<std::string>();
  t.text = r[2].as<std::string>();
  auto status = r[3].as<std::string>();
  auto parsed = parse_thought_status(status);
  if (!parsed) // the table's CHECK constraint allows no other value
    throw std::runtime_error("thoughts.status '" + status +
                             "' is no thought status");
  t.status = *parsed;
  t.agents_completed = r[4].as<int>();
  t.attempts = r[5].as<int>();
  t.error = opt_text(r[6]);
  t.trace_id = r[7].as<std::string>();
  t.created_at = r[8].as<std::string>();
  t.updated_at = r[9].as<std::string>();
  t.completed_at = opt_text(r[10]);
  t.created_us = r[11].as<int64_t>();
  for (size_t k = 0; k < agent_count; ++k)
    t.results[k] = opt_text(r[12 + static_cast<int>(k)]);
  return t;
}

/// The event's columns start at `at` (a row that also has other columns).
thought_event to_event(const pqxx::row& r, int at = 0) {
  thought_event e;
  e.user_id = r[at].as<std::string>();
  e.seq = r[at + 1].as<uint64_t>();
  e.thought_id = r[at + 2].as<std::string>();
  e.type = r[at + 3].as<std::string>();
  auto body = json::parse(r[at + 4].as<std::string>());
  if (body.is_object())
    e.body = std::move(body.as_object());
  e.trace_id = r[at + 5].as<std::string>();
  e.time = r[at + 6].as<std::string>();
  e.time_us = r[at + 7].as<int64_t>();
  return e;
}

/// Columns of DISTILLER_THOUGHT_COLUMNS.
constexpr int thought_columns = 17;

/// One event to number and store.
struct pending_event {
  std::string user_id;
  std::string thought_id;
  std::string type;
  json::object body;
  std::string trace_id;
};

/// Stores `events` (one statement) and returns them numbered, in input
/// order.
std::vector<thought_event> emit(pqxx::work& tx,
                                const std::vector<pending_event>& events) {
  if (events.empty())
    return {};
  json::array input;
  input.reserve(events.size());
  for (auto& e : events)
    input.emplace_back(json::object{{"user_id", e.user_id},
                                    {"thought_id", e.thought_id},
                                    {"type", e.type},
                                    {"body", e.body},
                                    {"trace_id", e.trace_id}});
  std::map<std::pair<std::string, std::string>, thought_event> by_key;
  for (const auto& r : tx.exec_prepared("emit", json::serialize(input))) {
    auto e = to_event(r);
    auto key = std::make_pair(e.thought_id, e.type);
    by_key.emplace(std::move(key), std::move(e));
  }
  std::vector<thought_event> out;
  out.reserve(events.size());
  for (auto& p : events) {
    auto i = by_key.find({p.thought_id, p.type});
    if (i == by_key.end())
      throw postgres::db_error("thought_store.emit: the event " + p.type +
                                   " of " + p.thought_id + " was not stored",
                               false);
    out.push_back(std::move(i->second));
  }
  return out;
}

std::string uuid_array(const std::vector<std::string>& ids) {
  std::string out = "{";
  for (auto& id : ids) {
    if (out.size() > 1)
      out += ',';
    out += id; // checked by the callers: UUIDs need no quoting
  }
  out += '}';
  return out;
}

std::string text_array(const std::vector<std::string>& values) {
  std::string out = "{";
  for (auto& v : values) {
    if (out.size() > 1)
      out += ',';
    out += '"';
    for (char c : v) {
      if (c == '"' || c == '\\')
        out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

std::vector<std::string> only_uuids(const std::vector<std::string>& ids) {
  std::vector<std::string> out;
  for (auto& id : ids)
    if (is_uuid(id))
      out.push_back(id);
  return out;
}

json::value parse_result(const std::string& text) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object())
    throw postgres::db_error(
        "thought_store.save_step: a result is not a JSON object", false);
  return v;
}

} // namespace

// -- construction -------------------------------------------------------------

struct thought_store::impl {
  explicit impl(const thought_store_config& cfg)
      : cfg(cfg), pool("thought_store", cfg.dsn, cfg.pool_size,
                       cfg.connect_timeout, prepare_thought_statements) {}
  thought_store_config cfg;
  postgres::connection_pool pool;
};

thought_store::thought_store(thought_store_config cfg)
    : impl_(std::make_unique<impl>(cfg)) {}

thought_store::~thought_store() = default;

// -- the API ------------------------------------------------------------------

thought_store::created thought_store::create(const new_thought& t) {
  if (!is_uuid(t.thought_id) || !is_uuid(t.user_id))
    throw postgres::db_error("thought_store.create: ids must be UUIDs", false);
  return impl_->pool.run("create", [&](pqxx::work& tx) {
    created out;
    // The user's row lock is taken here and held to the commit: the outbox
    // row below gets an id in the user's submission (commit) order.
    auto seq = tx.exec_prepared1("next_seq", t.user_id)[0].as<int64_t>();
    auto row =
        tx.exec_prepared1("insert_thought", t.thought_id, t.user_id, t.text,
                          t.trace_id, seq, impl_->cfg.processing_topic);
    out.thought = to_thought(row);
    out.event = to_event(row, thought_columns);
    return out;
  });
}

std::optional<thought_row> thought_store::get(const std::string& thought_id) {
  if (!is_uuid(thought_id))
    return std::nullopt;
  return impl_->pool.run("get",
                         [&](pqxx::work& tx) -> std::optional<thought_row> {
                           auto rows = tx.exec_prepared("get", thought_id);
                           if (rows.empty())
                             return std::nullopt;
                           return to_thought(rows[0]);
                         });
}

thought_page thought_store::list(const std::string& user_id, int limit,
                                 const std::optional<list_cursor>& before) {
  if (limit < 1 || limit > 1000)
    throw postgres::db_error("thought_store.list: limit must be 1..1000, not " +
                                 std::to_string(limit),
                             false);
  thought_page page;
  if (!is_uuid(user_id))
    return page;
  std::string after_us = before ? std::to_string(before->created_us) : "";
  const char* us = before ? after_us.c_str() : nullptr;
  const char* id = before ? before->thought_id.c_str() : nullptr;
  return impl_->pool.run("list", [&](pqxx::work& tx) {
    // One more than asked says whether a next page exists.
    for (const auto& r : tx.exec_prepared("list", user_id, us, id, limit + 1))
      page.thoughts.push_back(to_thought(r));
    if (page.thoughts.size() > static_cast<size_t>(limit)) {
      page.thoughts.resize(static_cast<size_t>(limit));
      auto& last = page.thoughts.back();
      page.next = list_cursor{last.created_us, last.thought_id};
    }
    return page;
  });
}

event_page thought_store::events_after(const std::string& user_id,
                                       std::optional<uint64_t> after,
                                       int limit) {
  event_page page;
  if (!is_uuid(user_id))
    return page;
  using snapshot = pqxx::transaction<pqxx::repeatable_read, pqxx::read_only>;
  return impl_->pool.run<snapshot>("events_after", [&](snapshot& tx) {
    auto bounds = tx.exec_prepared("event_bounds", user_id);
    if (!bounds.empty()) {
      page.head = bounds[0][0].as<uint64_t>();
      page.oldest = bounds[0][1].as<uint64_t>();
    }
    if (!after)
      return page;
    auto rows = tx.exec_prepared("events_after", user_id,
                                 static_cast<int64_t>(*after), limit + 1);
    for (const auto& r : rows)
      page.events.push_back(to_event(r));
    if (page.events.size() > static_cast<size_t>(limit)) {
      page.events.resize(static_cast<size_t>(limit));
      page.more = true;
    }
    return page;
  });
}

std::vector<std::pair<std::string, uint64_t>>
thought_store::heads(const std::vector<std::string>& user_ids) {
  auto valid = only_uuids(user_ids);
  if (valid.empty())
    return {};
  return impl_->pool.run("heads", [&](pqxx::work& tx) {
    std::vector<std::pair<std::string, uint64_t>> out;
    for (const auto& r : tx.exec_prepared("heads", uuid_array(valid)))
      out.emplace_back(r[0].as<std::string>(), r[1].as<uint64_t>());
    return out;
  });
}

std::vector<thought_event>
thought_store::events_of(const std::string& thought_id) {
  if (!is_uuid(thought_id))
    return {};
  return impl_->pool.run("events_of", [&](pqxx::work& tx) {
    std::vector<thought_event> out;
    for (const auto& r : tx.exec_prepared("events_of", thought_id))
      out.push_back(to_event(r));
    return out;
  });
}

// -- processing ---------------------------------------------------------------

std::vector<thought_row>
thought_store::load(const std::vector<std::string>& ids) {
  auto valid = only_uuids(ids);
  if (valid.empty())
    return {};
  return impl_->pool.run("load", [&](pqxx::work& tx) {
    std::vector<thought_row> out;
    for (const auto& r : tx.exec_prepared("load", uuid_array(valid)))
      out.push_back(to_thought(r));
    return out;
  });
}

std::vector<thought_event>
thought_store::begin(const std::vector<begin_item>& items) {
  json::array input;
  for (auto& i : items)
    if (is_uuid(i.thought_id))
      input.emplace_back(
          json::object{{"thought_id", i.thought_id}, {"attempt", i.attempt}});
  if (input.empty())
    return {};
  return impl_->pool.run("begin", [&](pqxx::work& tx) {
    std::vector<pending_event> events;
    for (const auto& r : tx.exec_prepared("begin", json::serialize(input))) {
      auto t = to_thought(r);
      events.push_back(
          {t.user_id, t.thought_id, event_types::processing,
           json::object{{"status", to_string(thought_status::processing)},
                        {"attempt", t.attempts},
                        {"agents_completed", t.agents_completed}},
           t.trace_id});
    }
    return emit(tx, events);
  });
}

std::vector<thought_event>
thought_store::save_step(int step, const std::vector<step_item>& items) {
  if (step < 1 || step > static_cast<int>(agent_count))
    throw postgres::db_error(
        "thought_store.save_step: step must be 1..5, not " +
            std::to_string(step),
        false);
  json::array input;
  std::map<std::string, const step_item*> by_id;
  for (auto& i : items)
    if (is_uuid(i.thought_id)) {
      input.emplace_back(json::object{{"thought_id", i.thought_id},
                                      {"result", parse_result(i.result)}});
      by_id.emplace(i.thought_id, &i);
    }
  if (input.empty())
    return {};
  auto kind = agent_at(step);
  auto statement = "save_step_" + std::to_string(step);
  return impl_->pool.run("save_step", [&](pqxx::work& tx) {
    std::vector<pending_event> events;
    auto rows = tx.exec_prepared(statement, json::serialize(input));
    std::vector<thought_row> saved;
    for (const auto& r : rows)
      saved.push_back(to_thought(r));
    // Input order, so each user's events keep the wave's order.
    std::map<std::string, size_t> position;
    for (size_t i = 0; i < items.size(); ++i)
      position.emplace(items[i].thought_id, i);
    std::sort(saved.begin(), saved.end(), [&](auto& a, auto& b) {
      return position[a.thought_id] < position[b.thought_id];
    });
    for (auto& t : saved) {
      auto* item = by_id[t.thought_id];
      json::object body{
          {"status", to_string(t.status)},
          {"agent", agent_name(kind)},
          {"result_name", result_name(kind)},
          {"step", step},
          {"total_steps", static_cast<int>(agent_count)},
          {"result", parse_result(item->result)},
          {"backend", item->backend},
          {"duration_ms", item->duration_ms},
      };
      events.push_back({t.user_id, t.thought_id, event_types::agent_completed,
                        std::move(body), t.trace_id});
      if (step == static_cast<int>(agent_count))
        events.push_back(
            {t.user_id, t.thought_id, event_types::completed,
             json::object{{"status", to_string(thought_status::completed)},
                          {"agents_completed", t.agents_completed},
                          {"thought", thought_json(t)}},
             t.trace_id});
    }
    return emit(tx, events);
  });
}

std::vector<thought_event>
thought_store::fail(const std::vector<fail_item>& items) {
  json::array input;
  for (auto& i : items)
    if (is_uuid(i.thought_id))
      input.emplace_back(json::object{{"thought_id", i.thought_id},
                                      {"error", i.error},
                                      {"attempts", i.attempts}});
  if (input.empty())
    return {};
  return impl_->pool.run("fail", [&](pqxx::work& tx) {
    std::vector<pending_event> events;
    for (const auto& r : tx.exec_prepared("fail", json::serialize(input))) {
      auto t = to_thought(r);
      events.push_back(
          {t.user_id, t.thought_id, event_types::failed,
           json::object{{"status", to_string(thought_status::failed)},
                        {"error", t.error.value_or("")},
                        {"attempts", t.attempts},
                        {"agents_completed", t.agents_completed}},
           t.trace_id});
    }
    return emit(tx, events);
  });
}

// -- recovery and housekeeping ------------------------------------------------

int thought_store::redrive(std::chrono::milliseconds age, int limit) {
  return impl_->pool.run("redrive", [&](pqxx::work& tx) {
    std::vector<thought_row> stuck;
    for (const auto& r :
         tx.exec_prepared("stuck", static_cast<int64_t>(age.count()), limit))
      stuck.push_back(to_thought(r));
    if (stuck.empty())
      return 0;
    std::vector<std::string> ids;
    for (auto& t : stuck)
      ids.push_back(t.thought_id);
    tx.exec_prepared0("supersede", impl_->cfg.processing_topic,
                      text_array(ids));
    for (auto& t : stuck)
      postgres::insert_outbox(
          tx, {impl_->cfg.processing_topic,
               t.user_id,
               encode(thought_created{t.thought_id, t.user_id, t.created_at,
                                      t.trace_id}),
               {{trace_header, t.trace_id}}});
    // Seen now: a reconciler does not re-drive them again at once.
    tx.exec_prepared0("touch", uuid_array(ids));
    return static_cast<int>(stuck.size());
  });
}

int64_t thought_store::redrive_all() {
  return impl_->pool.run("redrive_all", [&](pqxx::work& tx) {
    auto r = tx.exec_prepared0("redrive_all", impl_->cfg.processing_topic);
    return static_cast<int64_t>(r.affected_rows());
  });
}

int64_t thought_store::prune_events(std::chrono::milliseconds age, int limit) {
  return impl_->pool.run("prune_events", [&](pqxx::work& tx) {
    auto r =
        tx.exec_prepared0("prune", static_cast<int64_t>(age.count()), limit);
    return static_cast<int64_t>(r.affected_rows());
  });
}

} // namespace distiller::thoughts
