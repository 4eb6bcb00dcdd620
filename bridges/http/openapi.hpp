#pragma once

/// The façade's self-description: an OpenAPI 3.0 document built from the
/// operations that route modules describe, served as `GET /openapi.json`,
/// and a small self-contained page at `GET /docs` that renders it (routes,
/// parameters, schemas) and lets a user try GET routes — no external
/// scripts or fonts, so it works without network access.
///
///   auto api = std::make_shared<http::openapi_spec>("Distiller", version);
///   http::add_node_routes(*router, sources);
///   http::describe_node_routes(*api);
///   documents::add_document_routes(*router, svc, {.api_docs = api});
///   http::add_openapi_routes(*router, api);
///
/// An operation is an OpenAPI Operation Object written as JSON text; path
/// parameters (`{job_id}`) are added as required strings when the
/// operation does not declare them. Schemas go to components/schemas and
/// are referenced as `{"$ref": "#/components/schemas/Job"}`; `Error` (the
/// façade's {"error","detail"}) is always there.
/// The document lists exactly the routes registered on the router at the
/// time of the request: a described operation without a route is left out,
/// a route without a description appears with `"x-undocumented": true`.
///
/// Threads: thread-safe (a mutex guards the descriptions); `document` may
/// run while routes are described. Ownership: the routes share the spec.
/// Failure: `describe` and `add_schema` throw std::invalid_argument for
/// text that is not a JSON object (a programming error, caught by tests).

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include <boost/beast/http/verb.hpp>
#include <boost/json/object.hpp>

namespace distiller::http {

class router;

class openapi_spec {
 public:
  openapi_spec(std::string title, std::string version,
               std::string description = "");

  /// Describes (method, pattern) with an Operation Object (JSON text).
  void describe(boost::beast::http::verb method, const std::string& pattern,
                std::string_view operation_json);

  /// Adds (or replaces) the schema `name` (JSON text).
  void add_schema(const std::string& name, std::string_view schema_json);

  /// True when (method, pattern) has a description.
  bool described(boost::beast::http::verb method,
                 const std::string& pattern) const;

  /// The OpenAPI 3.0 document for the routes registered on `r`.
  boost::json::object document(const router& r) const;

 private:
  std::string title_;
  std::string version_;
  std::string description_;
  mutable std::mutex mtx_;
  std::map<std::pair<std::string, std::string>, boost::json::object> ops_;
  boost::json::object schemas_;
};

/// The OpenAPI path of a router pattern ("/a/{rest...}" → "/a/{rest}").
std::string openapi_path(std::string_view pattern);

/// Describes /health, /ready, /metrics and /inspect (see node_routes.hpp).
void describe_node_routes(openapi_spec& spec);

/// Registers `GET /openapi.json` and `GET /docs` on `r` and describes them.
/// The handlers read `r`'s table on each request, so routes added later
/// appear too; `r` must outlive its routes' use (it does: the server holds
/// it).
void add_openapi_routes(router& r, std::shared_ptr<openapi_spec> spec);

/// The HTML of the /docs page (exposed for tests).
std::string_view docs_page_html();

} // namespace distiller::http
