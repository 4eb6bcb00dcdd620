#include "bridges/http/node_routes.hpp"

#include <chrono>
#include <ctime>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "bridges/http/router.hpp"
#include "runtime/health/health_board.hpp"
#include "runtime/inspect/registry.hpp"
#include "runtime/metrics/metrics.hpp"

namespace distiller::http {

namespace bhttp = boost::beast::http;
namespace json = boost::json;

namespace {

/// "2026-11-22T05:55:40Z" (UTC, seconds).
std::string iso8601(std::chrono::system_clock::time_point t) {
  auto secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

/// "down" when a required component is not up (or degraded) — unless the
/// node serves without it once it ran (serves_when_down: Kafka behind the
/// outbox); "degraded" when one is degraded, an optional one is down, or one
/// the node serves without is down; else "ok".
std::string overall(const std::vector<health::component>& cs) {
  bool degraded = false;
  for (auto& c : cs) {
    bool usable =
        c.current == health::state::up || c.current == health::state::degraded;
    bool lost = c.current == health::state::down;
    if (c.required && !usable && !(lost && c.serves_when_down))
      return "down";
    if (c.current == health::state::degraded || lost)
      degraded = true;
  }
  return degraded ? "degraded" : "ok";
}

response unavailable(const char* what) {
  return response::error(503, "unavailable",
                         std::string{what} + " is not wired into this node");
}

} // namespace

void add_node_routes(router& r, node_routes_sources src) {
  auto s = std::make_shared<node_routes_sources>(std::move(src));

  r.add(bhttp::verb::get, "/health",
        [s](request&&, responder res) {
          json::object body;
          json::object components;
          std::string status = "ok";
          if (s->health) {
            auto cs = s->health->snapshot();
            status = overall(cs);
            for (auto& c : cs)
              components[c.name] = json::object{
                  {"state", std::string{health::to_string(c.current)}},
                  {"detail", c.detail},
                  {"required", c.required},
                  {"serves_when_down", c.serves_when_down},
                  {"since", iso8601(c.since)}};
          }
          uint64_t total = 0, restarts = 0, failed = 0;
          if (s->actors)
            for (auto& a : s->actors->snapshot()) {
              ++total;
              restarts += a.restarts;
              if (a.state == "failed" || a.state == "down")
                ++failed;
            }
          body["status"] = status;
          body["node"] = s->node_name;
          body["version"] = s->version;
          body["components"] = std::move(components);
          body["actors"] = json::object{
              {"total", total}, {"restarts", restarts}, {"failed", failed}};
          // The status code follows the body, so a load balancer or a container
          // health check that reads only the code sees a node that cannot
          // serve.
          auto code = status == "down" ? 503u : 200u;
          auto out = response::json(code, body);
          if (code == 503)
            out.with_header("Retry-After", "5");
          res.send(std::move(out));
        },
        {.access = access_level::open});

  r.add(bhttp::verb::get, "/ready",
        [s](request&&, responder res) {
          if (!s->health) {
            res.send(response::json(200, json::object{{"ready", true}}));
            return;
          }
          auto waiting = s->health->not_ready();
          if (waiting.empty()) {
            res.send(response::json(200, json::object{{"ready", true}}));
            return;
          }
          json::array names;
          for (auto& n : waiting)
            names.emplace_back(n);
          res.send(response::json(
              503, json::object{{"ready", false},
                                {"waiting_for", std::move(names)}}));
        },
        {.access = access_level::open});

  // Public, like /health: scrapers read it without a token, and it holds
  // counts and bounded labels, never a document's or a thought's content.
  r.add(bhttp::verb::get, "/metrics",
        [s](request&&, responder res) {
          if (!s->metrics) {
            res.send(unavailable("metrics"));
            return;
          }
          if (s->actors)
            s->metrics->sample(*s->actors);
          res.send(response::text(200, s->metrics->render(),
                                  "text/plain; version=0.0.4; charset=utf-8"));
        },
        {.access = access_level::open});

  r.add(bhttp::verb::get, "/inspect",
        [s](request&&, responder res) {
          if (!s->actors) {
            res.send(unavailable("the inspection registry"));
            return;
          }
          json::array actors;
          for (auto& a : s->actors->snapshot()) {
            json::array errors;
            for (auto& e : a.recent_errors)
              errors.emplace_back(
                  json::object{{"time", e.time}, {"text", e.text}});
            actors.emplace_back(
                json::object{{"name", a.name},
                             {"role", a.role},
                             {"node", a.node},
                             {"parent", a.parent},
                             {"mailbox", a.mailbox},
                             {"processed", a.processed},
                             {"failures", a.failures},
                             {"restarts", a.restarts},
                             {"state", a.state},
                             {"recent_errors", std::move(errors)}});
          }
          res.send(
              response::json(200, json::object{{"node", s->node_name},
                                               {"actors", std::move(actors)}}));
        },
        {.access = access_level::admin});
}

} // namespace distiller::http
