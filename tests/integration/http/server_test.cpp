// Integration tests of the HTTP façade: a real server on a free port, driven
// through the test client. Deadlines everywhere (wait_until, client
// timeouts); no fixed sleeps as synchronisation.

#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <mutex>
#include <thread>

#include <boost/json.hpp>

#include "bridges/http/server.hpp"
#include "bridges/http/sse_stream.hpp"
#include "runtime/health/health_board.hpp"
#include "runtime/inspect/registry.hpp"
#include "runtime/inspect/trace_ring.hpp"
#include "runtime/metrics/metrics.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/testing.hpp"

using namespace distiller;
using namespace distiller::testing;
using namespace std::chrono_literals;
namespace bhttp = boost::beast::http;
namespace json = boost::json;

namespace {

/// A node-like set-up: board, registry, metrics, router with the node routes
/// and a few test routes, and a server on port 0.
class http_server_test : public ::testing::Test {
 protected:
  http_server_test() {
    cfg.host = "127.0.0.1";
    cfg.port = 0;
    cfg.threads = 2;
    cfg.request_timeout = 5s;
    routes = std::make_shared<http::router>();
    http::add_node_routes(*routes,
                          {"node-test", "9.9.9", &board, &actors, &metrics});
    routes->add(bhttp::verb::post, "/echo/{name}",
                [](http::request&& req, http::responder res) {
                  json::object q;
                  for (auto& [k, v] : req.query)
                    q[k] = v;
                  res.send(http::response::json(
                      200, json::object{{"name", req.param("name")},
                                        {"query", q},
                                        {"body", req.body},
                                        {"type", req.header("content-type")},
                                        {"trace", req.trace.value()}}));
                });
    routes->add(bhttp::verb::get, "/items/{id}",
                [](http::request&& req, http::responder res) {
                  res.send(http::response::text(200, req.param("id")));
                });
  }

  ~http_server_test() override {
    if (srv)
      srv->stop();
    for (auto& t : workers)
      t.join();
  }

  uint16_t start() {
    srv = std::make_unique<http::server>(cfg, routes, &metrics,
                                         traced ? &ring : nullptr);
    port = srv->start();
    return port;
  }

  http::http_config cfg;
  health::health_board board;
  inspect::registry actors{"node-test"};
  metrics::node_metrics metrics{"node-test"};
  std::shared_ptr<http::router> routes;
  /// Passed to the server when `traced` (before start()).
  inspect::trace_ring ring{64};
  bool traced = false;
  std::unique_ptr<http::server> srv;
  uint16_t port = 0;
  std::vector<std::thread> workers;
};

json::object as_object(const http_reply& r) {
  return json::parse(r.body).as_object();
}

void expect_error(const http_reply& r, unsigned status, const char* error) {
  EXPECT_EQ(r.status, status);
  EXPECT_EQ(r.header("content-type"), "application/json");
  auto body = as_object(r);
  EXPECT_EQ(body.at("error").as_string(), error) << r.body;
  EXPECT_TRUE(body.at("detail").is_string()) << r.body;
  EXPECT_FALSE(r.header("x-trace-id").empty());
  EXPECT_EQ(r.header("server"), "distiller");
}

} // namespace

// -- node routes -------------------------------------------------------------

TEST_F(http_server_test, health_reports_components_and_actors) {
  board.declare("kafka");
  board.declare("cache", false);
  board.set("cache", health::state::up, "warm");
  auto probe = actors.enroll("probe-kafka", "probe", "root");
  probe->add_restart();
  probe->set_state("failed");
  actors.enroll("root", "supervisor");
  start();
  http_client client{port};

  auto r = client.get("/health");
  // The code follows the body: a required component is not up.
  EXPECT_EQ(r.status, 503u);
  EXPECT_FALSE(r.header("retry-after").empty());
  auto body = as_object(r);
  EXPECT_EQ(body.at("status").as_string(), "down");
  EXPECT_EQ(body.at("node").as_string(), "node-test");
  EXPECT_EQ(body.at("version").as_string(), "9.9.9");
  auto& kafka = body.at("components").at("kafka").as_object();
  EXPECT_EQ(kafka.at("state").as_string(), "starting");
  EXPECT_EQ(kafka.at("required").as_bool(), true);
  EXPECT_TRUE(kafka.at("detail").is_string());
  EXPECT_EQ(kafka.at("since").as_string().size(), 20u); // ISO 8601, UTC
  auto& cache = body.at("components").at("cache").as_object();
  EXPECT_EQ(cache.at("required").as_bool(), false);
  EXPECT_EQ(cache.at("detail").as_string(), "warm");
  auto& counts = body.at("actors").as_object();
  EXPECT_EQ(counts.at("total").as_int64(), 2);
  EXPECT_EQ(counts.at("restarts").as_int64(), 1);
  EXPECT_EQ(counts.at("failed").as_int64(), 1);

  board.set("kafka", health::state::up, "3 brokers");
  r = client.get("/health");
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(as_object(r).at("status").as_string(), "ok");
  board.set("cache", health::state::down, "gone");
  r = client.get("/health");
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(as_object(r).at("status").as_string(), "degraded");
}

TEST_F(http_server_test, health_of_a_component_the_node_serves_without) {
  // Kafka behind an outbox: down is degraded (200), not down (503); a
  // required database that is down is still 503.
  board.declare("kafka", true, true);
  board.declare("postgres");
  board.set("postgres", health::state::up);
  board.set("kafka", health::state::down, "no brokers; kept in the outbox");
  start();
  http_client client{port};
  auto r = client.get("/health");
  EXPECT_EQ(r.status, 200u);
  auto body = as_object(r);
  EXPECT_EQ(body.at("status").as_string(), "degraded");
  auto& kafka = body.at("components").at("kafka").as_object();
  EXPECT_EQ(kafka.at("serves_when_down").as_bool(), true);
  EXPECT_EQ(kafka.at("state").as_string(), "down");
  // Never up yet (starting) it still holds /ready and /health back.
  board.declare("late", true, true);
  EXPECT_EQ(client.get("/health").status, 503u);
  EXPECT_EQ(client.get("/ready").status, 503u);
  board.set("late", health::state::up);
  board.set("postgres", health::state::down, "gone");
  r = client.get("/health");
  EXPECT_EQ(r.status, 503u);
  EXPECT_EQ(as_object(r).at("status").as_string(), "down");
}

TEST_F(http_server_test, ready_waits_for_required_components) {
  board.declare("kafka");
  board.declare("postgres");
  board.declare("optional", false);
  start();
  http_client client{port};

  auto r = client.get("/ready");
  EXPECT_EQ(r.status, 503u);
  auto body = as_object(r);
  EXPECT_EQ(body.at("ready").as_bool(), false);
  auto& waiting = body.at("waiting_for").as_array();
  ASSERT_EQ(waiting.size(), 2u);
  EXPECT_EQ(waiting[0].as_string(), "kafka");
  EXPECT_EQ(waiting[1].as_string(), "postgres");

  board.set("kafka", health::state::up);
  board.set("postgres", health::state::degraded, "slow");
  r = client.get("/ready");
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(as_object(r).at("ready").as_bool(), true);
}

TEST_F(http_server_test, metrics_exposes_runtime_and_http_families) {
  actors.enroll("embedder-1", "embedder")->on_message(3);
  start();
  http_client client{port};
  EXPECT_EQ(client.get("/items/42").status, 200u);
  auto r = client.get("/metrics");
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.header("content-type"),
            "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(r.body.find("distiller_actor_mailbox_depth{actor=\"embedder-1\""),
            std::string::npos);
  EXPECT_NE(r.body.find("distiller_http_open_connections"), std::string::npos);
  EXPECT_NE(r.body.find("distiller_http_request_duration_seconds_bucket"),
            std::string::npos);
  // The route label is the pattern, never the raw path.
  EXPECT_NE(r.body.find("distiller_http_requests_total{method=\"GET\","
                        "route=\"/items/{id}\",status=\"200\"} 1"),
            std::string::npos)
      << r.body;
  EXPECT_EQ(r.body.find("/items/42"), std::string::npos);
}

TEST_F(http_server_test, inspect_lists_enrolled_actors) {
  auto a = actors.enroll("chunker-1", "chunker", "documents");
  a->on_message(4);
  a->on_message(2);
  a->add_failure();
  a->set_state("running");
  actors.enroll("documents", "supervisor");
  start();
  http_client client{port};
  auto r = client.get("/inspect");
  ASSERT_EQ(r.status, 200u);
  auto body = as_object(r);
  EXPECT_EQ(body.at("node").as_string(), "node-test");
  auto& list = body.at("actors").as_array();
  ASSERT_EQ(list.size(), 2u);
  auto& c = list[0].as_object();
  EXPECT_EQ(c.at("name").as_string(), "chunker-1");
  EXPECT_EQ(c.at("role").as_string(), "chunker");
  EXPECT_EQ(c.at("node").as_string(), "node-test");
  EXPECT_EQ(c.at("parent").as_string(), "documents");
  EXPECT_EQ(c.at("mailbox").as_int64(), 2);
  EXPECT_EQ(c.at("processed").as_int64(), 2);
  EXPECT_EQ(c.at("failures").as_int64(), 1);
  EXPECT_EQ(c.at("restarts").as_int64(), 0);
  EXPECT_EQ(c.at("state").as_string(), "running");
  EXPECT_EQ(list[1].at("name").as_string(), "documents");
}

TEST_F(http_server_test, inspect_shows_recent_errors_newest_first) {
  auto a = actors.enroll("chunker-worker-0", "worker", "chunker");
  a->record_error("documents/0@5: record: undecodable");
  a->record_error("documents/1@9: timeout");
  actors.enroll("quiet", "probe");
  start();
  http_client client{port};
  auto r = client.get("/inspect");
  ASSERT_EQ(r.status, 200u);
  auto body = as_object(r);
  auto& list = body.at("actors").as_array();
  ASSERT_EQ(list.size(), 2u);
  auto& errors = list[0].at("recent_errors").as_array();
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].at("text").as_string(), "documents/1@9: timeout");
  EXPECT_EQ(errors[1].at("text").as_string(),
            "documents/0@5: record: undecodable");
  std::string time{errors[0].at("time").as_string()};
  EXPECT_EQ(time.size(), 24u) << time; // 2026-12-01T09:30:00.123Z
  EXPECT_EQ(time.back(), 'Z');
  EXPECT_TRUE(list[1].at("recent_errors").as_array().empty());
}

TEST_F(http_server_test, answered_requests_go_to_the_trace_ring) {
  traced = true;
  start();
  http_client client{port};
  auto ok = client.get("/items/42", {{"x-trace-id", "trace-http-1"}});
  ASSERT_EQ(ok.status, 200u);
  auto missing = client.get("/nowhere", {{"x-trace-id", "trace-http-2"}});
  ASSERT_EQ(missing.status, 404u);
  ASSERT_TRUE(wait_until([&] { return ring.size() == 2; }));
  auto first = ring.find("trace-http-1");
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].actor, "http");
  EXPECT_EQ(first[0].what, "http");
  // "<METHOD> <route pattern> <status> <ms> ms": the pattern, not the path.
  EXPECT_EQ(first[0].detail.rfind("GET /items/{id} 200 ", 0), 0u)
      << first[0].detail;
  EXPECT_EQ(first[0].detail.substr(first[0].detail.size() - 3), " ms");
  auto second = ring.find("trace-http-2");
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].detail.rfind("GET unmatched 404 ", 0), 0u)
      << second[0].detail;
}

TEST_F(http_server_test, head_is_get_without_body) {
  start();
  http_client client{port};
  auto get = client.get("/health");
  auto head = client.request(bhttp::verb::head, "/health");
  EXPECT_EQ(head.status, 200u);
  EXPECT_TRUE(head.body.empty());
  EXPECT_EQ(head.header("content-length"), get.header("content-length"));
  // Still usable afterwards (keep-alive intact).
  EXPECT_EQ(client.get("/ready").status, 200u);
}

// -- routing errors, headers -------------------------------------------------

TEST_F(http_server_test, unknown_route_is_404_json) {
  start();
  http_client client{port};
  auto r = client.get("/x");
  expect_error(r, 404, "not_found");
  EXPECT_EQ(as_object(r).at("detail").as_string(), "no route for GET /x");
}

TEST_F(http_server_test, wrong_method_is_405_with_allow) {
  start();
  http_client client{port};
  auto r = client.post("/health", "{}");
  expect_error(r, 405, "method_not_allowed");
  EXPECT_EQ(r.header("allow"), "GET, HEAD");
}

TEST_F(http_server_test, trace_id_is_echoed_or_created) {
  start();
  http_client client{port};
  auto r = client.get("/health", {{"x-trace-id", "trace-abc.123"}});
  EXPECT_EQ(r.header("x-trace-id"), "trace-abc.123");
  r = client.get("/health");
  EXPECT_EQ(r.header("x-trace-id").size(), 32u);
  // Not a sane token: replaced by a fresh id.
  r = client.get("/health", {{"x-trace-id", "bad value with spaces"}});
  EXPECT_EQ(r.header("x-trace-id").size(), 32u);
}

TEST_F(http_server_test, request_parts_reach_the_handler) {
  start();
  http_client client{port};
  auto r = client.post("/echo/n%20m?a=1&b=x+y&b=2", "hello body",
                       {{"x-trace-id", "t-1"}}, "text/plain");
  ASSERT_EQ(r.status, 200u);
  auto body = as_object(r);
  EXPECT_EQ(body.at("name").as_string(), "n m");
  EXPECT_EQ(body.at("query").at("a").as_string(), "1");
  EXPECT_EQ(body.at("query").at("b").as_string(), "x y");
  EXPECT_EQ(body.at("body").as_string(), "hello body");
  EXPECT_EQ(body.at("type").as_string(), "text/plain");
  EXPECT_EQ(body.at("trace").as_string(), "t-1");
}

TEST_F(http_server_test, malformed_request_is_400_json) {
  start();
  http_client client{port};
  client.write_raw("THIS IS NOT HTTP\r\n\r\n");
  auto r = client.read_reply();
  expect_error(r, 400, "bad_request");
  EXPECT_TRUE(client.wait_closed(3s));
}

TEST_F(http_server_test, http11_without_host_is_400_and_http10_needs_none) {
  start();
  {
    http_client client{port};
    client.write_raw("GET /items/1 HTTP/1.1\r\n\r\n");
    auto r = client.read_reply();
    expect_error(r, 400, "bad_request");
    EXPECT_NE(as_object(r).at("detail").as_string().find("Host"),
              std::string::npos);
    EXPECT_TRUE(client.wait_closed(3s));
  }
  {
    http_client client{port};
    client.write_raw(
        "GET /items/1 HTTP/1.1\r\nHost: localhost\r\nHost: 127.0.0.1\r\n\r\n");
    expect_error(client.read_reply(), 400, "bad_request");
    EXPECT_TRUE(client.wait_closed(3s));
  }
  http_client client{port};
  client.write_raw("GET /items/1 HTTP/1.0\r\n\r\n");
  auto r = client.read_reply();
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body, "1");
}

TEST_F(http_server_test, transfer_codings_but_chunked_are_501) {
  start();
  {
    // The body would reach the handler still gzip-encoded.
    http_client client{port};
    client.write_raw("POST /echo/x HTTP/1.1\r\nHost: localhost\r\n"
                     "Transfer-Encoding: gzip, chunked\r\n\r\n"
                     "5\r\nhello\r\n0\r\n\r\n");
    auto r = client.read_reply();
    expect_error(r, 501, "not_implemented");
    EXPECT_NE(as_object(r).at("detail").as_string().find("gzip, chunked"),
              std::string::npos);
    EXPECT_TRUE(client.wait_closed(3s));
  }
  {
    // Two framings at once: how requests are smuggled past a proxy.
    http_client client{port};
    client.write_raw(
        "POST /echo/x HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
        "5\r\nhello\r\n0\r\n\r\n");
    expect_error(client.read_reply(), 400, "bad_request");
    EXPECT_TRUE(client.wait_closed(3s));
  }
  // chunked alone is read as before.
  http_client client{port};
  client.write_raw("POST /echo/x HTTP/1.1\r\nHost: localhost\r\n"
                   "Transfer-Encoding: Chunked\r\n\r\n"
                   "5\r\nhello\r\n0\r\n\r\n");
  auto r = client.read_reply();
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(as_object(r).at("body").as_string(), "hello");
}

TEST_F(http_server_test, foreign_hosts_and_cross_site_writes_are_403) {
  start();
  auto raw = [&](const std::string& head) {
    http_client client{port};
    client.write_raw(head + "\r\n");
    return client.read_reply();
  };
  // DNS rebinding: a page on evil.example whose name now points at
  // 127.0.0.1 sends its own name as Host.
  auto r = raw("GET /items/1 HTTP/1.1\r\nHost: evil.example:8000\r\n");
  expect_error(r, 403, "forbidden_host");
  for (auto host : {"localhost", "127.0.0.1:9", "[::1]:8000", "app.localhost"})
    EXPECT_EQ(
        raw(std::string{"GET /items/1 HTTP/1.1\r\nHost: "} + host + "\r\n")
            .status,
        200u)
        << host;
  // A form posted from another site, and one from the node's own page.
  auto form = [&](const std::string& extra) {
    return raw("POST /echo/x HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n" + extra +
               "Content-Length: 2\r\n\r\nhi");
  };
  expect_error(form("Origin: https://evil.example\r\n"), 403,
               "forbidden_origin");
  expect_error(form("Origin: null\r\n"), 403, "forbidden_origin");
  expect_error(form("Sec-Fetch-Site: cross-site\r\n"), 403, "forbidden_origin");
  EXPECT_EQ(form("Origin: http://127.0.0.1:8000\r\n").status, 200u);
  EXPECT_EQ(form("").status, 200u); // curl and other tools send no Origin
  // Reads are not writes: a cross-site GET passes (the browser keeps the
  // answer from the other site's page).
  EXPECT_EQ(raw("GET /items/1 HTTP/1.1\r\nHost: localhost\r\n"
                "Origin: https://evil.example\r\n")
                .status,
            200u);
}

TEST_F(http_server_test, allowed_hosts_and_origins_widen_the_checks) {
  cfg.allowed_hosts = {"distiller.example"};
  cfg.allowed_origins = {"https://ui.example"};
  start();
  auto raw = [&](const std::string& head) {
    http_client client{port};
    client.write_raw(head + "\r\n");
    return client.read_reply();
  };
  EXPECT_EQ(
      raw("GET /items/1 HTTP/1.1\r\nHost: distiller.example:443\r\n").status,
      200u);
  // A list replaces the loopback default.
  expect_error(raw("GET /items/1 HTTP/1.1\r\nHost: localhost\r\n"), 403,
               "forbidden_host");
  EXPECT_EQ(raw("POST /echo/x HTTP/1.1\r\nHost: distiller.example\r\n"
                "Origin: https://ui.example\r\nContent-Length: 0\r\n")
                .status,
            200u);
  // Not loopback and no list: any Host.
  http::http_config open;
  open.host = "0.0.0.0";
  EXPECT_TRUE(http::host_allowed(open, "anything.example:8000"));
  http::http_config local;
  EXPECT_FALSE(http::host_allowed(local, "localhost.evil.example"));
  EXPECT_TRUE(
      http::origin_allowed(local, "HTTP://LocalHost:8000", "localhost:8000"));
}

TEST_F(http_server_test, oversized_header_is_431) {
  cfg.max_header_bytes = 1024;
  start();
  http_client client{port};
  client.write_raw("GET /health HTTP/1.1\r\nHost: localhost\r\nX-Big: " +
                   std::string(4096, 'a') + "\r\n\r\n");
  auto r = client.read_reply();
  expect_error(r, 431, "header_too_large");
  EXPECT_TRUE(client.wait_closed(3s));
}

// -- keep-alive --------------------------------------------------------------

TEST_F(http_server_test, keep_alive_serves_two_requests_on_one_connection) {
  start();
  http_client client{port};
  auto first = client.get("/health");
  ASSERT_EQ(first.status, 200u);
  EXPECT_TRUE(first.keep_alive);
  ASSERT_TRUE(client.is_open());
  auto local = client.local_port();
  auto second = client.get("/items/7");
  EXPECT_EQ(second.status, 200u);
  EXPECT_EQ(second.body, "7");
  EXPECT_EQ(client.local_port(), local);
  EXPECT_EQ(srv->open_connections(), 1);
}

TEST_F(http_server_test, connection_close_is_honoured) {
  start();
  http_client client{port};
  auto r = client.get("/health", {{"Connection", "close"}});
  EXPECT_EQ(r.status, 200u);
  EXPECT_FALSE(r.keep_alive);
  EXPECT_FALSE(client.is_open());
}

// -- body limits -------------------------------------------------------------

TEST_F(http_server_test, content_length_over_limit_is_413_without_reading) {
  cfg.max_body_bytes = 1024;
  cfg.request_timeout = 10s; // a server waiting for the body would answer 408
  start();
  http_client client{port, "127.0.0.1", 3s};
  auto t0 = std::chrono::steady_clock::now();
  // Only the header; the announced 10 GB body is never sent.
  client.write_raw("POST /echo/big HTTP/1.1\r\nHost: localhost\r\n"
                   "Content-Type: text/plain\r\n"
                   "Content-Length: 10000000000\r\n\r\n");
  auto r = client.read_reply();
  expect_error(r, 413, "payload_too_large");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
  EXPECT_FALSE(r.keep_alive);
  EXPECT_TRUE(client.wait_closed(5s));
}

TEST_F(http_server_test, expect_continue_over_limit_gets_413_not_100) {
  cfg.max_body_bytes = 1024;
  start();
  http_client client{port, "127.0.0.1", 3s};
  client.write_raw("POST /echo/big HTTP/1.1\r\nHost: localhost\r\n"
                   "Content-Length: 5000\r\nExpect: 100-continue\r\n\r\n");
  expect_error(client.read_reply(), 413, "payload_too_large");
}

TEST_F(http_server_test, expect_continue_within_limit_gets_100) {
  start();
  http_client client{port, "127.0.0.1", 3s};
  client.write_raw("POST /echo/small HTTP/1.1\r\nHost: localhost\r\n"
                   "Content-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  EXPECT_EQ(client.read_reply().status, 100u);
  client.write_raw("hello");
  auto r = client.read_reply();
  ASSERT_EQ(r.status, 200u);
  EXPECT_EQ(as_object(r).at("body").as_string(), "hello");
}

TEST_F(http_server_test, chunked_body_stops_at_limit) {
  cfg.max_body_bytes = 1024;
  start();
  http_client client{port, "127.0.0.1", 3s};
  // 2 KiB of chunks and no terminating chunk: the server must stop reading
  // at the limit and answer, not wait for the end.
  std::string req = "POST /echo/chunky HTTP/1.1\r\nHost: localhost\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 4; ++i)
    req += "200\r\n" + std::string(512, 'c') + "\r\n";
  client.write_raw(req);
  expect_error(client.read_reply(), 413, "payload_too_large");
  EXPECT_TRUE(client.wait_closed(5s));
}

TEST_F(http_server_test, route_body_limit_overrides_config) {
  routes->add(bhttp::verb::post, "/tiny",
              [](http::request&& req, http::responder res) {
                res.send(http::response::text(200, req.body));
              },
              {.max_body_bytes = 16});
  start();
  http_client client{port};
  EXPECT_EQ(client.post("/tiny", "0123456789").status, 200u);
  expect_error(client.post("/tiny", std::string(32, 'x')), 413,
               "payload_too_large");
}

// -- timeouts ----------------------------------------------------------------

TEST_F(http_server_test, half_a_request_gets_408) {
  cfg.request_timeout = 300ms;
  start();
  http_client client{port, "127.0.0.1", 5s};
  client.write_raw(
      "GET /health HTTP/1.1\r\nHost: localhost\r\n"); // header unfinished
  auto r = client.read_reply();
  expect_error(r, 408, "request_timeout");
  EXPECT_TRUE(client.wait_closed(5s));
}

TEST_F(http_server_test, route_timeout_overrides_config) {
  routes->add(bhttp::verb::post, "/quick",
              [](http::request&&, http::responder res) {
                res.send(http::response::text(200, "ok"));
              },
              {.timeout = 200ms});
  start(); // config timeout: 5 s
  http_client client{port, "127.0.0.1", 3s};
  client.write_raw("POST /quick HTTP/1.1\r\nHost: localhost\r\n"
                   "Content-Length: 10\r\n\r\n12345"); // half the body
  expect_error(client.read_reply(), 408, "request_timeout");
}

TEST_F(http_server_test, idle_connection_is_closed_quietly) {
  cfg.request_timeout = 200ms;
  start();
  http_client client{port};
  client.connect();
  EXPECT_TRUE(client.wait_closed(5s));
  EXPECT_TRUE(wait_until([&] { return srv->open_connections() == 0; }, 5s));
}

// -- responders --------------------------------------------------------------

TEST_F(http_server_test, responder_answers_from_another_thread) {
  std::mutex mtx;
  std::optional<http::responder> parked;
  std::thread::id handler_thread;
  routes->add(bhttp::verb::get, "/later",
              [&](http::request&&, http::responder res) {
                std::lock_guard<std::mutex> guard{mtx};
                handler_thread = std::this_thread::get_id();
                parked.emplace(std::move(res));
              });
  start();
  auto reply = std::async(std::launch::async, [this] {
    http_client client{port};
    return client.get("/later");
  });
  ASSERT_TRUE(wait_until([&] {
    std::lock_guard<std::mutex> guard{mtx};
    return parked.has_value();
  }));
  {
    std::lock_guard<std::mutex> guard{mtx};
    EXPECT_NE(handler_thread, std::this_thread::get_id());
    parked->send(http::response::json(202, json::object{{"job_id", "j-1"}}));
    EXPECT_FALSE(parked->pending());
    // A second answer is ignored.
    parked->send(http::response::text(200, "again"));
  }
  ASSERT_EQ(reply.wait_for(10s), std::future_status::ready);
  auto r = reply.get();
  EXPECT_EQ(r.status, 202u);
  EXPECT_EQ(as_object(r).at("job_id").as_string(), "j-1");
}

TEST_F(http_server_test, dropped_responder_answers_500) {
  routes->add(bhttp::verb::get, "/forgetful",
              [](http::request&&, http::responder) {});
  routes->add(bhttp::verb::get, "/throws",
              [](http::request&&, http::responder) {
                throw std::runtime_error("boom");
              });
  start();
  http_client client{port};
  expect_error(client.get("/forgetful"), 500, "internal");
  expect_error(client.get("/throws"), 500, "internal");
  // The connection survives a failed handler.
  EXPECT_EQ(client.get("/health").status, 200u);
}

TEST_F(http_server_test, responder_outliving_the_server_is_harmless) {
  std::mutex mtx;
  std::optional<http::responder> parked;
  routes->add(bhttp::verb::get, "/park",
              [&](http::request&&, http::responder res) {
                std::lock_guard<std::mutex> guard{mtx};
                parked.emplace(std::move(res));
              });
  start();
  auto reply = std::async(std::launch::async, [this] {
    http_client client{port, "127.0.0.1", 5s};
    try {
      client.get("/park");
      return false;
    } catch (const std::exception&) {
      return true; // the server went away without answering
    }
  });
  ASSERT_TRUE(wait_until([&] {
    std::lock_guard<std::mutex> guard{mtx};
    return parked.has_value();
  }));
  auto t0 = std::chrono::steady_clock::now();
  srv->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  srv.reset();
  EXPECT_TRUE(reply.get());
  std::lock_guard<std::mutex> guard{mtx};
  parked->send(http::response::text(200, "too late"));
  parked.reset();
}

// -- server-sent events ------------------------------------------------------

TEST_F(http_server_test, sse_streams_events_from_another_thread) {
  routes->add(bhttp::verb::get, "/events/{topic}",
              [this](http::request&& req, http::responder res) {
                auto stream = res.start_sse(30s);
                auto topic = req.param("topic");
                workers.emplace_back([stream, topic] {
                  for (int i = 1; i <= 3; ++i)
                    stream->send(topic, "{\"n\":" + std::to_string(i) + "}",
                                 std::to_string(i));
                  stream->close();
                });
              });
  start();
  sse_reader reader{port, "/events/progress"};
  EXPECT_EQ(reader.reply().status, 200u);
  EXPECT_EQ(reader.reply().header("content-type"), "text/event-stream");
  EXPECT_EQ(reader.reply().header("cache-control"), "no-cache");
  EXPECT_EQ(reader.reply().header("x-trace-id").size(), 32u);
  EXPECT_EQ(reader.reply().header("server"), "distiller");
  for (int i = 1; i <= 3; ++i) {
    auto ev = reader.next(5s);
    ASSERT_TRUE(ev) << "event " << i;
    EXPECT_EQ(ev->id, std::to_string(i));
    EXPECT_EQ(ev->event, "progress");
    EXPECT_EQ(ev->data, "{\"n\":" + std::to_string(i) + "}");
  }
  EXPECT_TRUE(reader.wait_ended(5s));
  EXPECT_FALSE(reader.next(100ms));
}

TEST_F(http_server_test, sse_heartbeats_and_client_disconnect) {
  std::mutex mtx;
  std::shared_ptr<http::sse_stream> stream;
  std::atomic<int> closes{0};
  routes->add(bhttp::verb::get, "/ticks",
              [&](http::request&&, http::responder res) {
                auto s = res.start_sse(50ms);
                s->on_close([&closes] { ++closes; });
                std::lock_guard<std::mutex> guard{mtx};
                stream = s;
              });
  start();
  sse_reader reader{port, "/ticks"};
  ASSERT_EQ(reader.reply().status, 200u);
  ASSERT_TRUE(reader.wait_comments(2, 5s));
  EXPECT_EQ(reader.comment_lines()[0], ": ping");
  std::shared_ptr<http::sse_stream> s;
  {
    std::lock_guard<std::mutex> guard{mtx};
    s = stream;
  }
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->closed());
  EXPECT_TRUE(s->send("hello", "world"));
  auto ev = reader.next(5s);
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->event, "hello");
  EXPECT_EQ(ev->data, "world");

  reader.close();
  EXPECT_TRUE(wait_until([&] { return s->closed() && closes == 1; }, 5s));
  EXPECT_FALSE(s->send("late", "ignored"));
  EXPECT_TRUE(wait_until([&] { return srv->open_connections() == 0; }, 5s));
  // A callback set after the end runs at once.
  bool late = false;
  s->on_close([&late] { late = true; });
  EXPECT_TRUE(late);
  EXPECT_EQ(closes, 1);
}

TEST_F(http_server_test, sse_slow_client_gets_a_last_event_and_is_dropped) {
  std::mutex mtx;
  std::shared_ptr<http::sse_stream> stream;
  routes->add(bhttp::verb::get, "/slow",
              [&](http::request&&, http::responder res) {
                http::sse_options o;
                o.heartbeat = 0ms;
                o.max_queue_bytes = 32 * 1024;
                o.write_timeout = 30s;
                o.retry = 1500ms;
                o.overflow_frame = http::sse_stream::format(
                    "closing", R"({"reason":"slow_client"})", "");
                auto s = res.start_sse(std::move(o));
                std::lock_guard<std::mutex> guard{mtx};
                stream = s;
              });
  start();
  // A client with a tiny receive window that stops reading.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  int small = 1024;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  std::string req = "GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\n";
  ASSERT_EQ(::write(fd, req.data(), req.size()),
            static_cast<ssize_t>(req.size()));
  ASSERT_TRUE(wait_until([&] {
    std::lock_guard<std::mutex> guard{mtx};
    return stream != nullptr;
  }));
  std::string payload(8 * 1024, 'x');
  int sent = 0;
  EXPECT_TRUE(wait_until(
      [&] {
        if (stream->closed())
          return true;
        stream->send("tick", payload, std::to_string(++sent));
        return false;
      },
      30s, 1ms))
      << "never counted as slow after " << sent << " events";
  EXPECT_EQ(stream->reason(), http::sse_close_reason::slow_client);
  // Sends after that are refused.
  EXPECT_FALSE(stream->send("tick", "late"));
  // When the client reads again, the stream ends with the closing event.
  std::string got;
  char buf[65536];
  for (;;) {
    auto n = ::read(fd, buf, sizeof buf);
    if (n <= 0)
      break;
    got.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  EXPECT_NE(got.find("retry: 1500"), std::string::npos);
  auto last = got.rfind("event: ");
  ASSERT_NE(last, std::string::npos);
  EXPECT_EQ(got.substr(last, 14), "event: closing");
  EXPECT_NE(got.find(R"({"reason":"slow_client"})", last), std::string::npos);
  // Fewer events arrived than were sent: the queued ones were dropped.
  int ticks = 0;
  for (size_t at = 0; (at = got.find("event: tick", at)) != std::string::npos;
       ++at)
    ++ticks;
  EXPECT_LT(ticks, sent);
  EXPECT_GT(ticks, 0);
}

TEST_F(http_server_test, sse_one_large_event_passes_an_empty_queue) {
  std::mutex mtx;
  std::shared_ptr<http::sse_stream> stream;
  routes->add(bhttp::verb::get, "/big",
              [&](http::request&&, http::responder res) {
                http::sse_options o;
                o.heartbeat = 0ms;
                o.max_queue_bytes = 16 * 1024;
                auto s = res.start_sse(std::move(o));
                std::lock_guard<std::mutex> guard{mtx};
                stream = s;
              });
  start();
  sse_reader reader{port, "/big"};
  ASSERT_EQ(reader.reply().status, 200u);
  ASSERT_TRUE(wait_until([&] {
    std::lock_guard<std::mutex> guard{mtx};
    return stream != nullptr;
  }));
  std::string big(100 * 1024, 'y');
  ASSERT_TRUE(stream->send("big", big, "1"));
  auto ev = reader.next(10s);
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->data.size(), big.size());
  EXPECT_FALSE(stream->closed());
  EXPECT_EQ(stream->reason(), http::sse_close_reason::open);
}

TEST_F(http_server_test, stop_with_open_sse_returns_promptly) {
  std::mutex mtx;
  std::shared_ptr<http::sse_stream> stream;
  std::atomic<bool> closed_cb{false};
  routes->add(bhttp::verb::get, "/forever",
              [&](http::request&&, http::responder res) {
                auto s = res.start_sse(10s);
                s->on_close([&closed_cb] { closed_cb = true; });
                std::lock_guard<std::mutex> guard{mtx};
                stream = s;
              });
  start();
  sse_reader reader{port, "/forever"};
  ASSERT_EQ(reader.reply().status, 200u);
  ASSERT_TRUE(wait_until([&] {
    std::lock_guard<std::mutex> guard{mtx};
    return stream != nullptr;
  }));
  auto t0 = std::chrono::steady_clock::now();
  srv->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  EXPECT_TRUE(stream->closed());
  EXPECT_TRUE(closed_cb);
  EXPECT_FALSE(stream->send("after", "stop"));
  EXPECT_TRUE(reader.wait_ended(5s));
  srv->stop(); // idempotent
}

// -- connections, lifecycle --------------------------------------------------

TEST_F(http_server_test, connections_above_the_cap_get_503) {
  cfg.max_connections = 2;
  start();
  http_client a{port};
  http_client b{port};
  ASSERT_EQ(a.get("/health").status, 200u);
  ASSERT_EQ(b.get("/health").status, 200u);
  EXPECT_EQ(srv->open_connections(), 2);

  http_client c{port};
  auto r = c.get("/health");
  expect_error(r, 503, "overloaded");
  EXPECT_EQ(r.header("retry-after"), "1");
  EXPECT_FALSE(r.keep_alive);

  a.close();
  EXPECT_TRUE(wait_until(
      [&] {
        http_client d{port};
        return d.get("/health").status == 200;
      },
      5s, 20ms));
  EXPECT_EQ(b.get("/health").status, 200u);
}

TEST_F(http_server_test, bind_failure_names_the_address) {
  start();
  auto other_cfg = cfg;
  other_cfg.port = port;
  http::server other{other_cfg, routes};
  try {
    other.start();
    FAIL() << "a second server bound the same port";
  } catch (const std::runtime_error& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("cannot listen on 127.0.0.1:" + std::to_string(port)),
              std::string::npos)
        << what;
    EXPECT_NE(what.find("Address already in use"), std::string::npos) << what;
  }
}

TEST_F(http_server_test, stop_is_idempotent_and_final) {
  start();
  EXPECT_NE(srv->port(), 0);
  srv->stop();
  srv->stop();
  EXPECT_THROW(srv->start(), std::logic_error);
  http_client client{port, "127.0.0.1", 2s};
  EXPECT_THROW(client.get("/health"), std::runtime_error);
}

TEST(http_server, works_without_metrics_or_sources) {
  http::http_config cfg;
  cfg.port = 0;
  cfg.threads = 1;
  auto routes = std::make_shared<http::router>();
  http::add_node_routes(*routes, {"bare", "0", nullptr, nullptr, nullptr});
  http::server srv{cfg, routes};
  auto port = srv.start();
  http_client client{port};
  EXPECT_EQ(client.get("/health").status, 200u);
  EXPECT_EQ(client.get("/ready").status, 200u);
  expect_error(client.get("/metrics"), 503, "unavailable");
}

// -- API tokens
// ----------------------------------------------------------------

TEST_F(http_server_test, api_tokens_gate_routes_by_scope) {
  const std::string user = "0f8fad5b-d9cb-469f-a165-70867728950e";
  cfg.auth.required = true;
  cfg.auth.tokens = {http::token_entry_for("dst_admin", "admin"),
                     http::token_entry_for("dst_read", "read"),
                     http::token_entry_for("dst_user", "user=" + user)};
  routes->add(bhttp::verb::get, "/whoami",
              [](http::request&& req, http::responder res) {
                res.send(http::response::text(200, to_string(req.caller)));
              });
  start();
  auto bearer = [](const std::string& t) {
    return header_list{{"Authorization", "Bearer " + t}};
  };
  http_client c{port};
  // No token: 401 naming the scheme; public routes still answer.
  auto r = c.get("/items/1");
  expect_error(r, 401, "unauthorized");
  EXPECT_EQ(r.header("www-authenticate"), "Bearer realm=\"distiller\"");
  EXPECT_EQ(c.get("/health").status, 200u);
  EXPECT_EQ(c.get("/ready").status, 200u);
  // A wrong token says so in the challenge.
  r = c.get("/items/1", bearer("dst_guess"));
  expect_error(r, 401, "unauthorized");
  EXPECT_NE(r.header("www-authenticate").find("invalid_token"),
            std::string::npos);
  // Each scope: the handler sees who called.
  EXPECT_EQ(c.get("/whoami", bearer("dst_read")).body, "read");
  EXPECT_EQ(c.get("/whoami", bearer("dst_user")).body, "user=" + user);
  EXPECT_EQ(c.get("/whoami", bearer("dst_admin")).body, "admin");
  // read may not write; admin routes want admin.
  expect_error(c.post("/echo/x", "hi", bearer("dst_read")), 403, "forbidden");
  EXPECT_EQ(c.post("/echo/x", "hi", bearer("dst_user")).status, 200u);
  expect_error(c.get("/inspect", bearer("dst_user")), 403, "forbidden");
  EXPECT_EQ(c.get("/inspect", bearer("dst_admin")).status, 200u);
  // EventSource's way: the token in the query.
  EXPECT_EQ(c.get("/whoami?access_token=dst_user").body, "user=" + user);
  expect_error(c.get("/whoami?access_token=dst_nope"), 401, "unauthorized");
}

TEST_F(http_server_test, a_refused_body_is_never_read_as_the_next_request) {
  cfg.auth.required = true;
  cfg.auth.tokens = {http::token_entry_for("dst_admin", "admin")};
  start();
  // The body holds what would be a request of its own if it were parsed as
  // one: the connection must close after the 401 instead.
  std::string inner = "GET /items/smuggled HTTP/1.1\r\nHost: localhost\r\n\r\n";
  http_client c{port};
  c.write_raw("POST /echo/x HTTP/1.1\r\nHost: localhost\r\nContent-Length: " +
              std::to_string(inner.size()) + "\r\n\r\n" + inner);
  auto r = c.read_reply();
  expect_error(r, 401, "unauthorized");
  EXPECT_EQ(r.header("connection"), "close");
  http_client next{port};
  EXPECT_EQ(next.get("/items/1", {{"Authorization", "Bearer dst_admin"}}).body,
            "1");
}

TEST_F(http_server_test, loopback_without_auth_required_serves_without_token) {
  cfg.auth.tokens = {http::token_entry_for("dst_read", "read")};
  start();
  http_client c{port};
  EXPECT_EQ(c.get("/items/1").status, 200u);
  EXPECT_EQ(c.get("/inspect").status, 200u);
  // A token, once sent, is checked: scope and validity count.
  expect_error(c.get("/inspect", {{"Authorization", "Bearer dst_read"}}), 403,
               "forbidden");
  expect_error(c.get("/items/1", {{"Authorization", "Bearer dst_nope"}}), 401,
               "unauthorized");
}
