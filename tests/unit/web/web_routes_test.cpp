// Unit tests of the web page's routes (actors/web/web_routes.hpp): the page
// and its assets come out of the embedded table with their types, the
// security and caching headers, ETag/304, 404 for unknown files, and the
// page itself stays CSP-clean (no inline script, no handler attributes, no
// eval, no other origin) with every file it references embedded.
// A real server on a free loopback port; no other services.

#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <string>

#include <boost/json.hpp>

#include "actors/web/static_assets.hpp"
#include "actors/web/web_routes.hpp"
#include "bridges/http/openapi.hpp"
#include "bridges/http/server.hpp"
#include "tests/support/http_client.hpp"

using namespace distiller;
using namespace distiller::testing;
using namespace std::chrono_literals;
namespace bhttp = boost::beast::http;
namespace json = boost::json;

namespace {

class web_routes_test : public ::testing::Test {
 protected:
  web_routes_test() {
    cfg.host = "127.0.0.1";
    cfg.port = 0;
    cfg.threads = 1;
    cfg.request_timeout = 5s;
    routes = std::make_shared<http::router>();
    api = std::make_shared<http::openapi_spec>("T", "1");
    web::add_web_routes(*routes, api);
    srv = std::make_unique<http::server>(cfg, routes);
    port = srv->start();
  }

  ~web_routes_test() override { srv->stop(); }

  http::http_config cfg;
  std::shared_ptr<http::router> routes;
  std::shared_ptr<http::openapi_spec> api;
  std::unique_ptr<http::server> srv;
  uint16_t port = 0;
};

const web::static_asset& asset(std::string_view name) {
  auto* a = web::find_static_asset(name);
  if (!a)
    throw std::runtime_error("no embedded asset " + std::string{name});
  return *a;
}

void expect_page_headers(const http_reply& r, const web::static_asset& a) {
  EXPECT_EQ(r.header("content-security-policy"),
            std::string{web::content_security_policy});
  EXPECT_EQ(r.header("x-content-type-options"), "nosniff");
  EXPECT_EQ(r.header("cache-control"), "no-cache");
  EXPECT_EQ(r.header("etag"), std::string{a.etag});
}

/// Every match of group 1 of `pattern` in `text`.
std::vector<std::string> matches(std::string_view text,
                                 const std::string& pattern) {
  std::regex re{pattern, std::regex::icase};
  std::vector<std::string> out;
  std::string s{text};
  for (auto i = std::sregex_iterator(s.begin(), s.end(), re);
       i != std::sregex_iterator(); ++i)
    out.push_back((*i)[1].str());
  return out;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.substr(s.size() - suffix.size()) == suffix;
}

} // namespace

// -- the embedded table
// --------------------------------------------------------

TEST(web_static_assets, the_page_files_are_embedded_with_their_types) {
  EXPECT_EQ(asset("index.html").content_type, "text/html; charset=utf-8");
  EXPECT_EQ(asset("app.js").content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(asset("app.css").content_type, "text/css; charset=utf-8");
  EXPECT_EQ(asset("favicon.svg").content_type, "image/svg+xml");
  EXPECT_EQ(web::find_static_asset("nope.js"), nullptr);
  std::set<std::string_view> names;
  std::set<std::string_view> etags;
  for (auto& a : web::static_assets()) {
    EXPECT_FALSE(a.bytes.empty()) << a.name;
    EXPECT_NE(a.content_type, "application/octet-stream") << a.name;
    ASSERT_GE(a.etag.size(), 3u) << a.name;
    EXPECT_EQ(a.etag.front(), '"') << a.name;
    EXPECT_EQ(a.etag.back(), '"') << a.name;
    EXPECT_TRUE(names.insert(a.name).second) << "duplicate " << a.name;
    etags.insert(a.etag);
  }
  // Different bytes, different tags.
  EXPECT_EQ(etags.size(), names.size());
}

TEST(web_static_assets, every_file_the_page_references_is_embedded) {
  auto html = asset("index.html").bytes;
  auto refs = matches(html, R"((?:src|href)\s*=\s*"(/ui/[^"]*)\")");
  ASSERT_FALSE(refs.empty());
  std::set<std::string> seen{refs.begin(), refs.end()};
  EXPECT_TRUE(seen.count("/ui/app.js"));
  EXPECT_TRUE(seen.count("/ui/app.css"));
  for (auto& ref : seen)
    EXPECT_NE(web::find_static_asset(ref.substr(4)), nullptr) << ref;
  // Module imports between the scripts ("./thoughts.js") resolve too.
  for (auto& a : web::static_assets()) {
    if (!ends_with(a.name, ".js"))
      continue;
    for (auto& dep :
         matches(a.bytes, R"(\bfrom\s+['"]\./([A-Za-z0-9_.-]+)['"])"))
      EXPECT_NE(web::find_static_asset(dep), nullptr)
          << a.name << " imports " << dep;
  }
}

TEST(web_static_assets, the_page_satisfies_its_content_security_policy) {
  auto html = std::string{asset("index.html").bytes};
  // Every script is external, from this origin.
  auto scripts = matches(html, R"((<script\b[^>]*>))");
  ASSERT_FALSE(scripts.empty());
  for (auto& tag : scripts)
    EXPECT_TRUE(std::regex_search(tag, std::regex{R"(\bsrc="/ui/)"})) << tag;
  EXPECT_TRUE(matches(html, R"(<script\b[^>]*>([^<]+)</script>)").empty());
  // No inline handlers, inline styles, <style> blocks or javascript: URLs.
  EXPECT_TRUE(matches(html, R"(\s(on[a-z]+)\s*=)").empty());
  EXPECT_TRUE(matches(html, R"(\s(style)\s*=)").empty());
  EXPECT_TRUE(matches(html, R"((<style\b))").empty());
  EXPECT_EQ(html.find("javascript:"), std::string::npos);
  for (auto& a : web::static_assets()) {
    if (a.content_type.find("svg") != std::string_view::npos)
      continue; // xmlns names, not fetched
    // Nothing from another origin: no absolute URLs, no CDN, no web fonts.
    EXPECT_EQ(a.bytes.find("http://"), std::string_view::npos) << a.name;
    EXPECT_EQ(a.bytes.find("https://"), std::string_view::npos) << a.name;
    EXPECT_EQ(a.bytes.find("@import"), std::string_view::npos) << a.name;
    EXPECT_EQ(a.bytes.find("@font-face"), std::string_view::npos) << a.name;
    if (ends_with(a.name, ".js")) {
      EXPECT_TRUE(matches(a.bytes, R"(\b(eval)\s*\()").empty()) << a.name;
      EXPECT_TRUE(matches(a.bytes, R"(\b(new\s+Function)\b)").empty())
          << a.name;
      EXPECT_EQ(a.bytes.find("innerHTML"), std::string_view::npos) << a.name;
      EXPECT_EQ(a.bytes.find(".setAttribute('style'"), std::string_view::npos)
          << a.name;
    }
  }
}

TEST(web_etag, if_none_match_forms) {
  EXPECT_TRUE(web::etag_matches("\"abc\"", "\"abc\""));
  EXPECT_TRUE(web::etag_matches("W/\"abc\"", "\"abc\""));
  EXPECT_TRUE(web::etag_matches("\"x\", \"abc\"", "\"abc\""));
  EXPECT_TRUE(web::etag_matches(" * ", "\"abc\""));
  EXPECT_FALSE(web::etag_matches("", "\"abc\""));
  EXPECT_FALSE(web::etag_matches("\"abcd\"", "\"abc\""));
  EXPECT_FALSE(web::etag_matches("abc", "\"abc\""));
  EXPECT_FALSE(web::etag_matches("\"x\",,\"y\"", "\"abc\""));
}

// -- the routes
// ------------------------------------------------------------------

TEST_F(web_routes_test, root_serves_the_page_with_its_policy) {
  http_client client{port};
  auto r = client.get("/");
  ASSERT_EQ(r.status, 200u);
  EXPECT_EQ(r.header("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(r.body, asset("index.html").bytes);
  expect_page_headers(r, asset("index.html"));
  EXPECT_NE(r.body.find("<script type=\"module\" src=\"/ui/app.js\">"),
            std::string::npos);
}

TEST_F(web_routes_test, assets_are_served_with_their_types) {
  http_client client{port};
  for (auto& a : web::static_assets()) {
    auto r = client.get("/ui/" + std::string{a.name});
    ASSERT_EQ(r.status, 200u) << a.name;
    EXPECT_EQ(r.header("content-type"), a.content_type) << a.name;
    EXPECT_EQ(r.body, a.bytes) << a.name;
    expect_page_headers(r, a);
  }
}

TEST_F(web_routes_test, a_matching_etag_gets_304_without_a_body) {
  http_client client{port};
  auto& js = asset("app.js");
  auto r = client.get("/ui/app.js", {{"If-None-Match", std::string{js.etag}}});
  EXPECT_EQ(r.status, 304u);
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(r.header("etag"), std::string{js.etag});
  EXPECT_EQ(r.header("cache-control"), "no-cache");

  r = client.get("/",
                 {{"If-None-Match",
                   "\"old\", W/" + std::string{asset("index.html").etag}}});
  EXPECT_EQ(r.status, 304u);
  EXPECT_TRUE(r.body.empty());

  // Another version's tag: the whole file again.
  r = client.get("/ui/app.js", {{"If-None-Match", "\"0123456789\""}});
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body, js.bytes);
}

TEST_F(web_routes_test, head_sends_the_headers_only) {
  http_client client{port};
  auto r = client.request(bhttp::verb::head, "/ui/app.css");
  EXPECT_EQ(r.status, 200u);
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(r.header("content-length"),
            std::to_string(asset("app.css").bytes.size()));
  EXPECT_EQ(r.header("content-type"), "text/css; charset=utf-8");
}

TEST_F(web_routes_test, unknown_files_are_404_json) {
  http_client client{port};
  for (auto target : {"/ui/nope.js", "/ui/..%2Findex.html", "/ui/index.html%00",
                      "/ui/APP.JS"}) {
    auto r = client.get(target);
    EXPECT_EQ(r.status, 404u) << target;
    EXPECT_EQ(r.header("content-type"), "application/json") << target;
    auto body = json::parse(r.body).as_object();
    EXPECT_EQ(body.at("error").as_string(), "not_found") << target;
    EXPECT_TRUE(body.at("detail").is_string()) << target;
  }
  // Directories are not files.
  EXPECT_EQ(client.get("/ui/a/app.js").status, 404u);
  EXPECT_EQ(client.get("/ui").status, 404u);
}

TEST_F(web_routes_test, the_routes_are_described_in_the_api_document) {
  EXPECT_TRUE(api->described(bhttp::verb::get, "/"));
  EXPECT_TRUE(api->described(bhttp::verb::get, "/ui/{file}"));
  auto doc = api->document(*routes);
  auto& paths = doc.at("paths").as_object();
  ASSERT_TRUE(paths.contains("/"));
  ASSERT_TRUE(paths.contains("/ui/{file}"));
  auto& get = paths.at("/ui/{file}").at("get").as_object();
  EXPECT_TRUE(get.at("responses").as_object().contains("404"));
  EXPECT_FALSE(get.contains("x-undocumented"));
}
