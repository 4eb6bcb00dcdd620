#include "actors/documents/http_embedder.hpp"

#include <atomic>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/testing.hpp"

namespace dt = distiller::testing;
using namespace distiller::documents;
using namespace std::chrono_literals;
using ::testing::HasSubstr;

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;

namespace {

constexpr size_t dim = 8;

/// The unnormalised vector the fake server answers for `text`.
std::vector<double> raw_vector(const std::string& text) {
  std::vector<double> v(dim);
  for (size_t k = 0; k < dim; ++k)
    v[k] = static_cast<double>((text.size() % 7 + 1) * (k + 1)) *
           (k % 2 ? -1.0 : 1.0);
  return v;
}

std::vector<float> expected_vector(const std::string& text) {
  auto v = raw_vector(text);
  double norm = 0;
  for (double x : v)
    norm += x * x;
  std::vector<float> out;
  for (double x : v)
    out.push_back(static_cast<float>(x / std::sqrt(norm)));
  return out;
}

/// An OpenAI-compatible /v1/embeddings endpoint on 127.0.0.1, port 0, one
/// thread per connection, serving requests on a connection while they ask
/// for keep-alive and counting the connections it accepted. It checks the
/// method, path, content type, bearer token and body like the real service
/// (401/404/400 otherwise), answers deterministic vectors in reverse order,
/// and can be told to misbehave.
class fake_server {
 public:
  enum class mode {
    ok,
    status_500,
    status_429,
    status_400,
    malformed,
    wrong_count,
    mixed_dimensions,
    huge_error,
    hang,
    close,
    /// Answers with "Connection: close" and closes.
    close_after_answer,
    /// Answers as if keeping the connection, then closes it (an idle
    /// timeout on the server's side).
    drop_after_answer
  };

  struct request_seen {
    std::string target;
    std::string authorization;
    std::string model;
    std::vector<std::string> input;
  };

  explicit fake_server(std::string api_key = "sekrit")
      : api_key_(std::move(api_key)),
        acceptor_(ioc_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    port_ = acceptor_.local_endpoint().port();
    accept_thread_ = std::thread([this] { accept_loop(); });
  }

  ~fake_server() {
    {
      std::lock_guard guard(mtx_);
      stopping_ = true;
    }
    cv_.notify_all();
    // Wake the blocking accept with a connection of our own.
    try {
      asio::io_context ioc;
      tcp::socket s(ioc);
      s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
    } catch (...) {
    }
    accept_thread_.join();
    for (auto& t : connections_)
      t.join();
  }

  unsigned short port() const { return port_; }
  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(port_);
  }

  void set_mode(mode m) { mode_ = m; }

  std::vector<request_seen> requests() const {
    std::lock_guard guard(mtx_);
    return requests_;
  }

  /// Connections accepted so far.
  size_t connections() const {
    std::lock_guard guard(mtx_);
    return connections_.size();
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
    beast::error_code ec;
    for (;;) {
      http::request<http::string_body> req;
      http::read(socket, buffer, req, ec);
      if (ec)
        return;                    // the client closed it (or sent garbage)
      const auto m = mode_.load(); // for this request, whatever comes next
      http::response<http::string_body> res{http::status::ok, req.version()};
      res.set(http::field::content_type, "application/json");
      res.body() = answer(req, res);
      if (m == mode::hang) {
        std::unique_lock lock(mtx_);
        cv_.wait_for(lock, 30s, [&] { return stopping_; });
        return;
      }
      if (m == mode::close)
        return; // drops the connection without a word
      bool keep = req.keep_alive() && m != mode::close_after_answer;
      res.keep_alive(keep);
      res.prepare_payload();
      http::write(socket, res, ec);
      if (ec || !keep || m == mode::drop_after_answer) {
        socket.shutdown(tcp::socket::shutdown_both, ec);
        return;
      }
    }
  }

  std::string answer(const http::request<http::string_body>& req,
                     http::response<http::string_body>& res) {
    auto fail = [&](http::status status, std::string body) {
      res.result(status);
      return body;
    };
    if (req.method() != http::verb::post || req.target() != "/v1/embeddings")
      return fail(http::status::not_found, R"({"error":"no such route"})");
    const std::string auth(req[http::field::authorization]);
    if (auth != "Bearer " + api_key_)
      return fail(http::status::unauthorized,
                  R"({"error":{"message":"Incorrect API key provided"}})");
    if (req[http::field::content_type] != "application/json")
      return fail(http::status::unsupported_media_type, "{}");
    beast::error_code ec;
    auto body = json::parse(req.body(), ec);
    const json::object* obj = ec ? nullptr : body.if_object();
    const json::array* input = nullptr;
    if (obj && obj->contains("input"))
      input = obj->at("input").if_array();
    if (!obj || !obj->contains("model") || !obj->at("model").is_string() ||
        !input)
      return fail(http::status::bad_request, R"({"error":"bad body"})");
    request_seen seen;
    seen.target = std::string(req.target());
    seen.authorization = auth;
    seen.model = std::string(obj->at("model").as_string());
    for (auto& item : *input) {
      if (!item.is_string() || item.as_string().empty())
        return fail(http::status::bad_request,
                    R"({"error":"input must be non-empty strings"})");
      seen.input.emplace_back(item.as_string());
    }
    {
      std::lock_guard guard(mtx_);
      requests_.push_back(seen);
    }
    switch (mode_.load()) {
    case mode::status_500:
      return fail(http::status::internal_server_error,
                  "upstream exploded\n(stack trace follows)");
    case mode::status_429:
      return fail(http::status::too_many_requests,
                  R"({"error":"rate limit reached"})");
    case mode::status_400:
      return fail(http::status::bad_request,
                  R"({"error":{"message":"maximum context length exceeded"}})");
    case mode::huge_error:
      return fail(http::status::service_unavailable, std::string(10000, 'x'));
    case mode::malformed:
      return R"({"data":[{"index":0,"embedding":[0.1, 0.2)";
    default:
      break;
    }
    json::array data;
    size_t count = seen.input.size();
    if (mode_ == mode::wrong_count && count > 0)
      --count;
    // Reverse order: clients must go by "index".
    for (size_t i = count; i-- > 0;) {
      auto v = raw_vector(seen.input[i]);
      if (mode_ == mode::mixed_dimensions && i == 0)
        v.push_back(1.0);
      json::array emb;
      for (double x : v)
        emb.emplace_back(x);
      data.emplace_back(json::object{{"object", "embedding"},
                                     {"index", i},
                                     {"embedding", std::move(emb)}});
    }
    return json::serialize(json::object{
        {"object", "list"},
        {"data", std::move(data)},
        {"model", seen.model},
        {"usage", json::object{{"prompt_tokens", 1}, {"total_tokens", 1}}}});
  }

  std::string api_key_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  std::atomic<mode> mode_{mode::ok};
  mutable std::mutex mtx_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::vector<request_seen> requests_;
  std::thread accept_thread_;
  std::vector<std::thread> connections_;
};

http_embedder_config config_for(const fake_server& server) {
  http_embedder_config c;
  c.url = server.url();
  c.model = "test-embed-1";
  c.api_key = "sekrit";
  c.timeout = 5s;
  return c;
}

/// The embed_error that `f` throws; fails the test if none.
template <class F>
embed_error error_of(F f) {
  try {
    f();
  } catch (const embed_error& e) {
    return e;
  }
  ADD_FAILURE() << "no embed_error";
  return embed_error("", false);
}

// -- success -----------------------------------------------------------------

TEST(http_embedder, embeds_normalises_and_orders_by_index) {
  fake_server server;
  http_embedder e(config_for(server));
  const std::vector<std::string> texts = {"alpha", "be", "gamma ray"};
  auto vectors = e.embed(texts);
  ASSERT_EQ(vectors.size(), 3u);
  for (size_t i = 0; i < texts.size(); ++i) {
    auto want = expected_vector(texts[i]);
    ASSERT_EQ(vectors[i].size(), dim);
    double norm = 0;
    for (size_t k = 0; k < dim; ++k) {
      EXPECT_NEAR(vectors[i][k], want[k], 1e-6) << i << "/" << k;
      norm += vectors[i][k] * vectors[i][k];
    }
    EXPECT_NEAR(norm, 1.0, 1e-5);
  }
  EXPECT_EQ(e.dimension(), dim); // learned from the answer
  EXPECT_EQ(e.model(), "test-embed-1");
  auto seen = server.requests();
  ASSERT_EQ(seen.size(), 1u); // dimension() did not ask again
  EXPECT_EQ(seen[0].target, "/v1/embeddings");
  EXPECT_EQ(seen[0].authorization, "Bearer sekrit");
  EXPECT_EQ(seen[0].model, "test-embed-1");
  EXPECT_EQ(seen[0].input, texts);
}

TEST(http_embedder, sends_batches_of_max_batch) {
  fake_server server;
  auto c = config_for(server);
  c.max_batch = 2;
  http_embedder e(c);
  const std::vector<std::string> texts = {"a", "bb", "ccc", "dddd", "eeeee"};
  auto vectors = e.embed(texts);
  ASSERT_EQ(vectors.size(), 5u);
  for (size_t i = 0; i < texts.size(); ++i)
    EXPECT_NEAR(vectors[i][1], expected_vector(texts[i])[1], 1e-6);
  auto seen = server.requests();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].input, (std::vector<std::string>{"a", "bb"}));
  EXPECT_EQ(seen[1].input, (std::vector<std::string>{"ccc", "dddd"}));
  EXPECT_EQ(seen[2].input, (std::vector<std::string>{"eeeee"}));
  EXPECT_TRUE(e.embed({}).empty());
  EXPECT_EQ(server.requests().size(), 3u);
}

TEST(http_embedder, blank_texts_get_the_zero_vector_without_a_request) {
  fake_server server;
  http_embedder e(config_for(server));
  auto vectors = e.embed({"", "word", " \n "});
  ASSERT_EQ(vectors.size(), 3u);
  EXPECT_EQ(vectors[0], std::vector<float>(dim, 0.0f));
  EXPECT_EQ(vectors[2], std::vector<float>(dim, 0.0f));
  EXPECT_NEAR(vectors[1][0], expected_vector("word")[0], 1e-6);
  auto seen = server.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].input, (std::vector<std::string>{"word"}));
}

TEST(http_embedder, probes_for_an_unknown_dimension) {
  fake_server server;
  http_embedder e(config_for(server));
  EXPECT_EQ(e.dimension(), dim);
  EXPECT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(e.dimension(), dim);
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST(http_embedder, url_prefixes_and_v1_suffix) {
  fake_server server;
  auto c = config_for(server);
  c.url = server.url() + "/v1/";
  http_embedder e(c);
  EXPECT_EQ(e.endpoint(), server.url() + "/v1/embeddings");
  EXPECT_EQ(e.embed({"x"}).size(), 1u);
  c.url = server.url() + "/proxy";
  http_embedder prefixed(c);
  EXPECT_EQ(prefixed.endpoint(), server.url() + "/proxy/v1/embeddings");
  auto err = error_of([&] { prefixed.embed({"x"}); });
  EXPECT_FALSE(err.retryable());
  EXPECT_THAT(err.what(), HasSubstr("404"));
}

TEST(http_embedder, is_safe_to_share_between_threads) {
  fake_server server;
  http_embedder e(config_for(server));
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        const std::string text =
            "thread " + std::to_string(t) + " call " + std::to_string(i);
        auto v = e.embed({text});
        if (v.size() == 1 &&
            std::abs(v[0][3] - expected_vector(text)[3]) < 1e-6)
          ++good;
      }
    });
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(good.load(), 40);
  EXPECT_EQ(server.requests().size(), 40u);
}

// -- errors ------------------------------------------------------------------

TEST(http_embedder, server_errors_and_rate_limits_are_retryable) {
  fake_server server;
  http_embedder e(config_for(server));
  server.set_mode(fake_server::mode::status_500);
  auto err = error_of([&] { e.embed({"x"}); });
  EXPECT_TRUE(err.retryable());
  EXPECT_THAT(err.what(), HasSubstr("HTTP 500"));
  EXPECT_THAT(err.what(), HasSubstr("upstream exploded (stack trace follows)"));
  EXPECT_THAT(err.what(), HasSubstr(e.endpoint()));

  server.set_mode(fake_server::mode::status_429);
  err = error_of([&] { e.embed({"x"}); });
  EXPECT_TRUE(err.retryable());
  EXPECT_THAT(err.what(), HasSubstr("HTTP 429"));
  EXPECT_THAT(err.what(), HasSubstr("rate limit reached"));

  // It recovers once the server does.
  server.set_mode(fake_server::mode::ok);
  EXPECT_EQ(e.embed({"x"}).size(), 1u);
}

TEST(http_embedder, client_errors_are_not_retryable) {
  fake_server server;
  http_embedder e(config_for(server));
  server.set_mode(fake_server::mode::status_400);
  auto err = error_of([&] { e.embed({"x"}); });
  EXPECT_FALSE(err.retryable());
  EXPECT_THAT(err.what(), HasSubstr("HTTP 400"));
  EXPECT_THAT(err.what(), HasSubstr("maximum context length exceeded"));

  auto c = config_for(server);
  c.api_key = "wrong";
  http_embedder unauthorised(c);
  server.set_mode(fake_server::mode::ok);
  err = error_of([&] { unauthorised.embed({"x"}); });
  EXPECT_FALSE(err.retryable());
  EXPECT_THAT(err.what(), HasSubstr("HTTP 401"));
  EXPECT_THAT(err.what(), HasSubstr("Incorrect API key"));
}

TEST(http_embedder, long_error_bodies_are_cut) {
  fake_server server;
  http_embedder e(config_for(server));
  server.set_mode(fake_server::mode::huge_error);
  auto err = error_of([&] { e.embed({"x"}); });
  EXPECT_TRUE(err.retryable());
  EXPECT_THAT(err.what(), HasSubstr("HTTP 503"));
  EXPECT_THAT(err.what(), HasSubstr(std::string(200, 'x') + "…"));
  EXPECT_LT(std::string(err.what()).size(), 400u);
}

TEST(http_embedder, malformed_answers_are_not_retryable) {
  fake_server server;
  http_embedder e(config_for(server));
  server.set_mode(fake_server::mode::malformed);
  auto err = error_of([&] { e.embed({"x"}); });
  EXPECT_FALSE(err.retryable());
  EXPECT_THAT(err.what(), HasSubstr("malformed response"));
  EXPECT_THAT(err.what(), HasSubstr("invalid JSON"));

  server.set_mode(fake_server::mode::wrong_count);
  err = error_of([&] { e.embed({"x", "y", "z"}); });
  EXPECT_FALSE(err.retryable());
  EXPECT_THAT(err.what(), HasSubstr("returned 2 embeddings for 3 inputs"));

  server.set_mode(fake_server::mode::mixed_dimensions);
  err = error_of([&] { e.embed({"x", "y"}); });
  EXPECT_FALSE(err.retryable());
  EXPECT_THAT(err.what(), HasSubstr("dimensions, expected"));
}

TEST(http_embedder, a_configured_dimension_is_enforced) {
  fake_server server;
  auto c = config_for(server);
  c.dimension = 16;
  http_embedder e(c);
  EXPECT_EQ(e.dimension(), 16u);
  EXPECT_TRUE(server.requests().empty());
  auto err = error_of([&] { e.embed({"x"}); });
  EXPECT_FALSE(err.retryable());
  EXPECT_THAT(err.what(), HasSubstr("returned a vector of 8 dimensions, "
                                    "expected 16"));
}

TEST(http_embedder, a_silent_server_times_out_and_is_retryable) {
  fake_server server;
  auto c = config_for(server);
  c.timeout = 300ms;
  http_embedder e(c);
  server.set_mode(fake_server::mode::hang);
  const auto start = std::chrono::steady_clock::now();
  auto err = error_of([&] { e.embed({"x"}); });
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(err.retryable());
  EXPECT_THAT(err.what(), HasSubstr("timed out after 300 ms"));
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 3s);
}

TEST(http_embedder, a_dropped_connection_is_retryable) {
  fake_server server;
  http_embedder e(config_for(server));
  server.set_mode(fake_server::mode::close);
  auto err = error_of([&] { e.embed({"x"}); });
  EXPECT_TRUE(err.retryable());
  EXPECT_THAT(err.what(), HasSubstr("waiting for the response failed"));
}

// -- keep-alive ---------------------------------------------------------------

TEST(http_embedder, requests_reuse_one_kept_alive_connection) {
  fake_server server;
  http_embedder e(config_for(server));
  for (int i = 0; i < 5; ++i)
    ASSERT_EQ(e.embed({"text " + std::to_string(i)}).size(), 1u);
  EXPECT_EQ(server.requests().size(), 5u);
  EXPECT_EQ(server.connections(), 1u);
  EXPECT_EQ(e.connections_opened(), 1u);
}

TEST(http_embedder, concurrent_callers_each_get_a_connection_then_share) {
  fake_server server;
  http_embedder e(config_for(server));
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i)
        if (e.embed(
                 {"thread " + std::to_string(t) + " text " + std::to_string(i)})
                .size() != 1)
          ++failures;
    });
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(server.requests().size(), 40u);
  // At most one connection per concurrent caller, not one per request.
  EXPECT_LE(server.connections(), 4u);
  EXPECT_GE(server.connections(), 1u);
  auto before = server.connections();
  e.embed({"after the burst"});
  EXPECT_EQ(server.connections(), before);
}

TEST(http_embedder, a_server_that_closes_gets_a_new_connection_each_time) {
  fake_server server;
  http_embedder e(config_for(server));
  server.set_mode(fake_server::mode::close_after_answer);
  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(e.embed({"text " + std::to_string(i)}).size(), 1u);
  EXPECT_EQ(server.requests().size(), 3u);
  EXPECT_EQ(server.connections(), 3u);
}

TEST(http_embedder, an_idle_connection_the_server_dropped_is_replaced) {
  fake_server server;
  http_embedder e(config_for(server));
  server.set_mode(fake_server::mode::drop_after_answer);
  ASSERT_EQ(e.embed({"first"}).size(), 1u);
  // The server has closed the connection the embedder kept: the next
  // request fails on it before any answer and goes out again on a new one.
  ASSERT_TRUE(dt::wait_until([&] { return server.connections() == 1; }, 5s));
  ASSERT_EQ(e.embed({"second"}).size(), 1u);
  ASSERT_EQ(e.embed({"third"}).size(), 1u);
  EXPECT_EQ(server.requests().size(), 3u); // none answered twice
  EXPECT_EQ(server.connections(), 3u);
  // Back to a well-behaved server: the last connection stays.
  server.set_mode(fake_server::mode::ok);
  e.embed({"fourth"}); // on a fresh one (the third was dropped)
  e.embed({"fifth"});
  EXPECT_EQ(server.connections(), 4u);
}

TEST(http_embedder, a_refused_connection_is_retryable) {
  unsigned short port;
  {
    // A port that was free a moment ago and has no listener now.
    asio::io_context ioc;
    tcp::acceptor a(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = a.local_endpoint().port();
  }
  http_embedder_config c;
  c.url = "http://127.0.0.1:" + std::to_string(port);
  c.model = "m";
  c.timeout = 2s;
  http_embedder e(c);
  auto err = error_of([&] { e.embed({"x"}); });
  EXPECT_TRUE(err.retryable());
  EXPECT_THAT(err.what(), HasSubstr("connecting failed"));
}

TEST(http_embedder, validates_its_configuration) {
  auto refused = [](http_embedder_config c) -> std::string {
    try {
      http_embedder e(std::move(c));
    } catch (const std::invalid_argument& ex) {
      return ex.what();
    }
    return "";
  };
  http_embedder_config good;
  good.url = "http://localhost:8080";
  good.model = "m";
  EXPECT_EQ(refused(good), "");
  auto c = good;
  c.url = "https://api.openai.com";
  EXPECT_THAT(refused(c), HasSubstr("https:// is not supported"));
  c.url = "ftp://x";
  EXPECT_THAT(refused(c), HasSubstr("embedder.url"));
  c.url = "http://:80";
  EXPECT_THAT(refused(c), HasSubstr("no host"));
  c.url = "http://host:99999";
  EXPECT_THAT(refused(c), HasSubstr("invalid port"));
  c = good;
  c.model = "";
  EXPECT_THAT(refused(c), HasSubstr("embedder.model"));
  c = good;
  c.max_batch = 0;
  EXPECT_THAT(refused(c), HasSubstr("embedder.max_batch"));
  c = good;
  c.timeout = 0ms;
  EXPECT_THAT(refused(c), HasSubstr("embedder.timeout"));
  c = good;
  c.url = "http://[::1]:9000/base";
  http_embedder v6(c);
  EXPECT_EQ(v6.endpoint(), "http://[::1]:9000/base/v1/embeddings");
}

} // namespace
