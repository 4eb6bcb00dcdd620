// API tokens end to end, as a user meets them: `distiller auth token`
// makes the tokens, a whole node (`distiller up`, embedded Kafka, private
// PostgreSQL) requires them, a user token sees only its user's thoughts
// (routes and stream), and the shell and the load tool pass a token.

#include <gtest/gtest.h>

#include <filesystem>

#include <boost/json.hpp>

#include "runtime/core/ids.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/testing.hpp"

namespace {

using namespace std::chrono_literals;
namespace dt = distiller::testing;
namespace fs = std::filesystem;
namespace json = boost::json;

struct made_token {
  std::string token;
  std::string entry;
};

made_token make(const std::string& scope) {
  auto r = dt::run_process(
      {dt::distiller_binary(), "auth", "token", "--scope", scope, "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto v = json::parse(r.out).as_object();
  return {std::string{v.at("token").as_string()},
          std::string{v.at("entry").as_string()}};
}

dt::header_list bearer(const std::string& token) {
  return {{"Authorization", "Bearer " + token}};
}

std::string catalog() {
  return (dt::source_dir() / "config" / "topics.toml").string();
}

class api_tokens : public ::testing::Test {
 protected:
  dt::temp_dir dir{"distiller-e2e-auth"};
  std::string user = distiller::make_uuid();
  std::string other = distiller::make_uuid();
  made_token admin = make("admin");
  made_token mine = make("user=" + user);
  std::unique_ptr<dt::child_process> node;
  uint16_t port = 0;

  void SetUp() override {
    node = std::make_unique<dt::child_process>(
        std::vector<std::string>{dt::distiller_binary(), "up", "--port", "0",
                                 "--data-dir", dir.path().string(), "--set",
                                 "kafka.catalog=" + catalog(), "--set",
                                 "auth.required=true"},
        // Both entries through the environment, as a list.
        std::vector<std::string>{"DISTILLER_AUTH_TOKENS=" + admin.entry + "," +
                                 mine.entry});
    auto file = dir / "node.json";
    ASSERT_TRUE(dt::wait_until(
        [&] {
          if (!node->running())
            return true;
          try {
            auto info = json::parse(dt::read_file(file)).as_object();
            port = static_cast<uint16_t>(info.at("http_port").as_int64());
            return info.at("pid").as_int64() == node->pid();
          } catch (const std::exception&) {
            return false;
          }
        },
        180s, 50ms));
    ASSERT_TRUE(node->running()) << node->err();
    ASSERT_TRUE(dt::wait_until(
        [&] {
          try {
            return dt::http_client{port}.get("/ready").status == 200;
          } catch (const std::exception&) {
            return false;
          }
        },
        120s, 100ms));
  }

  void TearDown() override {
    if (node && node->running()) {
      node->signal(SIGTERM);
      EXPECT_EQ(node->wait(60s), 0) << node->err();
    }
  }

  std::string submit(const std::string& token, const std::string& for_user) {
    dt::http_client c{port};
    auto r = c.post("/thoughts",
                    json::serialize(json::object{{"text", "tokens and scopes"},
                                                 {"user_id", for_user}}),
                    bearer(token));
    EXPECT_EQ(r.status, 202u) << r.body;
    return r.status == 202
               ? std::string{json::parse(r.body).at("thought_id").as_string()}
               : std::string{};
  }
};

} // namespace

TEST(api_tokens_config, a_listener_off_loopback_without_tokens_is_refused) {
  auto r = dt::run_process({dt::distiller_binary(), "config", "check", "--set",
                            "http.host=0.0.0.0"});
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.err.find("auth.tokens"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("distiller auth token"), std::string::npos) << r.err;
  auto t = make("admin");
  auto ok =
      dt::run_process({dt::distiller_binary(), "config", "check", "--set",
                       "http.host=0.0.0.0", "--set", "auth.tokens=" + t.entry});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  // `config show` never prints the entries.
  auto show = dt::run_process({dt::distiller_binary(), "config", "show",
                               "--set", "auth.tokens=" + t.entry});
  EXPECT_EQ(show.exit_code, 0) << show.err;
  EXPECT_EQ(show.out.find(t.entry.substr(7, 64)), std::string::npos);
  auto bad = dt::run_process({dt::distiller_binary(), "config", "check",
                              "--set", "auth.tokens=sha256:abc:admin"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("auth.tokens"), std::string::npos) << bad.err;
}

TEST_F(api_tokens, a_user_token_sees_only_its_users_thoughts) {
  dt::http_client c{port};
  // Nothing without a token but the public routes.
  EXPECT_EQ(c.get("/api/v2/documents/jobs").status, 401u);
  EXPECT_EQ(c.get("/health").status, 200u);
  EXPECT_EQ(c.get("/").status, 200u);
  EXPECT_EQ(c.get("/openapi.json").status, 200u);

  auto own = submit(mine.token, user);
  auto theirs = submit(admin.token, other);
  ASSERT_FALSE(own.empty());
  ASSERT_FALSE(theirs.empty());
  // Another user's thought does not exist for this token; its owner's list
  // and stream are forbidden; submitting in its name too.
  EXPECT_EQ(c.get("/thoughts/" + theirs, bearer(mine.token)).status, 404u);
  EXPECT_EQ(c.get("/thoughts/" + theirs, bearer(admin.token)).status, 200u);
  EXPECT_EQ(c.get("/users/" + other + "/thoughts", bearer(mine.token)).status,
            403u);
  EXPECT_EQ(
      c.post("/thoughts",
             json::serialize(json::object{{"text", "x"}, {"user_id", other}}),
             bearer(mine.token))
          .status,
      403u);
  EXPECT_EQ(
      c.get("/thoughts/stream/" + other + "?access_token=" + mine.token).status,
      403u);
  // Its own thought completes and is listed.
  ASSERT_TRUE(dt::wait_until(
      [&] {
        auto r =
            dt::http_client{port}.get("/thoughts/" + own, bearer(mine.token));
        return r.status == 200 &&
               json::parse(r.body).at("status").as_string() == "completed";
      },
      60s, 100ms));
  auto list = c.get("/users/" + user + "/thoughts", bearer(mine.token));
  ASSERT_EQ(list.status, 200u) << list.body;
  auto items = json::parse(list.body).at("thoughts").as_array();
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].at("thought_id").as_string(), own);
}

TEST_F(api_tokens, the_shell_and_the_load_tool_pass_a_token) {
  auto address = "127.0.0.1:" + std::to_string(port);
  auto refused = dt::run_process(
      {dt::distiller_binary(), "shell", "--node", address, "-c", "nodes"});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE((refused.out + refused.err).find("401"), std::string::npos)
      << refused.out << refused.err;
  auto shell = dt::run_process(
      {dt::distiller_binary(), "shell", "--node", address, "-c", "nodes"},
      {"DISTILLER_TOKEN=" + admin.token});
  EXPECT_EQ(shell.exit_code, 0) << shell.out << shell.err;

  auto report = dir / "load.json";
  auto load = dt::run_process({dt::distiller_binary(),
                               "load",
                               "thoughts",
                               "--target",
                               "http://" + address,
                               "--token",
                               admin.token,
                               "-n",
                               "10",
                               "--users",
                               "2",
                               "--rate",
                               "20",
                               "--quiet",
                               "--json",
                               report.string(),
                               "--drain",
                               "60s",
                               "--threshold",
                               "errors<1%"},
                              {}, 180s);
  EXPECT_EQ(load.exit_code, 0) << load.out << load.err;
  auto text = dt::read_file(report);
  EXPECT_EQ(text.find(admin.token), std::string::npos)
      << "the report shows the token";
}
