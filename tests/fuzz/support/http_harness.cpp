#include "tests/fuzz/support/http_harness.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/parse.hpp>

#include "actors/documents/document_routes.hpp"
#include "actors/thoughts/thought_routes.hpp"
#include "bridges/http/auth.hpp"
#include "bridges/http/server.hpp"
#include "bridges/http/sse_stream.hpp"
#include "runtime/logging/log.hpp"
#include "tests/fuzz/support/check.hpp"

namespace distiller::fuzzing {

namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

constexpr const char* stamp = "2026-11-22T05:55:40.123Z";

documents::job_row job(std::string id, std::string filename, std::string type,
                       int64_t size) {
  documents::job_row j;
  j.job_id = std::move(id);
  j.filename = std::move(filename);
  j.content_type = std::move(type);
  j.file_size = size;
  j.status = documents::job_status::pending;
  j.trace_id = "fuzz";
  j.created_at = stamp;
  j.updated_at = stamp;
  return j;
}

/// Answers every call at once, as a healthy pipeline would.
class fake_documents : public documents::document_service {
 public:
  void upload(documents::upload_request req,
              documents::reply<documents::job_row> done) override {
    auto size = static_cast<int64_t>(req.content.size());
    done(job("11111111-2222-4333-8444-555555555555", std::move(req.filename),
             std::move(req.content_type), size));
  }
  void status(std::string job_id,
              documents::reply<documents::job_row> done) override {
    done(job(std::move(job_id), "a.txt", "text/plain", 5));
  }
  void list_jobs(int, int, std::optional<documents::job_status>,
                 documents::reply<documents::job_page> done) override {
    documents::job_page page;
    page.jobs.push_back(
        job("11111111-2222-4333-8444-555555555555", "a.txt", "text/plain", 5));
    page.total = 1;
    done(std::move(page));
  }
  void file(std::string,
            documents::reply<documents::stored_file> done) override {
    done(documents::stored_file{"a.txt", "text/plain; charset=utf-8", "hello"});
  }
  void query(std::string question, int, std::string,
             documents::reply<documents::query_answer> done) override {
    documents::query_answer a;
    a.answer = "An answer to: " + question;
    a.sources.push_back({"c1", "11111111-2222-4333-8444-555555555555", "a.txt",
                         0.5, "hello", "page 1"});
    done(std::move(a));
  }
  void events(std::string job_id, std::optional<uint64_t>,
              http::responder res) override {
    // A short stream: one event, then the end (as for a final job).
    auto s = res.start_sse(0ms);
    s->send("job", "{\"job_id\":\"" + std::to_string(job_id.size()) + "\"}",
            "1");
    s->close();
  }
};

class fake_thoughts : public thoughts::thought_service {
 public:
  void submit(thoughts::submission s,
              thoughts::reply<thoughts::thought_store::created> done) override {
    thoughts::thought_store::created c;
    c.thought.thought_id = "21111111-2222-4333-8444-555555555555";
    c.thought.user_id = s.user_id;
    c.thought.text = s.text;
    c.thought.status = thoughts::thought_status::pending;
    c.thought.created_at = stamp;
    c.thought.updated_at = stamp;
    done(std::move(c));
  }
  void get(std::string thought_id,
           thoughts::reply<thoughts::thought_row> done) override {
    done(http::api_error::not_found("no thought " + thought_id));
  }
  void list(std::string, int, std::optional<thoughts::list_cursor>,
            thoughts::reply<thoughts::thought_page> done) override {
    done(thoughts::thought_page{});
  }
  void stream(std::string, std::optional<uint64_t>,
              http::responder res) override {
    auto s = res.start_sse(0ms);
    s->comment("fuzz");
    s->close();
  }
  int max_text_chars() const override { return 10000; }
};

} // namespace

struct http_harness::state {
  std::shared_ptr<http::router> routes = std::make_shared<http::router>();
  std::unique_ptr<http::server> server;
};

http_harness& http_harness::get() {
  static http_harness h;
  return h;
}

http_harness::http_harness() : s_(std::make_unique<state>()) {
  // Handlers log refusals at warn; millions of them help nobody.
  log::set_level(log::level::error);
  http::http_config cfg;
  cfg.host = "127.0.0.1";
  cfg.port = 0;
  cfg.threads = 1;
  cfg.request_timeout = 5s;
  cfg.auth.required = true;
  cfg.auth.tokens = {
      http::token_entry_for(admin_token, "admin"),
      http::token_entry_for(user_token, "user=" + std::string{token_user})};
  documents::document_routes_config dc;
  dc.max_file_bytes = 64 * 1024;
  documents::add_document_routes(*s_->routes,
                                 std::make_shared<fake_documents>(), dc);
  thoughts::add_thought_routes(*s_->routes, std::make_shared<fake_thoughts>());
  s_->server = std::make_unique<http::server>(cfg, s_->routes);
  port_ = s_->server->start();
}

http_harness::~http_harness() {
  if (s_->server)
    s_->server->stop();
}

std::string http_harness::exchange(std::string_view bytes) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  FUZZ_CHECK(fd >= 0, "socket()");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port_);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  FUZZ_CHECK(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) ==
                 0,
             "connect to the harness's server");
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);

  std::string got;
  size_t sent = 0;
  bool write_open = true;
  if (bytes.empty()) {
    ::shutdown(fd, SHUT_WR);
    write_open = false;
  }
  auto deadline = std::chrono::steady_clock::now() + 10s;
  char buf[16384];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    FUZZ_CHECK(left > 0, "the server answered and closed within 10 s");
    pollfd p{fd, static_cast<short>(POLLIN | (write_open ? POLLOUT : 0)), 0};
    int n = ::poll(&p, 1, static_cast<int>(left));
    if (n < 0 && errno == EINTR)
      continue;
    FUZZ_CHECK(n >= 0, "poll()");
    if (write_open && (p.revents & (POLLOUT | POLLERR | POLLHUP))) {
      auto w =
          ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (w > 0)
        sent += static_cast<size_t>(w);
      if (w < 0 && errno != EAGAIN && errno != EINTR)
        write_open = false; // the server closed while we wrote
      else if (sent == bytes.size()) {
        ::shutdown(fd, SHUT_WR);
        write_open = false;
      }
    }
    if (p.revents & (POLLIN | POLLERR | POLLHUP)) {
      auto r = ::recv(fd, buf, sizeof buf, 0);
      if (r > 0) {
        got.append(buf, static_cast<size_t>(r));
        continue;
      }
      if (r == 0 || (errno != EAGAIN && errno != EINTR))
        break; // closed (a reset after the answer counts as closed too)
    }
  }
  ::close(fd);
  return got;
}

std::vector<std::string> request_methods(std::string_view bytes) {
  std::vector<std::string> methods;
  while (!bytes.empty()) {
    bhttp::request_parser<bhttp::string_body> p;
    p.eager(true);
    p.header_limit(16 * 1024);
    // A body longer than what is left is never complete (and must not be
    // reserved: Content-Length is the client's word).
    p.body_limit(bytes.size());
    beast::error_code ec;
    size_t used = 0;
    while (!p.is_done()) {
      auto n = p.put(
          boost::asio::buffer(bytes.data() + used, bytes.size() - used), ec);
      used += n;
      if (ec || n == 0)
        break;
    }
    if (!p.is_done())
      break;
    methods.emplace_back(p.get().method_string());
    bytes.remove_prefix(used);
  }
  return methods;
}

namespace {

using response_message = bhttp::response<bhttp::string_body>;

/// Parses one response from the front of `raw` (without a body when `head`).
/// Returns the bytes it took, 0 when `raw` does not start with a whole one;
/// `header_only` tells whether at least its header was whole.
size_t parse_response(std::string_view raw, bool head, response_message& msg,
                      bool& header_only, std::string& why) {
  bhttp::response_parser<bhttp::string_body> p;
  p.eager(true);
  p.header_limit(64 * 1024);
  p.body_limit(raw.size());
  p.skip(head);
  beast::error_code ec;
  size_t used = 0;
  while (!p.is_done()) {
    auto n =
        p.put(boost::asio::buffer(raw.data() + used, raw.size() - used), ec);
    used += n;
    if (ec || n == 0)
      break;
  }
  header_only = p.is_header_done();
  why = ec ? ec.message() : "incomplete";
  if (header_only)
    msg = p.release();
  return p.is_done() ? used : 0;
}

} // namespace

std::vector<seen_response>
check_responses(std::string_view raw, const std::vector<std::string>& sent) {
  std::vector<seen_response> out;
  while (!raw.empty()) {
    bool known = out.size() < sent.size();
    bool head = known && sent[out.size()] == "HEAD";
    response_message m;
    bool header_whole = false;
    std::string why;
    size_t used = parse_response(raw, head, m, header_whole, why);
    if (used == 0 && !known && header_whole) {
      // An answer to bytes the client-side parse did not read as a whole
      // request (a body cut short, say): it may be to a HEAD, bodiless.
      response_message h;
      bool whole = false;
      std::string ignored;
      auto n = parse_response(raw, true, h, whole, ignored);
      auto next = raw.substr(n);
      if (n > 0 && (next.empty() || next.substr(0, 5) == "HTTP/")) {
        used = n;
        head = true;
        m = std::move(h);
      }
    }
    if (used == 0 && header_whole &&
        m[bhttp::field::content_type] == "text/event-stream") {
      // The client's half-close is how an SSE client leaves: the server
      // ends the stream there, whether or not it had sent its last chunk.
      FUZZ_CHECK(m.result_int() == 200, "a stream starts with 200");
      break;
    }
    if (used == 0) {
      std::fprintf(stderr, "not a response (%s): %.*s\n", why.c_str(),
                   static_cast<int>(std::min<size_t>(raw.size(), 400)),
                   raw.data());
      FUZZ_CHECK(false, "the server's bytes are whole responses");
    }
    raw.remove_prefix(used);
    unsigned status = m.result_int();
    FUZZ_CHECK(status >= 100 && status <= 599, "a valid status");
    if (status < 200)
      continue; // 100 Continue before the answer
    FUZZ_CHECK(status < 500 || status == 501 || status == 503,
               "no input makes the node fail (5xx other than 501/503)");
    FUZZ_CHECK(m[bhttp::field::server] == "distiller", "Server: distiller");
    FUZZ_CHECK(!m["x-trace-id"].empty(), "every response has x-trace-id");
    seen_response r;
    r.status = status;
    r.content_type = std::string{m[bhttp::field::content_type]};
    r.body = m.body();
    if (status >= 400) {
      FUZZ_CHECK(r.content_type == "application/json",
                 "an error is application/json");
      if (!head) {
        boost::system::error_code jec;
        auto v = json::parse(r.body, jec);
        FUZZ_CHECK(!jec && v.is_object(), "an error body is a JSON object");
        auto& o = v.as_object();
        auto* e = o.if_contains("error");
        auto* d = o.if_contains("detail");
        FUZZ_CHECK(e && e->is_string() && !e->as_string().empty(),
                   "an error body names its error");
        FUZZ_CHECK(d && d->is_string(), "an error body has a detail");
      }
    }
    if (std::getenv("DISTILLER_FUZZ_SHOW"))
      std::fprintf(stderr, "answer %u %s %s\n", r.status,
                   r.content_type.c_str(), r.body.substr(0, 200).c_str());
    out.push_back(std::move(r));
    FUZZ_CHECK(out.size() <= sent.size() + 1,
               "at most one answer per request (and one for bad bytes)");
  }
  return out;
}

} // namespace distiller::fuzzing
