// The API's contract against a real node: every bad input of the document
// and thought routes is sent to an in-process node (embedded Kafka, private
// PostgreSQL), and each answer's status and error code must be declared for
// that route in the node's own /openapi.json (`x-error-codes`) — and every
// declared code must be one a real request produced (`unavailable` aside:
// it needs a database outage, tested elsewhere).

#include <gtest/gtest.h>

#include <map>
#include <set>

#include <boost/json.hpp>

#include "actors/node/node.hpp"
#include "bridges/http/auth.hpp"
#include "bridges/http/openapi.hpp"
#include "runtime/core/ids.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/testing.hpp"

namespace {

using namespace std::chrono_literals;
namespace dt = distiller::testing;
namespace node = distiller::node;
namespace json = boost::json;
namespace bhttp = boost::beast::http;

struct bad_input {
  bhttp::verb method;
  std::string target;
  std::string pattern; // the route as registered
  std::string body;
  std::string content_type = "application/json";
  dt::header_list headers = {};
};

std::string multipart(const std::string& filename, const std::string& content,
                      const std::string& field = "file") {
  std::string b = "--XbX\r\nContent-Disposition: form-data; name=\"" + field +
                  "\"; filename=\"" + filename +
                  "\"\r\nContent-Type: text/plain\r\n\r\n" + content +
                  "\r\n--XbX--\r\n";
  return b;
}

class api_contract : public ::testing::Test {
 protected:
  dt::temp_dir dir{"distiller-contract"};
  std::unique_ptr<node::node> n;
  const std::string user_token = "dst_contract-test-user-token";
  const std::string token_user = distiller::make_uuid();

  void SetUp() override {
    node::node_config cfg;
    cfg.runtime.node.name = "contract";
    cfg.runtime.node.data_dir = dir.path().string();
    cfg.kafka.catalog = (dt::source_dir() / "config" / "topics.toml").string();
    cfg.http.port = 0;
    cfg.documents.max_upload_bytes = 1024;
    // A user=<uuid> token: the thought routes' 403 for another user.
    cfg.http.auth.tokens = {
        distiller::http::token_entry_for(user_token, "user=" + token_user)};
    node::resolve_paths(cfg);
    n = std::make_unique<node::node>(cfg);
    n->start();
  }

  void TearDown() override {
    if (n)
      n->stop();
  }
};

} // namespace

TEST_F(api_contract,
       every_error_answer_is_declared_and_every_declared_code_occurs) {
  auto user = distiller::make_uuid();
  const dt::header_list as_user{{"Authorization", "Bearer " + user_token}};
  std::string long_text(10001, 'a');
  std::string huge(200 * 1024, 'x');
  const std::string form = "multipart/form-data; boundary=XbX";
  using V = bhttp::verb;
  std::vector<bad_input> cases{
      // -- thoughts --------------------------------------------------------
      {V::post, "/thoughts", "/thoughts", "not json"},
      {V::post, "/thoughts", "/thoughts", "[1]"},
      {V::post, "/thoughts", "/thoughts", R"({"user_id":")" + user + R"("})"},
      {V::post, "/thoughts", "/thoughts",
       R"({"text":"   ","user_id":")" + user + R"("})"},
      {V::post, "/thoughts", "/thoughts", R"({"text":"hi","user_id":"x"})"},
      {V::post, "/thoughts", "/thoughts", R"({"text":"hi"})"},
      {V::post, "/thoughts", "/thoughts",
       R"({"text":")" + long_text + R"(","user_id":")" + user + R"("})"},
      {V::post, "/thoughts", "/thoughts",
       R"({"text":")" + huge + R"(","user_id":")" + user + R"("})"},
      {V::get, "/thoughts/" + distiller::make_uuid(), "/thoughts/{thought_id}",
       ""},
      {V::get, "/thoughts/nope", "/thoughts/{thought_id}", ""},
      {V::get, "/users/x/thoughts", "/users/{user_id}/thoughts", ""},
      {V::get, "/users/" + user + "/thoughts?limit=0",
       "/users/{user_id}/thoughts", ""},
      {V::get, "/users/" + user + "/thoughts?limit=abc",
       "/users/{user_id}/thoughts", ""},
      {V::get, "/users/" + user + "/thoughts?before=zzz",
       "/users/{user_id}/thoughts", ""},
      {V::post, "/thoughts", "/thoughts",
       R"({"text":"hi","user_id":")" + user + R"("})", "application/json",
       as_user},
      {V::get, "/users/" + user + "/thoughts", "/users/{user_id}/thoughts", "",
       "application/json", as_user},
      {V::get, "/thoughts/stream/" + user, "/thoughts/stream/{user_id}", "",
       "application/json", as_user},
      {V::get, "/thoughts/stream/x", "/thoughts/stream/{user_id}", ""},
      {V::get, "/thoughts/stream/" + user + "?last_event_id=a",
       "/thoughts/stream/{user_id}", ""},
      // -- documents -------------------------------------------------------
      {V::post, "/api/v2/documents/upload", "/api/v2/documents/upload", "plain",
       "text/plain"},
      {V::post, "/api/v2/documents/upload", "/api/v2/documents/upload",
       multipart("a.txt", "abc", "other"), form},
      {V::post, "/api/v2/documents/upload", "/api/v2/documents/upload",
       multipart("a.txt", ""), form},
      {V::post, "/api/v2/documents/upload", "/api/v2/documents/upload",
       multipart("..", "abc"), form},
      {V::post, "/api/v2/documents/upload", "/api/v2/documents/upload",
       multipart("a.exe", "abc"), form},
      {V::post, "/api/v2/documents/upload", "/api/v2/documents/upload",
       multipart("a.txt", std::string(2000, 'y')), form},
      {V::post, "/api/v2/documents/upload", "/api/v2/documents/upload",
       multipart("a.txt", huge), form},
      {V::get, "/api/v2/documents/status/" + distiller::make_uuid(),
       "/api/v2/documents/status/{job_id}", ""},
      {V::get, "/api/v2/documents/jobs?status=x", "/api/v2/documents/jobs", ""},
      {V::get, "/api/v2/documents/jobs?limit=0", "/api/v2/documents/jobs", ""},
      {V::get, "/api/v2/documents/jobs?offset=-1", "/api/v2/documents/jobs",
       ""},
      {V::get, "/api/v2/documents/" + distiller::make_uuid() + "/events",
       "/api/v2/documents/{job_id}/events", ""},
      {V::get, "/api/v2/documents/x/events?last_event_id=a",
       "/api/v2/documents/{job_id}/events", ""},
      {V::get, "/api/v2/documents/" + distiller::make_uuid() + "/file",
       "/api/v2/documents/{job_id}/file", ""},
      {V::post, "/api/v2/query", "/api/v2/query", "{"},
      {V::post, "/api/v2/query", "/api/v2/query", R"({"question":" "})"},
      {V::post, "/api/v2/query", "/api/v2/query",
       R"({"question":"why","top_k":0})"},
      {V::post, "/api/v2/query", "/api/v2/query",
       "{\"question\":\"" + std::string(2001, 'a') + "\"}"},
      {V::post, "/api/v2/query", "/api/v2/query",
       [] {
         std::string q;
         for (int i = 0; i < 65; ++i)
           q += "word" + std::to_string(i) + "x ";
         return "{\"question\":\"" + q + "\"}";
       }()},
  };
  dt::http_client c{n->http_port()};
  auto doc = json::parse(c.get("/openapi.json").body).as_object();
  auto& paths = doc.at("paths").as_object();
  // Which codes each (method, route) was seen to answer.
  std::map<std::pair<std::string, std::string>, std::set<std::string>> seen;
  for (auto& k : cases) {
    dt::http_client one{n->http_port()};
    auto headers = k.headers;
    headers.emplace_back("Content-Type", k.content_type);
    auto r = one.request(k.method, k.target, k.body, headers);
    std::string method{bhttp::to_string(k.method)};
    for (auto& ch : method)
      ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    SCOPED_TRACE(method + " " + k.target.substr(0, 80) + " -> " +
                 std::to_string(r.status) + " " + r.body.substr(0, 200));
    ASSERT_GE(r.status, 400u);
    ASSERT_EQ(r.header("content-type"), "application/json");
    auto body = json::parse(r.body).as_object();
    std::string code{body.at("error").as_string()};
    EXPECT_FALSE(body.at("detail").as_string().empty());
    auto path = distiller::http::openapi_path(k.pattern);
    ASSERT_TRUE(paths.contains(path)) << path;
    auto& op = paths.at(path).at(method).as_object();
    auto& responses = op.at("responses").as_object();
    auto status = std::to_string(r.status);
    ASSERT_TRUE(responses.contains(status)) << "status not declared";
    auto& declared = responses.at(status).as_object();
    ASSERT_TRUE(declared.contains("x-error-codes")) << "no codes declared";
    std::set<std::string> codes;
    for (auto& v : declared.at("x-error-codes").as_array())
      codes.insert(std::string{v.as_string()});
    EXPECT_TRUE(codes.count(code)) << "code '" << code << "' not declared";
    seen[{method, path}].insert(code);
  }
  size_t codes_seen = 0;
  for (auto& [key, codes] : seen)
    codes_seen += codes.size();
  std::printf("%zu bad inputs over %zu routes: %zu distinct error codes, "
              "each declared in /openapi.json\n",
              cases.size(), seen.size(), codes_seen);
  EXPECT_EQ(seen.size(), 10u); // 4 thought routes, 6 document routes
  // The other way round: what the document declares for these routes was
  // produced by some request (unavailable needs an outage).
  for (auto& [key, codes] : seen) {
    auto& responses =
        paths.at(key.second).at(key.first).at("responses").as_object();
    for (auto& [status, resp] : responses) {
      auto* list = resp.as_object().if_contains("x-error-codes");
      if (!list)
        continue;
      for (auto& v : list->as_array()) {
        std::string code{v.as_string()};
        if (code == "unavailable")
          continue;
        EXPECT_TRUE(codes.count(code))
            << key.first << " " << key.second << " declares " << code << " ("
            << status << ") but no request produced it";
      }
    }
  }
  // A good submission is the declared 202.
  auto ok = c.post("/thoughts", json::serialize(json::object{
                                    {"text", "fine"}, {"user_id", user}}));
  EXPECT_EQ(ok.status, 202u) << ok.body;
  EXPECT_TRUE(paths.at("/thoughts")
                  .at("post")
                  .at("responses")
                  .as_object()
                  .contains("202"));
}
