#include "actors/thoughts/records.hpp"

#include <charconv>

#include <boost/json.hpp>

#include "runtime/core/ids.hpp"
#include "runtime/core/time.hpp"

namespace distiller::thoughts {

namespace json = boost::json;

namespace {

json::object parse_object(std::string_view text, const char* topic) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec)
    throw record_error(std::string{topic} + ": not JSON: " + ec.message());
  if (!v.is_object())
    throw record_error(std::string{topic} + ": not a JSON object");
  return std::move(v.as_object());
}

std::string text_field(const json::object& o, const char* name,
                       const char* topic, bool required = true) {
  auto i = o.find(name);
  if (i == o.end() || i->value().is_null()) {
    if (required)
      throw record_error(std::string{topic} + ": missing \"" + name + "\"");
    return {};
  }
  if (!i->value().is_string())
    throw record_error(std::string{topic} + ": \"" + name +
                       "\" is not a string");
  return std::string{i->value().as_string()};
}

json::value result_value(const std::optional<std::string>& text) {
  if (!text)
    return nullptr;
  boost::system::error_code ec;
  auto v = json::parse(*text, ec);
  if (ec)
    return nullptr;
  return v;
}

json::value opt(const std::optional<std::string>& s) {
  if (!s)
    return nullptr;
  return json::value(*s);
}

} // namespace

std::string_view to_string(thought_status s) noexcept {
  switch (s) {
  case thought_status::pending:
    return "pending";
  case thought_status::processing:
    return "processing";
  case thought_status::completed:
    return "completed";
  case thought_status::failed:
    return "failed";
  }
  return "unknown";
}

std::optional<thought_status>
parse_thought_status(std::string_view text) noexcept {
  for (auto s : {thought_status::pending, thought_status::processing,
                 thought_status::completed, thought_status::failed})
    if (to_string(s) == text)
      return s;
  return std::nullopt;
}

json::object thought_json(const thought_row& t) {
  json::object o;
  o["thought_id"] = t.thought_id;
  o["user_id"] = t.user_id;
  o["text"] = t.text;
  o["status"] = to_string(t.status);
  o["agents_completed"] = t.agents_completed;
  o["attempts"] = t.attempts;
  o["error"] = opt(t.error);
  o["created_at"] = t.created_at;
  o["updated_at"] = t.updated_at;
  o["completed_at"] = opt(t.completed_at);
  for (auto k : all_agents)
    o[result_name(k)] = result_value(t.results[static_cast<size_t>(k)]);
  return o;
}

// -- thought-processing -------------------------------------------------------

std::string encode(const thought_created& x) {
  return json::serialize(json::object{{"type", "ThoughtCreated"},
                                      {"thought_id", x.thought_id},
                                      {"user_id", x.user_id},
                                      {"created_at", x.created_at},
                                      {"trace_id", x.trace_id}});
}

thought_created decode_thought_created(std::string_view text) {
  auto o = parse_object(text, topics::processing);
  thought_created x;
  x.thought_id = text_field(o, "thought_id", topics::processing);
  x.user_id = text_field(o, "user_id", topics::processing);
  x.created_at = text_field(o, "created_at", topics::processing, false);
  x.trace_id = text_field(o, "trace_id", topics::processing, false);
  if (!is_uuid(x.thought_id))
    throw record_error(std::string{topics::processing} +
                       ": \"thought_id\" is not a UUID");
  if (!is_uuid(x.user_id))
    throw record_error(std::string{topics::processing} +
                       ": \"user_id\" is not a UUID");
  return x;
}

// -- thought-updates ----------------------------------------------------------

std::string encode(const thought_event& e) {
  json::object o;
  o["type"] = e.type;
  o["seq"] = e.seq;
  o["thought_id"] = e.thought_id;
  o["user_id"] = e.user_id;
  o["time"] = e.time;
  o["trace_id"] = e.trace_id;
  for (auto& [k, v] : e.body)
    if (!o.contains(k))
      o[k] = v;
  return json::serialize(o);
}

thought_event decode_thought_event(std::string_view text) {
  auto o = parse_object(text, topics::updates);
  thought_event e;
  e.type = text_field(o, "type", topics::updates);
  auto seq = o.find("seq");
  if (seq == o.end() || !(seq->value().is_int64() || seq->value().is_uint64()))
    throw record_error(std::string{topics::updates} +
                       ": \"seq\" is missing or not an integer");
  if (seq->value().is_int64()) {
    if (seq->value().as_int64() <= 0)
      throw record_error(std::string{topics::updates} +
                         ": \"seq\" must be positive");
    e.seq = static_cast<uint64_t>(seq->value().as_int64());
  } else {
    e.seq = seq->value().as_uint64();
  }
  e.thought_id = text_field(o, "thought_id", topics::updates);
  e.user_id = text_field(o, "user_id", topics::updates);
  e.time = text_field(o, "time", topics::updates, false);
  e.trace_id = text_field(o, "trace_id", topics::updates, false);
  e.time_us = parse_time_us(e.time);
  for (auto& [k, v] : o)
    if (k != "type" && k != "seq" && k != "thought_id" && k != "user_id" &&
        k != "time" && k != "trace_id")
      e.body[k] = v;
  return e;
}

std::string user_channel(std::string_view user_id) {
  return "user:" + std::string{user_id};
}

int64_t parse_time_us(std::string_view t) {
  return rfc3339_to_us(t);
}

// -- the list cursor ----------------------------------------------------------

std::string encode_cursor(const list_cursor& c) {
  std::string id;
  for (char ch : c.thought_id)
    if (ch != '-')
      id += ch;
  return std::to_string(c.created_us) + "." + id;
}

std::optional<list_cursor> decode_cursor(std::string_view text) {
  auto dot = text.find('.');
  if (dot == std::string_view::npos || text.size() - dot - 1 != 32)
    return std::nullopt;
  list_cursor c;
  auto [end, ec] =
      std::from_chars(text.data(), text.data() + dot, c.created_us);
  if (ec != std::errc{} || end != text.data() + dot || c.created_us < 0)
    return std::nullopt;
  auto hex = text.substr(dot + 1);
  for (size_t i = 0; i < hex.size(); ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20)
      c.thought_id += '-';
    c.thought_id += hex[i];
  }
  if (!is_uuid(c.thought_id))
    return std::nullopt;
  return c;
}

} // namespace distiller::thoughts
