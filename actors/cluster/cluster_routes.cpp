#include "actors/cluster/cluster_routes.hpp"

#include <algorithm>
#include <charconv>

#include <boost/json.hpp>

#include "actors/broadcast/stream.hpp"
#include "bridges/http/api_error.hpp"
#include "bridges/http/openapi.hpp"
#include "bridges/http/router.hpp"
#include "runtime/tasks/task_pool.hpp"

namespace distiller::cluster {

namespace bhttp = boost::beast::http;
namespace json = boost::json;

namespace {

class events_source : public broadcast::replay_source {
 public:
  explicit events_source(std::shared_ptr<cluster_node> node)
      : node_(std::move(node)) {}
  broadcast::replay_result replay(const std::string&,
                                  std::optional<uint64_t> after,
                                  size_t limit) override {
    return node_->replay_events(after, limit);
  }

 private:
  std::shared_ptr<cluster_node> node_;
};

/// The merged answers of several nodes: the items of every successful
/// answer (each an array) and the errors.
struct merged {
  json::array items;
  json::array errors;
  size_t ok = 0;
  std::vector<std::string> error_codes;
};

merged merge(const std::vector<node_answer>& answers) {
  merged m;
  for (auto& a : answers) {
    if (!a.ok) {
      m.errors.emplace_back(json::object{
          {"node", a.node}, {"error", a.error}, {"detail", a.body}});
      m.error_codes.push_back(a.error);
      continue;
    }
    ++m.ok;
    boost::system::error_code ec;
    auto v = json::parse(a.body, ec);
    if (ec)
      continue;
    if (v.is_array())
      for (auto& x : v.as_array())
        m.items.push_back(x);
    else
      m.items.push_back(v);
  }
  return m;
}

http::response view(const char* key, merged m) {
  return http::response::json(
      200,
      json::object{{key, std::move(m.items)}, {"errors", std::move(m.errors)}});
}

/// The status a changing command answers: 200 when some node did it, else
/// the most telling error.
http::response change_answer(merged m, const std::string& what) {
  if (m.ok > 0)
    return http::response::json(200,
                                json::object{{"results", std::move(m.items)},
                                             {"errors", std::move(m.errors)}});
  auto has = [&](const char* code) {
    return std::find(m.error_codes.begin(), m.error_codes.end(), code) !=
           m.error_codes.end();
  };
  unsigned status = has("forbidden")          ? 403
                    : has("invalid_argument") ? 400
                    : has("not_found")        ? 404
                                              : 503;
  const char* code = status == 403   ? "forbidden"
                     : status == 400 ? "invalid_argument"
                     : status == 404 ? "not_found"
                                     : "unavailable";
  std::string detail = what + ": ";
  for (size_t i = 0; i < m.errors.size(); ++i) {
    auto& e = m.errors[i].as_object();
    detail += (i == 0 ? "" : "; ") + std::string{e.at("node").as_string()} +
              ": " + std::string{e.at("detail").as_string()};
  }
  auto r = http::response::error(status, code, detail);
  r.body = json::serialize(json::object{
      {"error", code}, {"detail", detail}, {"errors", std::move(m.errors)}});
  return r;
}

int64_t number_of(const json::value& v, const char* key) {
  auto* x = v.as_object().if_contains(key);
  if (!x)
    return 0;
  if (x->is_int64())
    return x->as_int64();
  if (x->is_uint64())
    return static_cast<int64_t>(x->as_uint64());
  if (x->is_double())
    return static_cast<int64_t>(x->as_double());
  return 0;
}

struct routes_state {
  cluster_routes_deps deps;
  std::unique_ptr<tasks::task_pool> pool;
};

/// What add_cluster_routes hands out. The routes keep the state (and its
/// pool) for as long as the router lives, which is after the actor system
/// waits for its actors: the pool's workers must be told to stop when the
/// owner lets go, or that wait never ends.
struct routes_owner {
  std::shared_ptr<routes_state> st;
  ~routes_owner() {
    if (st)
      st->pool->stop();
  }
};

/// Runs `work` (which answers `res`) on the pool.
template <class F>
void on_pool(routes_state& st, http::responder res, F work) {
  auto shared = std::make_shared<http::responder>(std::move(res));
  if (!st.pool->post([shared, work = std::move(work)]() mutable {
        try {
          shared->send(work());
        } catch (const std::exception& e) {
          shared->send(http::to_response(http::api_error::internal(e.what())));
        }
      }))
    shared->send(http::to_response(http::api_error::unavailable(
        "the cluster API is busy; retry shortly", 1)));
}

/// The nodes a changing command goes to: `?node=` or every node that has
/// the subject (found with `probe`).
std::vector<node_answer> targeted(cluster_node& node, const http::request& req,
                                  const std::string& what,
                                  const std::string& args) {
  auto only = req.query_or("node");
  if (!only.empty())
    return {node.ask(only, what, args)};
  return node.ask_all(what, args);
}

constexpr std::string_view views_op = R"J({
  "tags": ["cluster"],
  "summary": "SUMMARY",
  "description": "Asks every member that is not gone (a down one is listed under errors at once). Read by `distiller shell`.",
  "responses": {
    "200": {"description": "{\"KEY\": [...], \"errors\": [{\"node\",\"error\",\"detail\"}]}",
            "content": {"application/json": {"schema": {"type": "object"}}}}
  }
})J";

constexpr std::string_view change_op = R"J({
  "tags": ["cluster"],
  "summary": "SUMMARY",
  "description": "Needs shell.allow_write on the node that runs it; logged as shell_command. ?node= picks one node, else every node that has the subject.",
  "responses": {
    "200": {"description": "{\"results\": [...], \"errors\": [...]}",
            "content": {"application/json": {"schema": {"type": "object"}}}},
    "400": {"description": "bad arguments", "x-error-codes": ["invalid_argument"],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    "403": {"description": "shell.allow_write is off", "x-error-codes": ["forbidden"],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    "404": {"description": "no such actor, binding or pool", "x-error-codes": ["not_found"],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    "503": {"description": "the nodes that have it are down or did not answer", "x-error-codes": ["unavailable"],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
  }
})J";

std::string op(std::string_view templ, const std::string& summary,
               const std::string& key = "") {
  std::string s{templ};
  // The summary goes in as a JSON string (quotes and all).
  auto quoted = json::serialize(json::value(summary));
  s.replace(s.find("\"SUMMARY\""), 9, quoted);
  if (auto k = s.find("KEY"); k != std::string::npos)
    s.replace(k, 3, key);
  return s;
}

} // namespace

std::shared_ptr<broadcast::replay_source>
cluster_events_source(std::shared_ptr<cluster_node> node) {
  return std::make_shared<events_source>(std::move(node));
}

std::shared_ptr<void> add_cluster_routes(http::router& r,
                                         cluster_routes_deps deps) {
  auto st = std::make_shared<routes_state>();
  st->deps = std::move(deps);
  st->pool = std::make_unique<tasks::task_pool>(
      *st->deps.sys, "cluster-api", "cluster-api", 2, st->deps.actors, 64);
  auto node = st->deps.node;
  auto source = cluster_events_source(node);

  r.add(bhttp::verb::get, "/cluster",
        [node](http::request&&, http::responder res) {
          res.send(http::response::json(200, node->members_json()));
        });

  r.add(bhttp::verb::get, "/cluster/events",
        [st, node, source](http::request&& req, http::responder res) {
          auto& bc = st->deps.broadcaster;
          if (!bc) {
            res.send(http::to_response(http::api_error::unavailable(
                "this node does not serve event streams")));
            return;
          }
          auto after = broadcast::last_event_id(req);
          if (auto* bad = std::get_if<http::response>(&after)) {
            res.send(std::move(*bad));
            return;
          }
          broadcast::stream_request sr;
          sr.channel = "cluster";
          sr.after = std::get<std::optional<uint64_t>>(after);
          sr.source = source;
          sr.options.stream = "cluster";
          sr.options.order = broadcast::channel_order::log;
          sr.options.ready_fields = node->members_json();
          broadcast::open_stream(bc, std::move(res), std::move(sr));
        });

  r.add(bhttp::verb::get, "/cluster/actors",
        [st, node](http::request&& req, http::responder res) {
          on_pool(*st, std::move(res), [node, req = std::move(req)] {
            auto m = merge(req.query_or("node").empty()
                               ? node->ask_all("actors", "{}")
                               : std::vector<node_answer>{node->ask(
                                     req.query_or("node"), "actors", "{}")});
            auto role = req.query_or("role");
            json::array kept;
            for (auto& a : m.items)
              if (role.empty() || a.at("role").as_string() == role)
                kept.push_back(a);
            auto sort = req.query_or("sort");
            if (!sort.empty()) {
              if (sort != "mailbox" && sort != "processed" &&
                  sort != "failures" && sort != "restarts")
                return http::response::error(
                    400, "invalid_argument",
                    "sort must be mailbox, processed, failures or restarts, "
                    "not '" +
                        sort + "'");
              std::stable_sort(kept.begin(), kept.end(),
                               [&](const json::value& a, const json::value& b) {
                                 return number_of(a, sort.c_str()) >
                                        number_of(b, sort.c_str());
                               });
            }
            if (auto top = req.query_or("top"); !top.empty()) {
              size_t k = 0;
              auto [end, ec] =
                  std::from_chars(top.data(), top.data() + top.size(), k);
              if (ec != std::errc{} || end != top.data() + top.size() || k < 1)
                return http::response::error(
                    400, "invalid_argument",
                    "top must be a positive integer, not '" + top + "'");
              if (kept.size() > k)
                kept.resize(k);
            }
            m.items = std::move(kept);
            return view("actors", std::move(m));
          });
        });

  r.add(bhttp::verb::get, "/cluster/actors/{actor}",
        [st, node](http::request&& req, http::responder res) {
          on_pool(*st, std::move(res), [node, req = std::move(req)] {
            auto args =
                json::serialize(json::object{{"actor", req.param("actor")}});
            auto answers = req.query_or("node").empty()
                               ? node->ask_all("inspect", args)
                               : std::vector<node_answer>{node->ask(
                                     req.query_or("node"), "inspect", args)};
            // Nodes without that actor are not errors here.
            std::vector<node_answer> kept;
            for (auto& a : answers)
              if (a.ok || a.error != "not_found")
                kept.push_back(a);
            auto m = merge(kept);
            if (m.items.empty() && m.errors.empty())
              return http::response::error(404, "not_found",
                                           "no actor " + req.param("actor") +
                                               " on any node");
            return view("actors", std::move(m));
          });
        });

  for (auto [path, what, key, summary] :
       {std::tuple{"/cluster/pools", "pools", "pools",
                   "Every node's pools: size, busy, processed/s, failures"},
        std::tuple{"/cluster/partitions", "partitions", "partitions",
                   "Per binding and partition: owner node, committed offset, "
                   "high watermark, lag, paused"}}) {
    std::string w = what;
    std::string k = key;
    r.add(bhttp::verb::get, path,
          [st, node, w, k](http::request&& req, http::responder res) {
            on_pool(*st, std::move(res), [node, w, k, req = std::move(req)] {
              auto args = json::serialize(
                  json::object{{"binding", req.query_or("binding")}});
              return view(k.c_str(), merge(node->ask_all(w, args)));
            });
          });
    if (st->deps.api_docs)
      st->deps.api_docs->describe(bhttp::verb::get, path,
                                  op(views_op, summary, key));
  }

  r.add(bhttp::verb::get, "/cluster/lag",
        [st, node](http::request&&, http::responder res) {
          on_pool(*st, std::move(res), [node] {
            auto m = merge(node->ask_all("partitions", "{}"));
            std::map<std::string, std::pair<int64_t, int64_t>> per;
            std::map<std::string, int64_t> unknown;
            for (auto& p : m.items) {
              std::string binding{p.at("binding").as_string()};
              auto lag = number_of(p, "lag");
              auto& e = per[binding];
              ++e.first;
              if (lag >= 0)
                e.second += lag;
              else
                ++unknown[binding];
            }
            json::array out;
            for (auto& [binding, e] : per)
              out.emplace_back(json::object{{"binding", binding},
                                            {"partitions", e.first},
                                            {"lag", e.second},
                                            {"unknown", unknown[binding]}});
            m.items = std::move(out);
            return view("lag", std::move(m));
          });
        });

  r.add(bhttp::verb::get, "/cluster/trace/{trace_id}",
        [st, node](http::request&& req, http::responder res) {
          on_pool(*st, std::move(res), [node, req = std::move(req)] {
            auto m = merge(node->ask_all(
                "trace", json::serialize(json::object{
                             {"trace_id", req.param("trace_id")}})));
            std::stable_sort(m.items.begin(), m.items.end(),
                             [](const json::value& a, const json::value& b) {
                               return number_of(a, "time_us") <
                                      number_of(b, "time_us");
                             });
            return view("entries", std::move(m));
          });
        });

  // -- changing commands
  // ---------------------------------------------------------

  auto add_change = [&](const char* path, const char* what,
                        const char* subject_param, const char* subject_key,
                        const char* summary) {
    std::string w = what;
    std::string sp = subject_param;
    std::string sk = subject_key;
    r.add(bhttp::verb::post, path,
          [st, node, w, sp, sk](http::request&& req, http::responder res) {
            json::object args;
            if (!req.body.empty()) {
              boost::system::error_code ec;
              auto v = json::parse(req.body, ec);
              if (ec || !v.is_object()) {
                res.send(http::response::error(
                    400, "invalid_json", "the body must be a JSON object"));
                return;
              }
              args = std::move(v.as_object());
            }
            args[sk] = req.param(sp);
            on_pool(
                *st, std::move(res),
                [node, w, args = json::serialize(args), req = std::move(req)] {
                  auto answers = targeted(*node, req, w, args);
                  // Sent to every node: the ones without the subject
                  // are not errors once some node had it.
                  if (req.query_or("node").empty() &&
                      std::any_of(answers.begin(), answers.end(),
                                  [](auto& a) { return a.ok; }))
                    answers.erase(
                        std::remove_if(answers.begin(), answers.end(),
                                       [](auto& a) {
                                         return !a.ok && a.error == "not_found";
                                       }),
                        answers.end());
                  return change_answer(merge(answers), w);
                });
          },
          {.access = http::access_level::admin});
    if (st->deps.api_docs)
      st->deps.api_docs->describe(bhttp::verb::post, path,
                                  op(change_op, summary));
  };
  add_change("/cluster/actors/{actor}/restart", "restart", "actor", "actor",
             "Restart a supervised actor (its supervisor starts a fresh one)");
  add_change("/cluster/actors/{actor}/send", "send", "actor", "actor",
             "Send a supervised actor one of the documented messages");
  add_change("/cluster/bindings/{binding}/pause", "pause", "binding", "binding",
             "Pause a binding: no new records go to its workers");
  add_change("/cluster/bindings/{binding}/resume", "resume", "binding",
             "binding", "Resume a paused binding");
  add_change("/cluster/pools/{pool}/scale", "scale", "pool", "pool",
             "Change a pool's size ({\"size\": N})");

  if (auto& api = st->deps.api_docs) {
    api->describe(bhttp::verb::get, "/cluster", R"J({
      "tags": ["cluster"], "summary": "The cluster's members as this node sees them",
      "responses": {"200": {"description": "{self, view: current|stale, members: [{node, incarnation, roles, http_url, cluster_address, version, started_at, state, last_heartbeat_ms, state_for_ms, self}]}",
                            "content": {"application/json": {"schema": {"type": "object"}}}}}})J");
    api->describe(bhttp::verb::get, "/cluster/events", R"J({
      "tags": ["cluster"], "summary": "Server-Sent Events of membership changes",
      "description": "`ready` carries the current members; then member_up, member_unreachable, member_down, member_left with {type, seq, node, incarnation, state, previous, time, observer}. Resumable with Last-Event-ID.",
      "responses": {"200": {"description": "the stream", "content": {"text/event-stream": {"schema": {"type": "string"}}}},
                    "503": {"description": "no broadcaster on this node", "x-error-codes": ["unavailable"],
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}}})J");
    api->describe(bhttp::verb::get, "/cluster/actors",
                  op(views_op,
                     "Every node's actors (?node=, ?role=, "
                     "?sort=mailbox|processed|failures|restarts, ?top=K)",
                     "actors"));
    api->describe(bhttp::verb::get, "/cluster/actors/{actor}",
                  op(views_op,
                     "One actor on every node that has it: every field and its "
                     "recent errors",
                     "actors"));
    api->describe(
        bhttp::verb::get, "/cluster/lag",
        op(views_op, "Lag per binding, summed over its partitions", "lag"));
    api->describe(bhttp::verb::get, "/cluster/trace/{trace_id}",
                  op(views_op,
                     "Which actors and records carried a trace id (each node's "
                     "trace ring)",
                     "entries"));
  }
  auto owner = std::make_shared<routes_owner>();
  owner->st = std::move(st);
  return owner;
}

} // namespace distiller::cluster
