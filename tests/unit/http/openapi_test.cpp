// Unit tests of the OpenAPI builder: only registered routes appear, path
// parameters are filled in, undescribed routes are marked, invalid
// descriptions are refused, and the /docs page needs no network. No sockets.

#include <gtest/gtest.h>

#include <stdexcept>

#include <boost/json.hpp>

#include "bridges/http/openapi.hpp"
#include "bridges/http/router.hpp"

using namespace distiller::http;
namespace bhttp = boost::beast::http;
namespace json = boost::json;

namespace {

handler noop() {
  return [](request&&, responder) {
  };
}

} // namespace

TEST(openapi, paths_follow_the_router_table) {
  router r;
  r.add(bhttp::verb::get, "/jobs/{job_id}", noop());
  r.add(bhttp::verb::post, "/jobs", noop());
  r.add(bhttp::verb::get, "/files/{path...}", noop());
  openapi_spec spec{"T", "1.2.3", "about"};
  spec.describe(
      bhttp::verb::get, "/jobs/{job_id}",
      R"({"summary": "one job", "responses": {"200": {"description": "ok"}}})");
  spec.describe(bhttp::verb::delete_, "/jobs/{job_id}",
                R"({"summary": "not registered", "responses": {}})");
  EXPECT_TRUE(spec.described(bhttp::verb::get, "/jobs/{job_id}"));
  EXPECT_FALSE(spec.described(bhttp::verb::post, "/jobs"));

  auto doc = spec.document(r);
  EXPECT_EQ(doc.at("openapi").as_string(), "3.0.3");
  EXPECT_EQ(doc.at("info").at("title").as_string(), "T");
  EXPECT_EQ(doc.at("info").at("description").as_string(), "about");
  auto& paths = doc.at("paths").as_object();
  EXPECT_EQ(paths.size(), 3u);
  auto& get = paths.at("/jobs/{job_id}").as_object();
  EXPECT_FALSE(get.contains("delete")); // described but not registered
  auto& op = get.at("get").as_object();
  EXPECT_EQ(op.at("summary").as_string(), "one job");
  auto& param = op.at("parameters").as_array().at(0).as_object();
  EXPECT_EQ(param.at("name").as_string(), "job_id");
  EXPECT_EQ(param.at("in").as_string(), "path");
  EXPECT_TRUE(param.at("required").as_bool());
  auto& post = paths.at("/jobs").at("post").as_object();
  EXPECT_TRUE(post.at("x-undocumented").as_bool());
  EXPECT_FALSE(post.contains("parameters"));
  EXPECT_TRUE(paths.contains("/files/{path}"));
  EXPECT_TRUE(doc.at("components").at("schemas").as_object().contains("Error"));
}

TEST(openapi, declared_path_parameters_are_kept) {
  router r;
  r.add(bhttp::verb::get, "/a/{id}", noop());
  openapi_spec spec{"T", "1"};
  spec.describe(bhttp::verb::get, "/a/{id}", R"({
    "parameters": [{"name": "id", "in": "path", "required": true,
                    "description": "mine", "schema": {"type": "integer"}}],
    "responses": {"200": {"description": "ok"}}})");
  auto doc = spec.document(r);
  auto& params =
      doc.at("paths").at("/a/{id}").at("get").at("parameters").as_array();
  ASSERT_EQ(params.size(), 1u);
  EXPECT_EQ(params[0].at("description").as_string(), "mine");
}

TEST(openapi, invalid_descriptions_are_refused) {
  openapi_spec spec{"T", "1"};
  EXPECT_THROW(spec.describe(bhttp::verb::get, "/x", "{not json"),
               std::invalid_argument);
  EXPECT_THROW(spec.describe(bhttp::verb::get, "/x", "[1, 2]"),
               std::invalid_argument);
  EXPECT_THROW(spec.add_schema("S", "42"), std::invalid_argument);
  EXPECT_THROW(spec.describe(bhttp::verb::connect, "/x", "{}"),
               std::invalid_argument);
}

TEST(openapi, node_and_docs_routes_are_described) {
  router r;
  auto spec = std::make_shared<openapi_spec>("T", "1");
  add_openapi_routes(r, spec);
  describe_node_routes(*spec);
  for (auto p :
       {"/health", "/ready", "/metrics", "/inspect", "/openapi.json", "/docs"})
    EXPECT_TRUE(spec->described(bhttp::verb::get, p)) << p;
  auto doc = spec->document(r);
  auto& schemas = doc.at("components").at("schemas").as_object();
  for (auto s : {"Health", "Ready", "Inspect", "Error"})
    EXPECT_TRUE(schemas.contains(s)) << s;
}

TEST(openapi, path_conversion) {
  EXPECT_EQ(openapi_path("/a/{b}/c"), "/a/{b}/c");
  EXPECT_EQ(openapi_path("/static/{rest...}"), "/static/{rest}");
}

TEST(openapi, docs_page_loads_nothing_from_elsewhere) {
  auto html = docs_page_html();
  EXPECT_NE(html.find("/openapi.json"), std::string_view::npos);
  EXPECT_EQ(html.find("http://"), std::string_view::npos);
  EXPECT_EQ(html.find("https://"), std::string_view::npos);
  EXPECT_EQ(html.find("<link"), std::string_view::npos);
  EXPECT_EQ(html.find("src="), std::string_view::npos);
  // Text from the document is set with textContent, never as HTML.
  EXPECT_EQ(html.find("innerHTML"), std::string_view::npos);
}

TEST(openapi, each_operation_says_who_may_call_it) {
  router r;
  r.add(bhttp::verb::get, "/open", noop(), {.access = access_level::open});
  r.add(bhttp::verb::get, "/read", noop());
  r.add(bhttp::verb::post, "/write", noop());
  r.add(bhttp::verb::post, "/admin", noop(), {.access = access_level::admin});
  openapi_spec spec{"T", "1", ""};
  auto doc = spec.document(r);
  auto& paths = doc.at("paths").as_object();
  auto access = [&](const char* path, const char* method) {
    return std::string{paths.at(path).at(method).at("x-access").as_string()};
  };
  EXPECT_EQ(access("/open", "get"), "public");
  EXPECT_EQ(access("/read", "get"), "read");
  EXPECT_EQ(access("/write", "post"), "write");
  EXPECT_EQ(access("/admin", "post"), "admin");
  EXPECT_TRUE(paths.at("/open").at("get").at("security").as_array().empty());
  auto& sec = paths.at("/admin").at("post").at("security").as_array();
  ASSERT_EQ(sec.size(), 2u);
  EXPECT_TRUE(sec[0].as_object().contains("bearerAuth"));
  auto& scheme =
      doc.at("components").at("securitySchemes").at("bearerAuth").as_object();
  EXPECT_EQ(scheme.at("scheme").as_string(), "bearer");
}
