#include "actors/thoughts/thought_routes.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <boost/json.hpp>

#include "actors/broadcast/stream.hpp"
#include "bridges/http/openapi.hpp"
#include "bridges/http/router.hpp"
#include "runtime/core/ids.hpp"
#include "runtime/logging/log.hpp"

namespace distiller::thoughts {

namespace bhttp = boost::beast::http;
namespace json = boost::json;

namespace {

constexpr int default_limit = 20;
constexpr int max_limit = 100;

bool blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](unsigned char c) { return std::isspace(c) != 0; });
}

/// Code points of valid UTF-8 (the JSON parser checked it).
size_t characters(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80)
      ++n;
  return n;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) {
    return static_cast<char>(std::tolower(c));
  });
  return s;
}

http::response bad_user(const std::string& text) {
  return http::response::error(
      422, "invalid_user_id",
      "user_id must be a UUID (8-4-4-4-12 hex digits), not '" + text + "'");
}

/// A user token asking for another user's thoughts.
http::response other_user(const http::principal& caller) {
  return http::response::error(403, "forbidden",
                               "this API token is for user " + caller.user_id +
                                   " and may use only that user's thoughts");
}

http::response no_service() {
  return http::to_response(http::api_error::unavailable(
      "the thought pipeline is not running on this node", 5));
}

/// A service reply that answers `res`: errors as they are, values via `ok`.
template <class T, class F>
reply<T> answer(http::responder res, F ok) {
  auto shared = std::make_shared<http::responder>(std::move(res));
  return [shared, ok = std::move(ok)](http::api_result<T> r) {
    if (auto* e = std::get_if<http::api_error>(&r))
      shared->send(http::to_response(*e));
    else
      shared->send(ok(std::get<T>(r)));
  };
}

// -- handlers -----------------------------------------------------------------

void submit(thought_service& svc, http::request&& req, http::responder res) {
  boost::system::error_code ec;
  auto v = json::parse(req.body, ec);
  if (ec || !v.is_object()) {
    res.send(http::response::error(
        400, "invalid_json",
        ec ? "the body is not valid JSON: " + ec.message()
           : std::string{"the body must be a JSON object "
                         "{\"text\": …, \"user_id\": …}"}));
    return;
  }
  auto& body = v.as_object();
  auto text = body.find("text");
  if (text == body.end() || !text->value().is_string() ||
      blank(text->value().as_string())) {
    res.send(http::response::error(400, "invalid_text",
                                   "text must be a non-empty string"));
    return;
  }
  auto user = body.find("user_id");
  if (user == body.end() || !user->value().is_string() ||
      !is_uuid(user->value().as_string())) {
    res.send(bad_user(user == body.end() ? std::string{}
                      : user->value().is_string()
                          ? std::string{user->value().as_string()}
                          : json::serialize(user->value())));
    return;
  }
  if (!req.caller.may_act_for(user->value().as_string())) {
    res.send(other_user(req.caller));
    return;
  }
  std::string_view t = text->value().as_string();
  auto chars = characters(t);
  if (chars > static_cast<size_t>(svc.max_text_chars())) {
    res.send(http::response::error(413, "text_too_long",
                                   "text has " + std::to_string(chars) +
                                       " characters; the limit is " +
                                       std::to_string(svc.max_text_chars())));
    return;
  }
  submission s{lower(std::string{user->value().as_string()}), std::string{t},
               req.trace.value()};
  svc.submit(
      std::move(s),
      answer<thought_store::created>(
          std::move(res), [](const thought_store::created& c) {
            auto out = http::response::json(
                202, json::object{{"thought_id", c.thought.thought_id},
                                  {"user_id", c.thought.user_id},
                                  {"status", to_string(c.thought.status)},
                                  {"message", "Processing started"},
                                  {"created_at", c.thought.created_at}});
            out.with_header("Location", "/thoughts/" + c.thought.thought_id);
            return out;
          }));
}

void get(thought_service& svc, http::request&& req, http::responder res) {
  auto id = lower(req.param("thought_id"));
  if (!is_uuid(id)) {
    res.send(http::to_response(
        http::api_error::not_found("no thought with id " + id)));
    return;
  }
  svc.get(id, answer<thought_row>(
                  std::move(res),
                  [id, caller = std::move(req.caller)](const thought_row& t) {
                    // Another user's thought does not exist for this token.
                    if (!caller.may_act_for(t.user_id))
                      return http::to_response(http::api_error::not_found(
                          "no thought with id " + id));
                    return http::response::json(200, thought_json(t));
                  }));
}

void list(thought_service& svc, http::request&& req, http::responder res) {
  auto user = req.param("user_id");
  if (!is_uuid(user)) {
    res.send(bad_user(user));
    return;
  }
  if (!req.caller.may_act_for(user)) {
    res.send(other_user(req.caller));
    return;
  }
  int limit = default_limit;
  if (auto s = req.query_or("limit"); !s.empty()) {
    int v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || end != s.data() + s.size() || v < 1 ||
        v > max_limit) {
      res.send(http::response::error(
          422, "invalid_limit",
          "limit must be an integer from 1 to 100, not '" + s + "'"));
      return;
    }
    limit = v;
  }
  std::optional<list_cursor> before;
  if (auto s = req.query_or("before"); !s.empty()) {
    before = decode_cursor(s);
    if (!before) {
      res.send(http::response::error(
          422, "invalid_cursor",
          "before must be the 'next' value of an earlier page, not '" + s +
              "'"));
      return;
    }
  }
  svc.list(lower(user), limit, before,
           answer<thought_page>(std::move(res), [limit](const thought_page& p) {
             json::array items;
             for (auto& t : p.thoughts)
               items.emplace_back(thought_json(t));
             json::value next = nullptr;
             if (p.next)
               next = encode_cursor(*p.next);
             return http::response::json(200, json::object{{"thoughts", items},
                                                           {"next", next},
                                                           {"limit", limit}});
           }));
}

void stream(thought_service& svc, http::request&& req, http::responder res) {
  auto user = req.param("user_id");
  if (!is_uuid(user)) {
    res.send(bad_user(user));
    return;
  }
  if (!req.caller.may_act_for(user)) {
    res.send(other_user(req.caller));
    return;
  }
  auto after = broadcast::last_event_id(req);
  if (auto* bad = std::get_if<http::response>(&after)) {
    res.send(std::move(*bad));
    return;
  }
  svc.stream(lower(user), std::get<std::optional<uint64_t>>(after),
             std::move(res));
}

/// Runs a handler; a service that throws answers 500 with its reason.
template <class F>
http::handler guarded(std::shared_ptr<thought_service> svc, const char* what,
                      F f) {
  return [svc, what, f](http::request&& req, http::responder res) {
    if (!svc) {
      res.send(no_service());
      return;
    }
    try {
      f(*svc, std::move(req), std::move(res));
    } catch (const std::exception& e) {
      log::warn("thought_route_failed", {{"route", what}, {"what", e.what()}});
      if (res.pending())
        res.send(http::to_response(http::api_error::internal(e.what())));
    }
  };
}

} // namespace

void add_thought_routes(http::router& r, std::shared_ptr<thought_service> svc,
                        thought_routes_config cfg) {
  int max_chars = svc ? svc->max_text_chars() : 10000;
  // Room for the limit in 4-byte characters, JSON escapes and the user id.
  uint64_t max_body = static_cast<uint64_t>(max_chars) * 6 + 64 * 1024;
  r.add(bhttp::verb::post, "/thoughts", guarded(svc, "submit", submit),
        {.max_body_bytes = max_body});
  r.add(bhttp::verb::get, "/thoughts/{thought_id}", guarded(svc, "get", get));
  r.add(bhttp::verb::get, "/users/{user_id}/thoughts",
        guarded(svc, "list", list));
  r.add(bhttp::verb::get, "/thoughts/stream/{user_id}",
        guarded(svc, "stream", stream));
  if (cfg.api_docs)
    describe_thought_routes(*cfg.api_docs, max_chars);
}

} // namespace distiller::thoughts
