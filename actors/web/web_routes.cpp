#include "actors/web/web_routes.hpp"

#include <algorithm>
#include <string>

#include "actors/web/static_assets.hpp"
#include "bridges/http/openapi.hpp"
#include "bridges/http/router.hpp"

namespace distiller::web {

namespace bhttp = boost::beast::http;

namespace {

constexpr std::string_view index_op = R"J({
  "tags": ["web"],
  "summary": "The web page",
  "description": "A self-contained HTML page (its scripts and styles come from /ui/) to upload documents and follow their progress, ask questions, and submit thoughts and watch their five agent steps live. Sent with Cache-Control: no-cache, an ETag (If-None-Match → 304) and a Content-Security-Policy that allows only this origin.",
  "parameters": [{"name": "If-None-Match", "in": "header", "required": false,
                  "description": "the ETag of a cached copy",
                  "schema": {"type": "string"}}],
  "responses": {
    "200": {"description": "the page",
            "content": {"text/html": {"schema": {"type": "string"}}}},
    "304": {"description": "the cached copy is current (no body)"}
  }
})J";

constexpr std::string_view asset_op = R"J({
  "tags": ["web"],
  "summary": "One file of the web page (script, style sheet, icon)",
  "description": "Embedded in the binary at build time. Same caching headers as the page.",
  "parameters": [
    {"name": "file", "in": "path", "required": true,
     "description": "the file name, e.g. app.js",
     "schema": {"type": "string"}},
    {"name": "If-None-Match", "in": "header", "required": false,
     "description": "the ETag of a cached copy",
     "schema": {"type": "string"}}],
  "responses": {
    "200": {"description": "the file with its Content-Type",
            "content": {"text/javascript": {"schema": {"type": "string"}},
                        "text/css": {"schema": {"type": "string"}},
                        "image/svg+xml": {"schema": {"type": "string"}}}},
    "304": {"description": "the cached copy is current (no body)"},
    "404": {"description": "no such file (not_found)",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
  }
})J";

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

/// An entity tag without its weakness prefix ("W/\"x\"" → "\"x\"").
std::string_view opaque(std::string_view tag) {
  if (tag.size() >= 2 && (tag[0] == 'W' || tag[0] == 'w') && tag[1] == '/')
    tag.remove_prefix(2);
  return tag;
}

void add_common_headers(http::response& r, const static_asset& a) {
  r.with_header("ETag", std::string{a.etag})
      .with_header("Cache-Control", "no-cache")
      .with_header("X-Content-Type-Options", "nosniff")
      .with_header("Referrer-Policy", "no-referrer")
      .with_header("Content-Security-Policy",
                   std::string{content_security_policy});
}

http::response serve(const http::request& req, const static_asset& a) {
  http::response r;
  if (etag_matches(req.header("if-none-match"), a.etag)) {
    r.status = 304;
  } else {
    r.status = 200;
    r.body.assign(a.bytes);
  }
  r.content_type = std::string{a.content_type};
  add_common_headers(r, a);
  return r;
}

http::response missing(std::string_view name) {
  auto r = http::response::error(
      404, "not_found", "the page has no file '" + std::string{name} + "'");
  r.with_header("X-Content-Type-Options", "nosniff");
  return r;
}

} // namespace

const static_asset* find_static_asset(std::string_view name) {
  auto all = static_assets();
  auto i = std::find_if(all.begin(), all.end(), [name](const static_asset& a) {
    return a.name == name;
  });
  return i == all.end() ? nullptr : &*i;
}

bool etag_matches(std::string_view if_none_match, std::string_view etag) {
  auto header = trim(if_none_match);
  if (header.empty())
    return false;
  if (header == "*")
    return true;
  while (!header.empty()) {
    auto comma = header.find(',');
    auto tag = trim(header.substr(0, comma));
    if (!tag.empty() && opaque(tag) == opaque(etag))
      return true;
    if (comma == std::string_view::npos)
      break;
    header.remove_prefix(comma + 1);
  }
  return false;
}

void add_web_routes(http::router& r, std::shared_ptr<http::openapi_spec> api) {
  r.add(bhttp::verb::get, "/",
        [](http::request&& req, http::responder res) {
          if (auto* a = find_static_asset("index.html"))
            res.send(serve(req, *a));
          else
            res.send(missing("index.html"));
        },
        {.access = http::access_level::open});

  r.add(bhttp::verb::get, "/ui/{file}",
        [](http::request&& req, http::responder res) {
          auto name = req.param("file");
          if (auto* a = find_static_asset(name))
            res.send(serve(req, *a));
          else
            res.send(missing(name));
        },
        {.access = http::access_level::open});

  if (api) {
    api->describe(bhttp::verb::get, "/", index_op);
    api->describe(bhttp::verb::get, "/ui/{file}", asset_op);
  }
}

} // namespace distiller::web
