// The chat agent against a fake OpenAI-compatible /v1/chat/completions
// server on 127.0.0.1 (port 0) that records what it receives and can be
// told to answer badly, fail or hang.

#include "actors/thoughts/agents/chat_agent.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "actors/thoughts/agents/builtin.hpp"
#include "actors/thoughts/agents/text.hpp"

using namespace distiller::thoughts;
using namespace std::chrono_literals;
using ::testing::HasSubstr;

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;

namespace {

/// A chat-completions endpoint. It checks the route and the bearer token
/// like the real service (404 / 401), answers `content` as the assistant's
/// message, or a status, or nothing at all.
class fake_chat_server {
 public:
  enum class mode { answer, status, hang };

  struct request_seen {
    std::string target;
    std::string authorization; // "(none)" when absent
    json::object body;
  };

  explicit fake_chat_server(std::string api_key = "sekrit")
      : api_key_(std::move(api_key)),
        acceptor_(ioc_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    port_ = acceptor_.local_endpoint().port();
    accept_thread_ = std::thread([this] { accept_loop(); });
  }

  ~fake_chat_server() {
    {
      std::lock_guard guard(mtx_);
      stopping_ = true;
    }
    cv_.notify_all();
    try { // wake the blocking accept
      asio::io_context ioc;
      tcp::socket s(ioc);
      s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
    } catch (...) {
    }
    accept_thread_.join();
    for (auto& t : connections_)
      t.join();
  }

  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(port_);
  }

  /// Answer with 200 and this assistant message content.
  void answer(std::string content) {
    std::lock_guard guard(mtx_);
    mode_ = mode::answer;
    content_ = std::move(content);
  }

  /// Answer with this status and body.
  void fail_with(http::status status, std::string body) {
    std::lock_guard guard(mtx_);
    mode_ = mode::status;
    status_ = status;
    content_ = std::move(body);
  }

  /// Read the request and never answer.
  void hang() {
    std::lock_guard guard(mtx_);
    mode_ = mode::hang;
  }

  std::vector<request_seen> requests() const {
    std::lock_guard guard(mtx_);
    return requests_;
  }

 private:
  void accept_loop() {
    for (;;) {
      tcp::socket socket(ioc_);
      beast::error_code ec;
      acceptor_.accept(socket, ec);
      std::lock_guard guard(mtx_);
      if (stopping_)
        return;
      if (ec)
        continue;
      connections_.emplace_back(
          [this, s = std::move(socket)]() mutable { serve(std::move(s)); });
    }
  }

  void serve(tcp::socket socket) {
    beast::flat_buffer buffer;
    http::request<http::string_body> req;
    beast::error_code ec;
    http::read(socket, buffer, req, ec);
    if (ec)
      return;
    http::response<http::string_body> res{http::status::ok, req.version()};
    res.set(http::field::content_type, "application/json");
    {
      std::unique_lock lock(mtx_);
      if (req.method() != http::verb::post ||
          req.target() != "/v1/chat/completions") {
        res.result(http::status::not_found);
        res.body() = R"({"error":"no such route"})";
      } else {
        request_seen seen;
        seen.target = std::string(req.target());
        const auto auth = req.find(http::field::authorization);
        seen.authorization =
            auth == req.end() ? "(none)" : std::string(auth->value());
        auto body = json::parse(req.body(), ec);
        if (!ec && body.is_object())
          seen.body = body.as_object();
        requests_.push_back(std::move(seen));
        if (!api_key_.empty() &&
            requests_.back().authorization != "Bearer " + api_key_) {
          res.result(http::status::unauthorized);
          res.body() = R"({"error":{"message":"Incorrect API key"}})";
        } else if (ec) {
          res.result(http::status::bad_request);
          res.body() = R"({"error":"body is not JSON"})";
        } else if (mode_ == mode::hang) {
          cv_.wait_for(lock, 30s, [&] { return stopping_; });
          return;
        } else if (mode_ == mode::status) {
          res.result(status_);
          res.body() = content_;
        } else {
          res.body() = json::serialize(json::object{
              {"id", "chatcmpl-1"},
              {"object", "chat.completion"},
              {"choices", json::array{json::object{
                              {"index", 0},
                              {"message", json::object{{"role", "assistant"},
                                                       {"content", content_}}},
                              {"finish_reason", "stop"}}}}});
        }
      }
    }
    res.prepare_payload();
    http::write(socket, res, ec);
    socket.shutdown(tcp::socket::shutdown_both, ec);
  }

  std::string api_key_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  mutable std::mutex mtx_;
  std::condition_variable cv_;
  bool stopping_ = false;
  mode mode_ = mode::answer;
  http::status status_ = http::status::ok;
  std::string content_;
  std::vector<request_seen> requests_;
  std::thread accept_thread_;
  std::vector<std::thread> connections_;
};

chat_agent_config config_for(const fake_chat_server& server) {
  chat_agent_config c;
  c.url = server.url();
  c.model = "test-chat-1";
  c.api_key = "sekrit";
  c.timeout = 5s;
  return c;
}

agent_input input(const std::string& text = "Call the bank by Friday.") {
  agent_input in;
  in.thought_id = "t-1";
  in.user_id = "u-1";
  in.text = text;
  in.created_at = "2026-12-01T09:00:00Z";
  return in;
}

const std::string classification =
    R"({"category":"task","confidence":0.9,"scores":{"idea":0.02,)"
    R"("task":0.9,"question":0.02,"concern":0.03,"reflection":0.03},)"
    R"("signals":["imperative 'call'"]})";

/// The agent_error that `f` throws; fails the test if none.
template <class F>
agent_error error_of(F f) {
  try {
    f();
  } catch (const agent_error& e) {
    return e;
  }
  ADD_FAILURE() << "no agent_error";
  return agent_error("", false);
}

// -- success -----------------------------------------------------------------

TEST(chat_agent, sends_the_request_and_returns_the_answer) {
  fake_chat_server server;
  server.answer(classification);
  const auto a = make_chat_agent(agent_kind::classify, config_for(server));
  EXPECT_EQ(a->kind(), agent_kind::classify);
  EXPECT_EQ(a->backend(), "test-chat-1");
  const auto result = a->run(input());
  EXPECT_EQ(json::serialize(result),
            json::serialize(json::parse(classification)));

  const auto seen = server.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].target, "/v1/chat/completions");
  EXPECT_EQ(seen[0].authorization, "Bearer sekrit");
  const auto& body = seen[0].body;
  EXPECT_EQ(body.at("model"), "test-chat-1");
  EXPECT_EQ(body.at("temperature").to_number<double>(), 0.0);
  EXPECT_EQ(body.at("response_format").at("type"), "json_object");
  const auto& messages = body.at("messages").as_array();
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].at("role"), "system");
  const std::string system(messages[0].at("content").as_string());
  for (const char* field : {"\"category\"", "\"confidence\"", "\"scores\"",
                            "\"signals\"", "reflection"})
    EXPECT_THAT(system, HasSubstr(field));
  EXPECT_EQ(messages[1].at("role"), "user");
  const auto user =
      json::parse(std::string(messages[1].at("content").as_string()));
  EXPECT_EQ(user.at("text"), "Call the bank by Friday.");
  EXPECT_EQ(user.at("created_at"), "2026-12-01T09:00:00Z");
  EXPECT_TRUE(user.at("previous").as_object().empty()); // step 1
}

TEST(chat_agent, passes_only_the_earlier_results) {
  fake_chat_server server;
  server.answer(R"({"actions":[{"text":"Call the bank","due":"2026-12-04",)"
                R"("due_text":"by Friday","priority":"medium"}],)"
                R"("next_step":"Call the bank"})");
  agent_input in = input();
  for (auto k : all_agents)
    in.previous[static_cast<size_t>(k)] = run_builtin(k, in);
  const auto a = make_chat_agent(agent_kind::plan, config_for(server));
  const auto result = a->run(in);
  EXPECT_EQ(result.at("next_step"), "Call the bank");
  const auto seen = server.requests();
  ASSERT_EQ(seen.size(), 1u);
  const auto user = json::parse(
      std::string(seen[0].body.at("messages").at(1).at("content").as_string()));
  const auto& previous = user.at("previous").as_object();
  EXPECT_EQ(previous.size(), 3u);
  EXPECT_TRUE(previous.contains("classification"));
  EXPECT_TRUE(previous.contains("analysis"));
  EXPECT_TRUE(previous.contains("value"));
  EXPECT_FALSE(previous.contains("plan"));
  EXPECT_EQ(previous.at("classification").at("category"), "task");
  const std::string system(
      seen[0].body.at("messages").at(0).at("content").as_string());
  EXPECT_THAT(system, HasSubstr("\"next_step\""));
  EXPECT_THAT(system, HasSubstr("\"due_text\""));
}

TEST(chat_agent, accepts_fenced_json_and_text_around_it) {
  fake_chat_server server;
  const auto a = make_chat_agent(agent_kind::classify, config_for(server));
  server.answer("```json\n" + classification + "\n```");
  EXPECT_EQ(a->run(input()).at("category"), "task");
  server.answer("Here is the result:\n```\n" + classification +
                "\n```\nHope this helps.");
  EXPECT_EQ(a->run(input()).at("category"), "task");
}

TEST(chat_agent, the_builtin_results_are_valid_answers) {
  fake_chat_server server;
  const agent_input in = input("Why does the build take so long?");
  for (auto k : all_agents) {
    const auto builtin = run_builtin(k, in);
    server.answer(json::serialize(builtin));
    const auto a = make_chat_agent(k, config_for(server));
    EXPECT_EQ(json::serialize(a->run(in)), json::serialize(builtin))
        << agent_name(k);
  }
}

TEST(chat_agent, sends_valid_utf8_and_no_token_without_a_key) {
  fake_chat_server server("");
  server.answer(classification);
  auto c = config_for(server);
  c.api_key.clear();
  const auto a = make_chat_agent(agent_kind::classify, c);
  a->run(input("broken \xff\xfe text"));
  const auto seen = server.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].authorization, "(none)");
  const auto user = json::parse(
      std::string(seen[0].body.at("messages").at(1).at("content").as_string()));
  const std::string text(user.at("text").as_string());
  EXPECT_TRUE(text::is_valid_utf8(text));
  EXPECT_THAT(text, HasSubstr("\xEF\xBF\xBD"));
}

TEST(chat_agent, a_url_ending_in_v1_gets_only_chat_completions) {
  fake_chat_server server;
  server.answer(classification);
  auto c = config_for(server);
  c.url = server.url() + "/v1/";
  make_chat_agent(agent_kind::classify, c)->run(input());
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].target, "/v1/chat/completions");
  // Another prefix is kept, and this server has no such route.
  c.url = server.url() + "/proxy";
  const auto err =
      error_of([&] { make_chat_agent(agent_kind::classify, c)->run(input()); });
  EXPECT_FALSE(err.retryable());
  EXPECT_THAT(err.what(), HasSubstr("/proxy/v1/chat/completions"));
  EXPECT_THAT(err.what(), HasSubstr("HTTP 404"));
}

// -- errors ------------------------------------------------------------------

TEST(chat_agent, malformed_answers_are_retryable) {
  fake_chat_server server;
  const auto a = make_chat_agent(agent_kind::classify, config_for(server));
  server.answer("I think this is a task.");
  auto err = error_of([&] { a->run(input()); });
  EXPECT_TRUE(err.retryable());
  EXPECT_THAT(err.what(), HasSubstr("malformed answer"));
  EXPECT_THAT(err.what(), HasSubstr("classify agent"));

  server.answer(R"({"category":"task","confidence":0.9})");
  err = error_of([&] { a->run(input()); });
  EXPECT_TRUE(err.retryable());
  EXPECT_THAT(err.what(), HasSubstr("malformed answer: missing field "
                                    "'scores'"));

  server.answer(R"({"category":"urgent","confidence":0.9,"scores":{},)"
                R"("signals":[]})");
  err = error_of([&] { a->run(input()); });
  EXPECT_TRUE(err.retryable());
  EXPECT_THAT(err.what(), HasSubstr("field 'category' is \"urgent\""));

  server.answer(R"({"category":"task","confidence":7,"scores":{},)"
                R"("signals":[]})");
  err = error_of([&] { a->run(input()); });
  EXPECT_THAT(err.what(), HasSubstr("'confidence' is not a number from 0 "
                                    "to 1"));

  server.answer(R"({"category": "task", "confidence": )");
  err = error_of([&] { a->run(input()); });
  EXPECT_TRUE(err.retryable());
  EXPECT_THAT(err.what(), HasSubstr("malformed answer"));
}

TEST(chat_agent, parse_chat_response_checks_the_completion_shape) {
  auto err = error_of(
      [] { parse_chat_response(agent_kind::plan, R"({"choices":[]})"); });
  EXPECT_TRUE(err.retryable());
  EXPECT_THAT(err.what(), HasSubstr("no choices[0].message.content"));
  err = error_of([] { parse_chat_response(agent_kind::plan, "<html>"); });
  EXPECT_THAT(err.what(), HasSubstr("not JSON"));
  const auto ok = parse_chat_response(
      agent_kind::plan, R"({"choices":[{"message":{"content":)"
                        R"("{\"actions\":[],\"next_step\":null}"}}]})");
  EXPECT_TRUE(ok.at("next_step").is_null());
}

TEST(chat_agent, server_errors_and_rate_limits_are_retryable) {
  fake_chat_server server;
  const auto a = make_chat_agent(agent_kind::analyse, config_for(server));
  server.fail_with(http::status::internal_server_error,
                   "upstream exploded\n(trace)");
  auto err = error_of([&] { a->run(input()); });
  EXPECT_TRUE(err.retryable());
  EXPECT_THAT(err.what(), HasSubstr("HTTP 500"));
  EXPECT_THAT(err.what(), HasSubstr("upstream exploded (trace)"));
  EXPECT_THAT(err.what(), HasSubstr(server.url() + "/v1/chat/completions"));

  server.fail_with(http::status::too_many_requests, R"({"error":"slow down"})");
  err = error_of([&] { a->run(input()); });
  EXPECT_TRUE(err.retryable());
  EXPECT_THAT(err.what(), HasSubstr("HTTP 429"));

  server.fail_with(http::status::request_timeout, "");
  EXPECT_TRUE(error_of([&] { a->run(input()); }).retryable());

  server.fail_with(http::status::service_unavailable, std::string(5000, 'x'));
  err = error_of([&] { a->run(input()); });
  EXPECT_TRUE(err.retryable());
  EXPECT_LT(std::string(err.what()).size(), 500u); // the body is cut
}

TEST(chat_agent, client_errors_are_not_retryable) {
  fake_chat_server server;
  const auto a = make_chat_agent(agent_kind::value, config_for(server));
  server.fail_with(http::status::bad_request,
                   R"({"error":{"message":"unknown model"}})");
  auto err = error_of([&] { a->run(input()); });
  EXPECT_FALSE(err.retryable());
  EXPECT_THAT(err.what(), HasSubstr("HTTP 400"));
  EXPECT_THAT(err.what(), HasSubstr("unknown model"));

  auto c = config_for(server);
  c.api_key = "wrong";
  server.answer(classification);
  err = error_of([&] { make_chat_agent(agent_kind::value, c)->run(input()); });
  EXPECT_FALSE(err.retryable());
  EXPECT_THAT(err.what(), HasSubstr("HTTP 401"));
  EXPECT_EQ(server.requests().back().authorization, "Bearer wrong");
}

TEST(chat_agent, a_silent_server_times_out_within_the_deadline) {
  fake_chat_server server;
  server.hang();
  auto c = config_for(server);
  c.timeout = 300ms;
  const auto a = make_chat_agent(agent_kind::summarise, c);
  const auto start = std::chrono::steady_clock::now();
  auto call = std::async(std::launch::async,
                         [&] { return error_of([&] { a->run(input()); }); });
  // Wait with a deadline: a hung client fails the test instead of hanging.
  ASSERT_EQ(call.wait_for(10s), std::future_status::ready);
  const auto err = call.get();
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(err.retryable());
  EXPECT_THAT(err.what(), HasSubstr("timed out after 300 ms"));
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 5s);
}

TEST(chat_agent, a_refused_connection_is_retryable) {
  unsigned short port;
  {
    // A port that was free a moment ago and has no listener now.
    asio::io_context ioc;
    tcp::acceptor acc(ioc,
                      tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = acc.local_endpoint().port();
  }
  chat_agent_config c;
  c.url = "http://127.0.0.1:" + std::to_string(port);
  c.model = "m";
  c.timeout = 2s;
  const auto err =
      error_of([&] { make_chat_agent(agent_kind::classify, c)->run(input()); });
  EXPECT_TRUE(err.retryable());
  EXPECT_THAT(err.what(), HasSubstr("connecting failed"));
}

TEST(chat_agent, validates_its_configuration) {
  auto refused = [](chat_agent_config c) -> std::string {
    try {
      make_chat_agent(agent_kind::classify, std::move(c));
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "";
  };
  chat_agent_config good;
  good.url = "http://localhost:8080";
  good.model = "m";
  EXPECT_EQ(refused(good), "");
  auto c = good;
  c.url = "https://api.openai.com";
  EXPECT_THAT(refused(c),
              HasSubstr("agents.chat_url (or agents.classify_url): https:// "
                        "is not supported"));
  c.url = "ftp://x";
  EXPECT_THAT(refused(c), HasSubstr("agents.chat_url"));
  c.url = "http://:80";
  EXPECT_THAT(refused(c), HasSubstr("no host"));
  c.url = "http://host:99999";
  EXPECT_THAT(refused(c), HasSubstr("invalid port"));
  c = good;
  c.model.clear();
  EXPECT_THAT(refused(c), HasSubstr("agents.chat_model (or "
                                    "agents.classify_model)"));
  c = good;
  c.timeout = 0ms;
  EXPECT_THAT(refused(c), HasSubstr("agents.chat_timeout"));
  c = good;
  c.url = "http://[::1]:9000/base";
  EXPECT_EQ(refused(c), "");
}

} // namespace
