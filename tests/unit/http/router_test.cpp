// Unit tests of the HTTP façade's routing and message helpers: pattern
// matching, parameters, 404/405, query decoding, SSE event formatting.
// No sockets.

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "bridges/http/router.hpp"
#include "bridges/http/sse_stream.hpp"
#include "bridges/http/url.hpp"

using namespace distiller::http;
namespace bhttp = boost::beast::http;

namespace {

handler noop() {
  return [](request&&, responder) {
  };
}

std::string pattern_of(const route_match& m) {
  return m.route ? m.route->pattern : std::string{};
}

} // namespace

// -- patterns and parameters -------------------------------------------------

TEST(router, literal_path_matches_exactly) {
  router r;
  r.add(bhttp::verb::get, "/health", noop());
  EXPECT_TRUE(r.match(bhttp::verb::get, "/health").found());
  EXPECT_TRUE(r.match(bhttp::verb::get, "/health/").found());
  EXPECT_FALSE(r.match(bhttp::verb::get, "/healthz").found());
  EXPECT_FALSE(r.match(bhttp::verb::get, "/health/x").found());
  EXPECT_FALSE(r.match(bhttp::verb::get, "/").found());
}

TEST(router, root_pattern) {
  router r;
  r.add(bhttp::verb::get, "/", noop());
  EXPECT_TRUE(r.match(bhttp::verb::get, "/").found());
  EXPECT_FALSE(r.match(bhttp::verb::get, "/x").found());
}

TEST(router, parameters_are_extracted_and_decoded) {
  router r;
  r.add(bhttp::verb::get, "/api/v2/documents/status/{job_id}", noop());
  auto m = r.match(bhttp::verb::get, "/api/v2/documents/status/abc-123");
  ASSERT_TRUE(m.found());
  EXPECT_EQ(m.params.at("job_id"), "abc-123");
  EXPECT_EQ(pattern_of(m), "/api/v2/documents/status/{job_id}");
  m = r.match(bhttp::verb::get, "/api/v2/documents/status/a%20b%2Fc");
  ASSERT_TRUE(m.found());
  EXPECT_EQ(m.params.at("job_id"), "a b/c"); // %2F does not split segments
  EXPECT_FALSE(r.match(bhttp::verb::get, "/api/v2/documents/status").found());
  EXPECT_FALSE(
      r.match(bhttp::verb::get, "/api/v2/documents/status/a/b").found());
}

TEST(router, several_parameters) {
  router r;
  r.add(bhttp::verb::get, "/users/{user_id}/thoughts/{thought_id}", noop());
  auto m = r.match(bhttp::verb::get, "/users/u1/thoughts/t9");
  ASSERT_TRUE(m.found());
  EXPECT_EQ(m.params.at("user_id"), "u1");
  EXPECT_EQ(m.params.at("thought_id"), "t9");
}

TEST(router, literal_beats_parameter) {
  router r;
  r.add(bhttp::verb::get, "/api/v2/documents/{job_id}", noop());
  r.add(bhttp::verb::get, "/api/v2/documents/jobs", noop());
  auto m = r.match(bhttp::verb::get, "/api/v2/documents/jobs");
  ASSERT_TRUE(m.found());
  EXPECT_EQ(pattern_of(m), "/api/v2/documents/jobs");
  m = r.match(bhttp::verb::get, "/api/v2/documents/j-1");
  ASSERT_TRUE(m.found());
  EXPECT_EQ(pattern_of(m), "/api/v2/documents/{job_id}");
}

TEST(router, specific_stream_route_next_to_parameter_route) {
  router r;
  r.add(bhttp::verb::get, "/thoughts/{id}", noop());
  r.add(bhttp::verb::get, "/thoughts/stream/{user_id}", noop());
  auto m = r.match(bhttp::verb::get, "/thoughts/stream/u7");
  ASSERT_TRUE(m.found());
  EXPECT_EQ(pattern_of(m), "/thoughts/stream/{user_id}");
  EXPECT_EQ(m.params.at("user_id"), "u7");
  m = r.match(bhttp::verb::get, "/thoughts/t1");
  ASSERT_TRUE(m.found());
  EXPECT_EQ(m.params.at("id"), "t1");
}

TEST(router, rest_parameter_takes_remaining_segments) {
  router r;
  r.add(bhttp::verb::get, "/static/{file...}", noop());
  auto m = r.match(bhttp::verb::get, "/static/css/site%20a.css");
  ASSERT_TRUE(m.found());
  EXPECT_EQ(m.params.at("file"), "css/site a.css");
  m = r.match(bhttp::verb::get, "/static");
  ASSERT_TRUE(m.found());
  EXPECT_EQ(m.params.at("file"), "");
}

TEST(router, malformed_patterns_are_rejected) {
  router r;
  EXPECT_THROW(r.add(bhttp::verb::get, "health", noop()),
               std::invalid_argument);
  EXPECT_THROW(r.add(bhttp::verb::get, "/a/{", noop()), std::invalid_argument);
  EXPECT_THROW(r.add(bhttp::verb::get, "/a/{}", noop()), std::invalid_argument);
  EXPECT_THROW(r.add(bhttp::verb::get, "/a/x{id}", noop()),
               std::invalid_argument);
  EXPECT_THROW(r.add(bhttp::verb::get, "/a/{id}/{id}", noop()),
               std::invalid_argument);
  EXPECT_THROW(r.add(bhttp::verb::get, "/a/{rest...}/b", noop()),
               std::invalid_argument);
  EXPECT_THROW(r.add(bhttp::verb::get, "/a", handler{}), std::invalid_argument);
}

TEST(router, duplicate_routes_are_rejected) {
  router r;
  r.add(bhttp::verb::get, "/jobs/{id}", noop());
  EXPECT_THROW(r.add(bhttp::verb::get, "/jobs/{other}", noop()),
               std::invalid_argument);
  EXPECT_NO_THROW(r.add(bhttp::verb::delete_, "/jobs/{id}", noop()));
  EXPECT_EQ(r.routes().size(), 2u);
}

TEST(router, route_options_are_kept) {
  router r;
  r.add(bhttp::verb::post, "/upload", noop(),
        {.max_body_bytes = 1024, .timeout = std::chrono::milliseconds{250}});
  auto m = r.match(bhttp::verb::post, "/upload");
  ASSERT_TRUE(m.found());
  EXPECT_EQ(m.route->options.max_body_bytes, 1024u);
  EXPECT_EQ(m.route->options.timeout, std::chrono::milliseconds{250});
}

// -- 404 and 405 -------------------------------------------------------------

TEST(router, unknown_path_is_404_with_json_error) {
  router r;
  r.add(bhttp::verb::get, "/health", noop());
  auto m = r.match(bhttp::verb::get, "/x");
  EXPECT_EQ(m.result, route_match::outcome::not_found);
  auto res = router::reject(m, bhttp::verb::get, "GET", "/x");
  EXPECT_EQ(res.status, 404u);
  EXPECT_EQ(res.content_type, "application/json");
  auto body = boost::json::parse(res.body).as_object();
  EXPECT_EQ(body.at("error").as_string(), "not_found");
  EXPECT_EQ(body.at("detail").as_string(), "no route for GET /x");
}

TEST(router, wrong_method_is_405_with_allow) {
  router r;
  r.add(bhttp::verb::get, "/jobs/{id}", noop());
  r.add(bhttp::verb::delete_, "/jobs/{id}", noop());
  auto m = r.match(bhttp::verb::post, "/jobs/1");
  EXPECT_EQ(m.result, route_match::outcome::method_not_allowed);
  EXPECT_EQ(m.allow, "DELETE, GET, HEAD");
  auto res = router::reject(m, bhttp::verb::post, "POST", "/jobs/1");
  EXPECT_EQ(res.status, 405u);
  EXPECT_EQ(res.header("allow"), "DELETE, GET, HEAD");
  auto body = boost::json::parse(res.body).as_object();
  EXPECT_EQ(body.at("error").as_string(), "method_not_allowed");
  EXPECT_NE(std::string{body.at("detail").as_string()}.find("POST"),
            std::string::npos);
}

TEST(router, head_falls_back_to_get) {
  router r;
  r.add(bhttp::verb::get, "/health", noop());
  auto m = r.match(bhttp::verb::head, "/health");
  ASSERT_TRUE(m.found());
  EXPECT_EQ(m.route->method, bhttp::verb::get);
  r.add(bhttp::verb::post, "/only-post", noop());
  EXPECT_EQ(r.match(bhttp::verb::head, "/only-post").result,
            route_match::outcome::method_not_allowed);
}

TEST(router, unknown_method_text_is_reported) {
  router r;
  r.add(bhttp::verb::get, "/a", noop());
  auto m = r.match(bhttp::verb::unknown, "/nowhere");
  auto res = router::reject(m, bhttp::verb::unknown, "BREW", "/nowhere");
  auto body = boost::json::parse(res.body).as_object();
  EXPECT_EQ(body.at("detail").as_string(), "no route for BREW /nowhere");
}

// -- targets and queries -----------------------------------------------------

TEST(url, split_target) {
  auto t = split_target("/a/b?x=1&y=2");
  EXPECT_EQ(t.path, "/a/b");
  EXPECT_EQ(t.query, "x=1&y=2");
  t = split_target("/a#frag");
  EXPECT_EQ(t.path, "/a");
  EXPECT_EQ(t.query, "");
  t = split_target("http://example.com:8000/p/q?z=1");
  EXPECT_EQ(t.path, "/p/q");
  EXPECT_EQ(t.query, "z=1");
  t = split_target("http://example.com");
  EXPECT_EQ(t.path, "/");
  t = split_target("?only=query");
  EXPECT_EQ(t.path, "/");
  EXPECT_EQ(t.query, "only=query");
}

TEST(url, percent_decode) {
  EXPECT_EQ(percent_decode("a%20b"), "a b");
  EXPECT_EQ(percent_decode("a+b"), "a+b");
  EXPECT_EQ(percent_decode("a+b", true), "a b");
  EXPECT_EQ(percent_decode("%e2%82%AC"), "\xe2\x82\xac");
  EXPECT_EQ(percent_decode("100%"), "100%");
  EXPECT_EQ(percent_decode("%zz%4"), "%zz%4");
}

TEST(url, query_decoding) {
  auto q = parse_query("a=b&c=d%20e&f=g+h&empty=&flag&&x=1&x=2&k%3D=v%26");
  EXPECT_EQ(q.at("a"), "b");
  EXPECT_EQ(q.at("c"), "d e");
  EXPECT_EQ(q.at("f"), "g h");
  EXPECT_EQ(q.at("empty"), "");
  EXPECT_EQ(q.at("flag"), "");
  EXPECT_EQ(q.at("x"), "1"); // the first value wins
  EXPECT_EQ(q.at("k="), "v&");
  EXPECT_EQ(q.size(), 7u);
  EXPECT_TRUE(parse_query("").empty());
}

// -- responses and events ----------------------------------------------------

TEST(response, error_body_shape) {
  auto r = response::error(413, "payload_too_large", "too big");
  EXPECT_EQ(r.status, 413u);
  auto body = boost::json::parse(r.body).as_object();
  EXPECT_EQ(body.size(), 2u);
  EXPECT_EQ(body.at("error").as_string(), "payload_too_large");
  EXPECT_EQ(body.at("detail").as_string(), "too big");
}

// Found by router_fuzz: a path with a byte that is not UTF-8 ("/api/\xb6")
// was quoted raw into the 404's detail, and the body was no longer JSON.
TEST(router, not_found_for_a_path_that_is_not_utf8_is_json) {
  router r;
  r.add(bhttp::verb::get, "/api/v2/documents/jobs", noop());
  std::string path = "/api/\xb6"
                     "2/documents/jobs";
  auto m = r.match(bhttp::verb::get, path);
  auto res = router::reject(m, bhttp::verb::get, "GET", path);
  EXPECT_EQ(res.status, 404u);
  boost::system::error_code ec;
  auto v = boost::json::parse(res.body, ec);
  ASSERT_FALSE(ec) << res.body;
  EXPECT_EQ(v.at("detail").as_string(), "no route for GET /api/\xEF\xBF\xBD"
                                        "2/documents/jobs");
}

TEST(response, error_details_are_made_valid_utf8) {
  // Stray continuation, truncated sequence, overlong, surrogate, > U+10FFFF;
  // well-formed sequences (é, €, 😀) are kept.
  auto r = response::error(400, "bad",
                           "a\x80"
                           "b\xC3 \xC0\xAF \xED\xA0\x80 "
                           "\xF4\x90\x80\x80 \xC3\xA9\xE2\x82\xAC"
                           "\xF0\x9F\x98\x80");
  boost::system::error_code ec;
  auto v = boost::json::parse(r.body, ec);
  ASSERT_FALSE(ec) << r.body;
  const std::string bad = "\xEF\xBF\xBD";
  EXPECT_EQ(v.at("detail").as_string(),
            "a" + bad + "b" + bad + " " + bad + bad + " " + bad + bad + bad +
                " " + bad + bad + bad + bad +
                " \xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
}

TEST(response, text_and_headers) {
  auto r = response::text(200, "hi");
  EXPECT_EQ(r.content_type, "text/plain; charset=utf-8");
  r.with_header("X-A", "1");
  EXPECT_EQ(r.header("x-a"), "1");
  EXPECT_EQ(r.header("x-b"), "");
}

TEST(sse_format, fields_and_multiline_data) {
  EXPECT_EQ(sse_stream::format("progress", "{\"k\":1}", "7"),
            "id: 7\nevent: progress\ndata: {\"k\":1}\n\n");
  EXPECT_EQ(sse_stream::format("", "a\nb\r\nc", ""),
            "data: a\ndata: b\ndata: c\n\n");
  EXPECT_EQ(sse_stream::format("e", "", ""), "event: e\ndata: \n\n");
  // A newline in the event name or id cannot start a new field.
  EXPECT_EQ(sse_stream::format("a\nb", "x", "1\r\n2"),
            "id: 12\nevent: ab\ndata: x\n\n");
}
