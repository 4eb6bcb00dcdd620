#include "bridges/http/openapi.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>

#include "bridges/http/router.hpp"

namespace distiller::http {

namespace bhttp = boost::beast::http;
namespace json = boost::json;

namespace {

json::object parse_object(std::string_view text, const std::string& what) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object())
    throw std::invalid_argument("openapi: " + what + " is not a JSON object" +
                                (ec ? ": " + ec.message() : std::string{}));
  return std::move(v.as_object());
}

/// "get" for GET; "" for methods OpenAPI has no slot for.
std::string method_key(bhttp::verb v) {
  switch (v) {
  case bhttp::verb::get:
  case bhttp::verb::put:
  case bhttp::verb::post:
  case bhttp::verb::delete_:
  case bhttp::verb::options:
  case bhttp::verb::head:
  case bhttp::verb::patch:
  case bhttp::verb::trace: {
    auto s = bhttp::to_string(v);
    std::string out{s.data(), s.size()};
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
      return static_cast<char>(std::tolower(c));
    });
    return out;
  }
  default:
    return {};
  }
}

/// Adds `{name}` path parameters the operation does not declare.
void add_path_params(json::object& op, std::string_view path) {
  auto& params = op["parameters"];
  if (!params.is_array())
    params = json::array{};
  auto& list = params.as_array();
  size_t pos = 0;
  while ((pos = path.find('{', pos)) != std::string_view::npos) {
    auto end = path.find('}', pos);
    if (end == std::string_view::npos)
      break;
    std::string name{path.substr(pos + 1, end - pos - 1)};
    pos = end;
    bool declared = std::any_of(list.begin(), list.end(), [&](auto& p) {
      auto* o = p.if_object();
      if (!o)
        return false;
      auto* n = o->if_contains("name");
      auto* in = o->if_contains("in");
      return n && n->is_string() && n->as_string() == name && in &&
             in->is_string() && in->as_string() == "path";
    });
    if (!declared)
      list.emplace_back(json::object{{"name", name},
                                     {"in", "path"},
                                     {"required", true},
                                     {"schema", {{"type", "string"}}}});
  }
  if (list.empty())
    op.erase("parameters");
}

constexpr std::string_view error_schema = R"J({
  "type": "object",
  "description": "Every error of the façade. Besides each route's own, any request may get: 400 bad_request (malformed HTTP, an HTTP/1.1 request without exactly one Host, Content-Length with Transfer-Encoding), 401 unauthorized (no API token where one is required, or one the node does not know; with WWW-Authenticate: Bearer), 403 forbidden (the token's scope is too small, or a user token asks for another user's thoughts), forbidden_host (a Host the node does not answer to, http.allowed_hosts) or forbidden_origin (a POST/PUT/PATCH/DELETE from another site's page, http.allowed_origins), 408 request_timeout, 413 payload_too_large, 431 header_too_large, 501 not_implemented (a transfer coding other than chunked), 503 (connection cap, with Retry-After).",
  "required": ["error", "detail"],
  "properties": {
    "error": {"type": "string", "description": "a machine word", "example": "not_found"},
    "detail": {"type": "string", "description": "a sentence for a human"}
  }
})J";

constexpr std::string_view bearer_scheme = R"J({
  "type": "http",
  "scheme": "bearer",
  "description": "An API token from `distiller auth token`, sent as 'Authorization: Bearer <token>' (streams opened by a browser's EventSource may pass it as ?access_token=). Required whenever the node listens off loopback, and on loopback with auth.required = true; without one a loopback node serves everything. Scopes: read (GET routes, POST /api/v2/query), write (also uploads and thoughts of any user), user=<uuid> (write, but only that user's thoughts), admin (everything; /inspect and the cluster's changing commands). Each operation's x-access names the least scope it needs; 'public' ones need none."
})J";

} // namespace

// -- openapi_spec ------------------------------------------------------------

openapi_spec::openapi_spec(std::string title, std::string version,
                           std::string description)
    : title_(std::move(title)), version_(std::move(version)),
      description_(std::move(description)) {
  schemas_["Error"] = parse_object(error_schema, "the Error schema");
}

void openapi_spec::describe(bhttp::verb method, const std::string& pattern,
                            std::string_view operation_json) {
  auto key = method_key(method);
  if (key.empty())
    throw std::invalid_argument("openapi: no OpenAPI method for " + pattern);
  auto op = parse_object(operation_json, key + " " + pattern);
  std::lock_guard<std::mutex> guard{mtx_};
  ops_[{key, pattern}] = std::move(op);
}

void openapi_spec::add_schema(const std::string& name,
                              std::string_view schema_json) {
  auto schema = parse_object(schema_json, "schema " + name);
  std::lock_guard<std::mutex> guard{mtx_};
  schemas_[name] = std::move(schema);
}

bool openapi_spec::described(bhttp::verb method,
                             const std::string& pattern) const {
  std::lock_guard<std::mutex> guard{mtx_};
  return ops_.count({method_key(method), pattern}) > 0;
}

json::object openapi_spec::document(const router& r) const {
  json::object paths;
  json::object components;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    for (auto& [method, pattern] : r.routes()) {
      auto key = method_key(method);
      if (key.empty())
        continue;
      auto path = openapi_path(pattern);
      json::object op;
      if (auto i = ops_.find({key, pattern}); i != ops_.end()) {
        op = i->second;
      } else {
        op["summary"] = key + " " + pattern;
        op["x-undocumented"] = true;
        op["responses"] = {{"default", {{"description", "not described"}}}};
      }
      add_path_params(op, path);
      // Who may call it: public routes need no token; the others take a
      // bearer token of at least this scope (optional on a loopback node
      // without auth.required, hence the empty alternative).
      auto level = r.access(method, pattern).value_or(access_level::admin);
      op["x-access"] = to_string(level);
      if (level == access_level::open)
        op["security"] = json::array{};
      else
        op["security"] = json::array{
            json::object{{"bearerAuth", json::array{}}}, json::object{}};
      auto& item = paths[path];
      if (!item.is_object())
        item = json::object{};
      item.as_object()[key] = std::move(op);
    }
    components["schemas"] = schemas_;
    components["securitySchemes"] =
        json::object{{"bearerAuth", parse_object(bearer_scheme, "bearerAuth")}};
  }
  json::object info{{"title", title_}, {"version", version_}};
  if (!description_.empty())
    info["description"] = description_;
  return json::object{{"openapi", "3.0.3"},
                      {"info", std::move(info)},
                      {"paths", std::move(paths)},
                      {"components", std::move(components)}};
}

std::string openapi_path(std::string_view pattern) {
  std::string out{pattern};
  for (size_t pos; (pos = out.find("...}")) != std::string::npos;)
    out.erase(pos, 3);
  return out;
}

// -- node routes -------------------------------------------------------------

void describe_node_routes(openapi_spec& spec) {
  spec.add_schema("Health", R"J({
    "type": "object",
    "required": ["status", "node", "version", "components", "actors"],
    "properties": {
      "status": {"type": "string", "enum": ["ok", "degraded", "down"]},
      "node": {"type": "string"},
      "version": {"type": "string"},
      "components": {
        "type": "object",
        "description": "one entry per probed component (kafka, postgres, …)",
        "additionalProperties": {
          "type": "object",
          "properties": {
            "state": {"type": "string", "example": "up"},
            "detail": {"type": "string"},
            "required": {"type": "boolean"},
            "since": {"type": "string", "format": "date-time"}
          }
        }
      },
      "actors": {
        "type": "object",
        "properties": {
          "total": {"type": "integer"},
          "restarts": {"type": "integer"},
          "failed": {"type": "integer"}
        }
      }
    }
  })J");
  spec.add_schema("Ready", R"J({
    "type": "object",
    "required": ["ready"],
    "properties": {
      "ready": {"type": "boolean"},
      "waiting_for": {"type": "array", "items": {"type": "string"},
                      "description": "components not up yet (503 only)"}
    }
  })J");
  spec.add_schema("Inspect", R"J({
    "type": "object",
    "required": ["node", "actors"],
    "properties": {
      "node": {"type": "string"},
      "actors": {
        "type": "array",
        "items": {
          "type": "object",
          "properties": {
            "name": {"type": "string"},
            "role": {"type": "string"},
            "node": {"type": "string"},
            "parent": {"type": "string"},
            "mailbox": {"type": "integer"},
            "processed": {"type": "integer"},
            "failures": {"type": "integer"},
            "restarts": {"type": "integer"},
            "state": {"type": "string"},
            "recent_errors": {
              "type": "array",
              "description": "the actor's last errors, newest first (at most 8)",
              "items": {
                "type": "object",
                "properties": {
                  "time": {"type": "string", "format": "date-time"},
                  "text": {"type": "string"}
                }
              }
            }
          }
        }
      }
    }
  })J");
  spec.describe(bhttp::verb::get, "/health", R"J({
    "tags": ["node"],
    "summary": "Health of the node and its components",
    "description": "Always 200: it reports, it does not gate (see /ready).",
    "responses": {
      "200": {"description": "the report",
              "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}}
    }
  })J");
  spec.describe(bhttp::verb::get, "/ready", R"J({
    "tags": ["node"],
    "summary": "Readiness: Kafka and PostgreSQL seen up",
    "responses": {
      "200": {"description": "ready",
              "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Ready"}}}},
      "503": {"description": "not ready; waiting_for names what is missing",
              "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Ready"}}}}
    }
  })J");
  spec.describe(bhttp::verb::get, "/metrics", R"J({
    "tags": ["node"],
    "summary": "Prometheus metrics of the node",
    "responses": {
      "200": {"description": "Prometheus text exposition format 0.0.4",
              "content": {"text/plain": {"schema": {"type": "string"}}}},
      "503": {"description": "metrics are not wired into this node",
              "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    }
  })J");
  spec.describe(bhttp::verb::get, "/inspect", R"J({
    "tags": ["node"],
    "summary": "The node's actors: mailbox, processed, failures, restarts, state, recent errors",
    "responses": {
      "200": {"description": "the actors",
              "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Inspect"}}}},
      "503": {"description": "the inspection registry is not wired into this node",
              "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    }
  })J");
}

// -- routes ------------------------------------------------------------------

void add_openapi_routes(router& r, std::shared_ptr<openapi_spec> spec) {
  const router* table = &r;
  r.add(bhttp::verb::get, "/openapi.json",
        [spec, table](request&&, responder res) {
          res.send(response::json(200, spec->document(*table)));
        },
        {.access = access_level::open});
  r.add(bhttp::verb::get, "/docs",
        [](request&&, responder res) {
          res.send(response::text(200, std::string{docs_page_html()},
                                  "text/html; charset=utf-8"));
        },
        {.access = access_level::open});
  spec->describe(bhttp::verb::get, "/openapi.json", R"J({
    "tags": ["docs"],
    "summary": "This OpenAPI 3.0 document",
    "responses": {
      "200": {"description": "the document (every registered route)",
              "content": {"application/json": {"schema": {"type": "object"}}}}
    }
  })J");
  spec->describe(bhttp::verb::get, "/docs", R"J({
    "tags": ["docs"],
    "summary": "A page that renders /openapi.json and tries GET routes",
    "responses": {
      "200": {"description": "self-contained HTML (no external resources)",
              "content": {"text/html": {"schema": {"type": "string"}}}}
    }
  })J");
}

} // namespace distiller::http
