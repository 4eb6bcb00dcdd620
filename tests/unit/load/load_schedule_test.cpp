// The load tool's scheduler: planned times of the open model, the closed
// model, warm-up and bounds; and the coordinated-omission case against a
// deliberately slow HTTP target (a tiny Beast server in this test that
// takes 200 ms per request on its one connection): the reported latency
// includes the time requests waited to be sent.

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "actors/load/http_driver.hpp"
#include "actors/load/schedule.hpp"
#include "actors/load/workload.hpp"

namespace {

using namespace std::chrono_literals;
namespace load = distiller::load;
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

TEST(Schedule, OpenModelPlansStartPlusIOverRate) {
  load::schedule_options o;
  o.rate = 200;
  o.duration = 1s;
  auto t0 = load::steady::now();
  load::schedule s{o, t0};
  EXPECT_EQ(s.planned(0), t0);
  EXPECT_EQ(s.planned(1), t0 + 5ms);
  EXPECT_EQ(s.planned(199), t0 + 995ms);
  // No drift over a long run: computed from the index.
  EXPECT_EQ(s.planned(200 * 3600), t0 + 3600s);
  // At t0 + 12 ms, indices 0, 1 and 2 are due (a backlog is just an index).
  int due = 0;
  while (auto slot = s.next_due(t0 + 12ms, 0)) {
    EXPECT_EQ(slot->planned, t0 + std::chrono::milliseconds{5 * due});
    EXPECT_TRUE(slot->counted);
    s.issued(*slot);
    ++due;
  }
  EXPECT_EQ(due, 3);
  EXPECT_EQ(*s.next_time(), t0 + 15ms);
  EXPECT_FALSE(s.exhausted(t0 + 12ms));
  // The time bound: 200 requests in the second, then nothing.
  int total = due;
  while (auto slot = s.next_due(t0 + 10s, 0)) {
    s.issued(*slot);
    ++total;
  }
  EXPECT_EQ(total, 200);
  EXPECT_TRUE(s.exhausted(t0 + 10s));
  EXPECT_FALSE(s.next_time());
}

TEST(Schedule, WarmupIsNotCountedAndCountBoundsTheRest) {
  load::schedule_options o;
  o.rate = 10;
  o.warmup = 1s;
  o.count = 5;
  auto t0 = load::steady::now();
  load::schedule s{o, t0};
  EXPECT_EQ(s.measure_start(), t0 + 1s);
  EXPECT_EQ(s.measure_end(), t0 + 1500ms);
  int warm = 0, counted = 0;
  while (auto slot = s.next_due(t0 + 1h, 0)) {
    (slot->counted ? counted : warm)++;
    s.issued(*slot);
  }
  EXPECT_EQ(warm, 10);
  EXPECT_EQ(counted, 5);
  EXPECT_EQ(s.issued_counted(), 5u);
  EXPECT_TRUE(s.exhausted(t0 + 1h));
}

TEST(Schedule, ClosedModelSendsWhenAWorkerIsFree) {
  load::schedule_options o;
  o.closed = true;
  o.concurrency = 3;
  o.duration = 2s;
  auto t0 = load::steady::now();
  load::schedule s{o, t0};
  auto now = t0 + 100ms;
  EXPECT_TRUE(s.next_due(now, 2));
  EXPECT_FALSE(s.next_due(now, 3));
  auto slot = *s.next_due(now, 0);
  EXPECT_EQ(slot.planned, now);
  EXPECT_FALSE(s.next_time());
  EXPECT_FALSE(s.exhausted(t0 + 1s));
  EXPECT_TRUE(s.exhausted(t0 + 2s));
  EXPECT_FALSE(s.next_due(t0 + 2s, 0));
}

/// An HTTP server on 127.0.0.1:0 that answers every request after
/// `delay`, one request at a time per connection.
class slow_server {
 public:
  explicit slow_server(std::chrono::milliseconds delay) : delay_(delay) {
    acceptor_.open(tcp::v4());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind({net::ip::make_address("127.0.0.1"), 0});
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    accept();
    thread_ = std::thread{[this] {
      ioc_.run();
    }};
  }
  ~slow_server() {
    ioc_.stop();
    thread_.join();
  }
  uint16_t port() const { return port_; }
  int requests() const { return requests_; }
  int connections() const { return connections_; }

 private:
  struct session : std::enable_shared_from_this<session> {
    session(tcp::socket s, slow_server& srv)
        : stream(std::move(s)), timer(stream.get_executor()), server(srv) {}
    beast::tcp_stream stream;
    net::steady_timer timer;
    beast::flat_buffer buf;
    http::request<http::string_body> req;
    http::response<http::string_body> res;
    slow_server& server;

    void read() {
      req = {};
      http::async_read(
          stream, buf, req,
          [self = shared_from_this()](beast::error_code ec, size_t) {
            if (!ec)
              self->wait();
          });
    }
    void wait() {
      ++server.requests_;
      timer.expires_after(server.delay_);
      timer.async_wait([self = shared_from_this()](beast::error_code) {
        self->res = {http::status::ok, 11};
        self->res.body() = "{}";
        self->res.keep_alive(true);
        self->res.prepare_payload();
        http::async_write(self->stream, self->res,
                          [self](beast::error_code ec, size_t) {
                            if (!ec)
                              self->read();
                          });
      });
    }
  };

  void accept() {
    acceptor_.async_accept([this](beast::error_code ec, tcp::socket s) {
      if (ec)
        return;
      ++connections_;
      std::make_shared<session>(std::move(s), *this)->read();
      accept();
    });
  }

  std::chrono::milliseconds delay_;
  net::io_context ioc_;
  tcp::acceptor acceptor_{ioc_};
  uint16_t port_ = 0;
  std::atomic<int> requests_{0};
  std::atomic<int> connections_{0};
  std::thread thread_;
};

/// GET /slow for every index.
class probe_workload : public load::http_workload {
 public:
  std::vector<std::string> histograms() const override { return {"request"}; }
  void prepare(load::http_context&,
               std::function<void(std::string)> done) override {
    done({});
  }
  load::http_request request(uint64_t) override {
    load::http_request r;
    r.target = "/slow";
    return r;
  }
  void response(const load::schedule::slot&,
                const load::http_outcome& o) override {
    ok += o.ok() ? 1 : 0;
  }
  void stop() override {}
  boost::json::object fields(double) const override { return {}; }
  boost::json::object config() const override { return {}; }
  int ok = 0;
};

load::http_target local(uint16_t port) {
  return load::http_target{"127.0.0.1", port};
}

TEST(HttpDriver, OpenModelCountsTheWaitBehindASlowTarget) {
  slow_server server{200ms};
  probe_workload w;
  load::recorder rec{w.histograms(), 0};
  load::http_run_settings s;
  s.sched.rate = 20; // one every 50 ms, but the target takes 200 ms each
  s.sched.count = 10;
  s.connections = 1;
  s.drain = 20s;
  s.progress = load::progress_mode::quiet;
  auto t = load::run_http(w, rec, local(server.port()), s);
  EXPECT_EQ(w.ok, 10);
  EXPECT_EQ(server.connections(), 1);
  EXPECT_EQ(t.connections, 1);
  auto h = rec.histogram(0);
  ASSERT_EQ(h.count(), 10u);
  // Request i is planned at 50 i ms and answered at about 200 (i + 1) ms:
  // 200, 350, 500 … 1550 ms. A tool timing from the actual send would
  // report 200 ms for every one of them.
  EXPECT_GE(h.min_us(), 190'000);
  EXPECT_GE(h.value_at(0.5), 800'000);
  EXPECT_GE(h.max_us(), 1'450'000);
  EXPECT_LT(h.max_us(), 5'000'000);
  EXPECT_EQ(rec.errors().total(), 0u);
  EXPECT_NEAR(t.duration_s, 0.5, 1e-6); // 10 planned at 20/s
}

TEST(HttpDriver, ClosedModelMeasuresServiceTimeOnly) {
  slow_server server{200ms};
  probe_workload w;
  load::recorder rec{w.histograms(), 0};
  load::http_run_settings s;
  s.sched.closed = true;
  s.sched.concurrency = 1;
  s.sched.count = 4;
  s.connections = 1;
  s.progress = load::progress_mode::quiet;
  load::run_http(w, rec, local(server.port()), s);
  auto h = rec.histogram(0);
  ASSERT_EQ(h.count(), 4u);
  EXPECT_GE(h.min_us(), 190'000);
  EXPECT_LT(h.max_us(), 600'000);
}

TEST(HttpDriver, UnansweredRequestsEndAsTimeoutsAndTheBacklogAsUnsent) {
  slow_server server{3000ms};
  probe_workload w;
  load::recorder rec{w.histograms(), 0};
  load::http_run_settings s;
  s.sched.rate = 10;
  s.sched.duration = 500ms;
  s.connections = 1;
  s.timeout = 10s;
  s.drain = 300ms;
  s.progress = load::progress_mode::quiet;
  auto t0 = load::steady::now();
  load::run_http(w, rec, local(server.port()), s);
  EXPECT_LT(load::steady::now() - t0, 2500ms);
  auto e = rec.errors();
  // One request in flight on the one connection, four never sent.
  EXPECT_EQ(e.by_class[static_cast<size_t>(load::error_class::timeout)], 1u);
  EXPECT_EQ(e.by_class[static_cast<size_t>(load::error_class::unsent)], 4u);
  EXPECT_EQ(rec.histogram(0).count(), 0u);
}

TEST(HttpDriver, ARefusedConnectionIsAConnectError) {
  uint16_t port = 0;
  {
    net::io_context ioc;
    tcp::acceptor a{ioc, {net::ip::make_address("127.0.0.1"), 0}};
    port = a.local_endpoint().port();
  } // closed: nothing listens there now
  probe_workload w;
  load::recorder rec{w.histograms(), 0};
  load::http_run_settings s;
  s.sched.rate = 50;
  s.sched.count = 5;
  s.connections = 2;
  s.progress = load::progress_mode::quiet;
  load::run_http(w, rec, local(port), s);
  auto e = rec.errors();
  EXPECT_EQ(e.by_class[static_cast<size_t>(load::error_class::connect)], 5u);
  EXPECT_EQ(rec.sent_count(), 5u);
  EXPECT_EQ(rec.ok_count(), 0u);
}

} // namespace
