// Integration tests of the document pipeline's HTTP routes over real HTTP:
// the façade's server on a free port with the document, node and OpenAPI
// routes, against a fake `document_service` (the real pipeline has its own
// end-to-end tests). Every happy path and every bad-input answer, the SSE
// job stream (initial state, updates, close, the subscribe-before-read
// race), and /openapi.json against the router's table. Deadlines
// everywhere; no fixed sleeps.

#include <gtest/gtest.h>

#include <atomic>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include <boost/json.hpp>

#include <caf/all.hpp>

#include "actors/broadcast/broadcaster.hpp"
#include "actors/documents/document_routes.hpp"
#include "actors/documents/job_stream.hpp"
#include "bridges/http/openapi.hpp"
#include "bridges/http/server.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/testing.hpp"
#include "tests/support/zip_writer.hpp"

using namespace distiller;
using namespace std::chrono_literals;
namespace dt = distiller::testing;
namespace docs = distiller::documents;
namespace bhttp = boost::beast::http;
namespace json = boost::json;

namespace {

// -- a fake pipeline ---------------------------------------------------------

docs::job_row make_job(std::string id, std::string status, int processed = 0,
                       int total = 0) {
  docs::job_row j;
  j.job_id = std::move(id);
  j.filename = "notes.txt";
  j.content_type = "text/plain";
  j.file_size = 12;
  j.status = docs::parse_job_status(status).value();
  j.progress = j.status == docs::job_status::completed ? 100 : 10;
  j.total_chunks = total;
  j.processed_chunks = processed;
  j.created_at = "2026-11-22T09:30:00.000Z";
  j.updated_at = "2026-11-22T09:30:01.000Z";
  return j;
}

class fake_service : public docs::document_service {
 public:
  fake_service() {
    broadcast::broadcast_config bcfg;
    bcfg.heartbeat = 60s;
    bc = std::make_shared<broadcast::broadcaster>(sys, bcfg, nullptr, nullptr);
  }

  ~fake_service() override {
    bc->stop();
    std::vector<std::thread> ts;
    {
      std::lock_guard<std::mutex> guard{mtx};
      ts.swap(threads);
    }
    for (auto& t : ts)
      t.join();
  }

  // -- what the test sets up and looks at ------------------------------------

  std::mutex mtx;
  std::map<std::string, docs::job_row> jobs;
  std::map<std::string, docs::stored_file> files;
  std::vector<docs::upload_request> uploads;
  struct list_call {
    int limit;
    int offset;
    std::optional<docs::job_status> status;
  };
  std::vector<list_call> list_calls;
  struct query_call {
    std::string question;
    int top_k;
    std::string trace;
  };
  std::vector<query_call> queries;
  /// The next call (any kind) fails with this.
  std::optional<docs::service_error> fail_next;
  /// The streams' replay reads (the job's current state) wait here for the
  /// test when set.
  bool defer_reads = false;
  std::deque<std::function<void(std::optional<docs::job_row>)>> deferred;
  caf::actor_system_config sys_cfg;
  caf::actor_system sys{sys_cfg};
  std::shared_ptr<broadcast::broadcaster> bc;

  /// A new state of a job, as the pipeline would publish it.
  void publish(const docs::job_row& j) {
    bc->publish(docs::job_channel(j.job_id), docs::job_event(j));
  }

  /// Jobs that have a stream open.
  size_t watched() { return bc->channels("job:").size(); }
  bool watched(const std::string& id) {
    for (auto& c : bc->channels("job:"))
      if (c == docs::job_channel(id))
        return true;
    return false;
  }

  void put_job(const docs::job_row& j) {
    std::lock_guard<std::mutex> guard{mtx};
    jobs[j.job_id] = j;
  }

  size_t deferred_reads() {
    std::lock_guard<std::mutex> guard{mtx};
    return deferred.size();
  }

  /// Answers the oldest deferred replay read with `j`.
  void answer_read(std::optional<docs::job_row> j) {
    std::function<void(std::optional<docs::job_row>)> r;
    {
      std::lock_guard<std::mutex> guard{mtx};
      r = std::move(deferred.front());
      deferred.pop_front();
    }
    r(std::move(j));
  }

  // -- document_service ------------------------------------------------------

  void upload(docs::upload_request req,
              docs::reply<docs::job_row> done) override {
    std::lock_guard<std::mutex> guard{mtx};
    if (take_failure(done))
      return;
    auto j = make_job(make_uuid(), "pending");
    j.filename = req.filename;
    j.content_type = req.content_type;
    j.file_size = static_cast<int64_t>(req.content.size());
    jobs[j.job_id] = j;
    files[j.job_id] = {req.filename, req.content_type, req.content};
    uploads.push_back(std::move(req));
    // Like the real service: the answer comes from another thread.
    threads.emplace_back([done, j] { done(j); });
  }

  void status(std::string job_id, docs::reply<docs::job_row> done) override {
    std::lock_guard<std::mutex> guard{mtx};
    if (take_failure(done))
      return;
    auto i = jobs.find(job_id);
    docs::outcome<docs::job_row> o =
        i == jobs.end() ? docs::outcome<docs::job_row>{docs::service_error{
                              docs::service_error::kind::not_found, "not_found",
                              "no job " + job_id}}
                        : docs::outcome<docs::job_row>{i->second};
    threads.emplace_back([done, o] { done(o); });
  }

  void list_jobs(int limit, int offset, std::optional<docs::job_status> status,
                 docs::reply<docs::job_page> done) override {
    std::unique_lock<std::mutex> lock{mtx};
    if (take_failure(done))
      return;
    list_calls.push_back({limit, offset, status});
    docs::job_page page;
    for (auto& [id, j] : jobs)
      if (!status || j.status == *status)
        page.jobs.push_back(j);
    page.total = static_cast<int64_t>(page.jobs.size());
    lock.unlock();
    done(page); // synchronous, on the I/O thread: must work too
  }

  void file(std::string job_id, docs::reply<docs::stored_file> done) override {
    std::unique_lock<std::mutex> lock{mtx};
    if (take_failure(done))
      return;
    auto i = files.find(job_id);
    if (i == files.end()) {
      lock.unlock();
      done(docs::service_error{docs::service_error::kind::not_found,
                               "not_found", "no file for job " + job_id});
      return;
    }
    auto f = i->second;
    lock.unlock();
    done(f);
  }

  void query(std::string question, int top_k, std::string trace_id,
             docs::reply<docs::query_answer> done) override {
    std::unique_lock<std::mutex> lock{mtx};
    if (take_failure(done))
      return;
    queries.push_back({question, top_k, trace_id});
    lock.unlock();
    docs::query_answer a;
    a.answer = "about: " + question;
    for (int i = 0; i < std::min(top_k, 2); ++i)
      a.sources.push_back({"chunk-" + std::to_string(i), "job-1", "notes.txt",
                           1.0 / (i + 1), "text " + std::to_string(i)});
    done(a);
  }

  void events(std::string job_id, std::optional<uint64_t> after,
              http::responder res) override {
    std::optional<docs::job_row> job;
    {
      std::lock_guard<std::mutex> guard{mtx};
      if (auto i = jobs.find(job_id); i != jobs.end())
        job = i->second;
    }
    if (!job) {
      res.send(
          http::response::error(404, "not_found", "no job with id " + job_id));
      return;
    }
    // The real pipeline reads the job again in the replay; so does this
    // one, from the map — or waits for the test (defer_reads).
    auto source = docs::job_source([this](const std::string& id) {
      std::unique_lock<std::mutex> lock{mtx};
      if (defer_reads) {
        std::promise<std::optional<docs::job_row>> p;
        auto f = p.get_future();
        deferred.push_back(
            [&p](std::optional<docs::job_row> j) { p.set_value(j); });
        lock.unlock();
        return f.get();
      }
      auto i = jobs.find(id);
      return i == jobs.end() ? std::nullopt
                             : std::optional<docs::job_row>{i->second};
    });
    docs::open_job_stream(bc, job_id, after, std::move(res), source);
  }

 private:
  template <class T>
  bool take_failure(docs::reply<T>& done) {
    if (!fail_next)
      return false;
    auto e = *fail_next;
    fail_next.reset();
    threads.emplace_back([done, e] { done(e); });
    return true;
  }

  std::vector<std::thread> threads;
};

// -- multipart bodies ---------------------------------------------------------

const std::string boundary = "----distiller-test-7MA4YWxkTrZu0gW";

struct form_part {
  std::string name;
  std::optional<std::string> filename;
  std::string content_type;
  std::string content;
};

std::string multipart(const std::vector<form_part>& parts) {
  std::string out;
  for (auto& p : parts) {
    out += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" +
           p.name + "\"";
    if (p.filename)
      out += "; filename=\"" + *p.filename + "\"";
    out += "\r\n";
    if (!p.content_type.empty())
      out += "Content-Type: " + p.content_type + "\r\n";
    out += "\r\n" + p.content + "\r\n";
  }
  return out + "--" + boundary + "--\r\n";
}

const std::string form_type = "multipart/form-data; boundary=" + boundary;

// -- fixture
// -------------------------------------------------------------------

class document_routes_test : public ::testing::Test {
 protected:
  ~document_routes_test() override {
    if (srv)
      srv->stop();
    for (auto& t : helpers)
      if (t.joinable())
        t.join();
  }

  uint16_t start(docs::document_routes_config cfg = {}) {
    http::http_config hc;
    hc.host = "127.0.0.1";
    hc.port = 0;
    hc.threads = 2;
    hc.request_timeout = 10s;
    routes = std::make_shared<http::router>();
    api = std::make_shared<http::openapi_spec>("Distiller", "9.9.9");
    http::add_node_routes(*routes, {"node-test", "9.9.9"});
    http::describe_node_routes(*api);
    cfg.api_docs = api;
    docs::add_document_routes(*routes, svc, cfg);
    http::add_openapi_routes(*routes, api);
    srv = std::make_unique<http::server>(hc, routes);
    port = srv->start();
    return port;
  }

  dt::http_reply upload(const std::vector<form_part>& parts) {
    dt::http_client c{port};
    return c.post("/api/v2/documents/upload", multipart(parts), {}, form_type);
  }

  std::shared_ptr<fake_service> svc = std::make_shared<fake_service>();
  std::shared_ptr<http::router> routes;
  std::shared_ptr<http::openapi_spec> api;
  std::unique_ptr<http::server> srv;
  uint16_t port = 0;
  std::vector<std::thread> helpers;
};

json::object body_of(const dt::http_reply& r) {
  return json::parse(r.body).as_object();
}

/// Checks the façade's error shape and returns the body.
json::object expect_error(const dt::http_reply& r, unsigned status,
                          const char* error) {
  EXPECT_EQ(r.status, status) << r.body;
  EXPECT_EQ(r.header("content-type"), "application/json");
  auto body = body_of(r);
  EXPECT_EQ(body.at("error").as_string(), error) << r.body;
  EXPECT_TRUE(body.at("detail").is_string()) << r.body;
  EXPECT_FALSE(body.at("detail").as_string().empty()) << r.body;
  return body;
}

std::string detail_of(const json::object& body) {
  return std::string{body.at("detail").as_string()};
}

} // namespace

// -- upload
// --------------------------------------------------------------------

TEST_F(document_routes_test, upload_is_accepted_with_the_seed_fields) {
  start();
  auto content = std::string("binary\0\r\n--", 11) + boundary + "X\r\nend";
  auto r = upload({{"title", std::nullopt, "", "ignored"},
                   {"file", "some/dir/notes.txt", "text/plain", content}});
  ASSERT_EQ(r.status, 202u) << r.body;
  auto body = body_of(r);
  EXPECT_EQ(body.at("status").as_string(), "pending");
  EXPECT_EQ(body.at("message").as_string(), "Document upload accepted");
  EXPECT_EQ(body.at("filename").as_string(), "notes.txt");
  EXPECT_EQ(body.at("file_size").as_int64(), int64_t(content.size()));
  auto id = std::string{body.at("job_id").as_string()};
  EXPECT_EQ(r.header("location"), "/api/v2/documents/status/" + id);
  std::lock_guard<std::mutex> guard{svc->mtx};
  ASSERT_EQ(svc->uploads.size(), 1u);
  auto& up = svc->uploads[0];
  EXPECT_EQ(up.filename, "notes.txt");
  EXPECT_EQ(up.content_type, "text/plain");
  EXPECT_EQ(up.content, content); // byte-exact, NUL and CRLF included
  EXPECT_EQ(up.trace_id, r.header("x-trace-id"));
}

TEST_F(document_routes_test, upload_strips_windows_paths_and_guesses_types) {
  start();
  auto r = upload({{"file", "C:\\Users\\me\\Report.PDF",
                    "application/octet-stream", "%PDF-1.4 ..."}});
  ASSERT_EQ(r.status, 202u) << r.body;
  EXPECT_EQ(body_of(r).at("filename").as_string(), "Report.PDF");
  r = upload({{"file", "readme", "text/markdown", "# hi"}});
  ASSERT_EQ(r.status, 202u) << r.body; // no extension: the type decides
  std::lock_guard<std::mutex> guard{svc->mtx};
  ASSERT_EQ(svc->uploads.size(), 2u);
  EXPECT_EQ(svc->uploads[0].content_type, "application/pdf");
  EXPECT_EQ(svc->uploads[1].content_type, "text/markdown");
}

TEST_F(document_routes_test, upload_that_is_not_multipart_is_400) {
  start();
  dt::http_client c{port};
  auto r = c.post("/api/v2/documents/upload", R"({"file":"x"})");
  auto body = expect_error(r, 400, "invalid_multipart");
  EXPECT_NE(detail_of(body).find("not multipart/form-data"), std::string::npos);
  r = c.post("/api/v2/documents/upload", "--x\r\n", {}, "multipart/form-data");
  body = expect_error(r, 400, "invalid_multipart");
  EXPECT_NE(detail_of(body).find("no boundary"), std::string::npos);
  auto truncated = multipart({{"file", "a.txt", "text/plain", "abc"}});
  truncated.resize(truncated.size() - 4); // no final "--\r\n"
  r = c.post("/api/v2/documents/upload", truncated, {}, form_type);
  body = expect_error(r, 400, "invalid_multipart");
  EXPECT_NE(detail_of(body).find("missing final boundary"), std::string::npos)
      << detail_of(body);
  EXPECT_TRUE(svc->uploads.empty());
}

TEST_F(document_routes_test, upload_without_a_file_field_is_400) {
  start();
  expect_error(upload({{"document", "a.txt", "text/plain", "abc"}}), 400,
               "missing_file");
  expect_error(upload({{"file", std::nullopt, "", "just a text field"}}), 400,
               "missing_file");
  expect_error(upload({}), 400, "missing_file");
}

TEST_F(document_routes_test, upload_of_an_empty_file_is_400) {
  start();
  auto body = expect_error(upload({{"file", "empty.txt", "text/plain", ""}}),
                           400, "empty_file");
  EXPECT_NE(detail_of(body).find("empty.txt"), std::string::npos);
}

TEST_F(document_routes_test, upload_with_an_empty_file_name_is_400) {
  start();
  expect_error(upload({{"file", "", "text/plain", "abc"}}), 400,
               "invalid_filename");
  expect_error(upload({{"file", "some/dir/", "text/plain", "abc"}}), 400,
               "invalid_filename");
  expect_error(upload({{"file", "..", "text/plain", "abc"}}), 400,
               "invalid_filename");
}

TEST_F(document_routes_test, unsupported_type_is_415_with_the_list) {
  start();
  auto r = upload({{"file", "slides.pptx", "application/octet-stream", "PK"}});
  auto body = expect_error(r, 415, "unsupported_media_type");
  EXPECT_NE(detail_of(body).find("'.pptx'"), std::string::npos);
  // By default the text extractor's whole list.
  json::array expected;
  std::string listed;
  for (auto& x : docs::supported_extensions()) {
    expected.emplace_back(x);
    listed += (listed.empty() ? "" : ", ") + x;
  }
  EXPECT_NE(detail_of(body).find(listed), std::string::npos) << detail_of(body);
  EXPECT_EQ(body.at("supported_extensions").as_array(), expected);
  // An unknown extension is refused even with a text type.
  expect_error(upload({{"file", "a.exe", "text/plain", "MZ"}}), 415,
               "unsupported_media_type");
  expect_error(upload({{"file", "noext", "application/zip", "PK"}}), 415,
               "unsupported_media_type");
  EXPECT_TRUE(svc->uploads.empty());
}

TEST_F(document_routes_test, supported_extensions_come_from_the_config) {
  docs::document_routes_config cfg;
  cfg.supported_extensions = {".txt"};
  start(cfg);
  auto body = expect_error(upload({{"file", "a.md", "text/markdown", "#"}}),
                           415, "unsupported_media_type");
  EXPECT_NE(detail_of(body).find("supported extensions: .txt"),
            std::string::npos);
  EXPECT_EQ(upload({{"file", "a.TXT", "", "x"}}).status, 202u);
}

TEST_F(document_routes_test, content_of_another_type_is_415_naming_it) {
  start();
  const std::string zip = dt::zip_writer().add("a.txt", "hello").str();
  auto body =
      expect_error(upload({{"file", "report.pdf", "application/pdf", zip}}),
                   415, "unsupported_media_type");
  EXPECT_NE(detail_of(body).find("'report.pdf': the file is named as a PDF "
                                 "document but its content is"),
            std::string::npos)
      << detail_of(body);
  EXPECT_NE(detail_of(body).find("application/zip"), std::string::npos);
  EXPECT_TRUE(body.contains("supported_extensions"));
  EXPECT_TRUE(svc->uploads.empty());
}

TEST_F(document_routes_test, oversized_upload_is_413_before_the_body) {
  docs::document_routes_config cfg;
  cfg.max_file_bytes = 1000;
  cfg.multipart_overhead_bytes = 1000;
  start(cfg);
  // A header that announces too much and only a little of the body: the
  // server must answer without waiting for the rest.
  dt::http_client c{port, "127.0.0.1", 5s};
  c.write_raw("POST /api/v2/documents/upload HTTP/1.1\r\n"
              "Host: localhost\r\nContent-Type: " +
              form_type + "\r\nContent-Length: 2001\r\n\r\n--" + boundary);
  auto r = c.read_reply();
  auto body = expect_error(r, 413, "payload_too_large");
  EXPECT_NE(detail_of(body).find("2000"), std::string::npos);
  // Within the body limit but a file above max_file_bytes.
  expect_error(
      upload({{"file", "big.txt", "text/plain", std::string(1001, 'x')}}), 413,
      "file_too_large");
  EXPECT_EQ(
      upload({{"file", "ok.txt", "text/plain", std::string(1000, 'x')}}).status,
      202u);
  std::lock_guard<std::mutex> guard{svc->mtx};
  EXPECT_EQ(svc->uploads.size(), 1u);
}

TEST_F(document_routes_test, default_body_limit_is_50_mib_plus_overhead) {
  start();
  dt::http_client c{port, "127.0.0.1", 5s};
  auto limit = 50ull * 1024 * 1024 + 64 * 1024;
  c.write_raw("POST /api/v2/documents/upload HTTP/1.1\r\nHost: localhost\r\n"
              "Content-Type: " +
              form_type + "\r\nContent-Length: " + std::to_string(limit + 1) +
              "\r\n\r\nabc");
  auto body = expect_error(c.read_reply(), 413, "payload_too_large");
  EXPECT_NE(detail_of(body).find(std::to_string(limit)), std::string::npos);
}

TEST_F(document_routes_test, service_errors_map_to_status_codes) {
  start();
  struct mapping {
    docs::service_error::kind kind;
    unsigned status;
  };
  for (auto m : {mapping{docs::service_error::kind::invalid, 400},
                 mapping{docs::service_error::kind::not_found, 404},
                 mapping{docs::service_error::kind::unavailable, 503},
                 mapping{docs::service_error::kind::internal, 500}}) {
    {
      std::lock_guard<std::mutex> guard{svc->mtx};
      svc->fail_next = docs::service_error{m.kind, "boom", "it broke"};
    }
    auto r = upload({{"file", "a.txt", "text/plain", "abc"}});
    // One vocabulary: the kind's code, the detail for people.
    const char* code = m.status == 400   ? "invalid_argument"
                       : m.status == 404 ? "not_found"
                       : m.status == 503 ? "unavailable"
                                         : "internal";
    auto body = expect_error(r, m.status, code);
    EXPECT_EQ(detail_of(body), "it broke");
    if (m.status == 503) {
      EXPECT_EQ(r.header("retry-after"), "5");
    }
  }
  // An error without a detail gets the message as its detail.
  {
    std::lock_guard<std::mutex> guard{svc->mtx};
    svc->fail_next =
        docs::service_error{docs::service_error::kind::unavailable, "", "x"};
  }
  dt::http_client c{port};
  expect_error(c.get("/api/v2/documents/jobs"), 503, "unavailable");
}

TEST_F(document_routes_test, routes_without_a_service_answer_503) {
  svc.reset();
  start();
  expect_error(upload({{"file", "a.txt", "text/plain", "abc"}}), 503,
               "unavailable");
  dt::http_client c{port};
  expect_error(c.get("/api/v2/documents/status/x"), 503, "unavailable");
  expect_error(c.get("/api/v2/documents/x/events"), 503, "unavailable");
  expect_error(c.post("/api/v2/query", R"({"question":"q"})"), 503,
               "unavailable");
}

// -- status, jobs, file
// --------------------------------------------------------

TEST_F(document_routes_test, status_of_a_job) {
  start();
  auto j = make_job("job-1", "embedding", 3, 8);
  svc->put_job(j);
  dt::http_client c{port};
  auto r = c.get("/api/v2/documents/status/job-1");
  ASSERT_EQ(r.status, 200u) << r.body;
  auto body = body_of(r);
  EXPECT_EQ(body.at("job_id").as_string(), "job-1");
  EXPECT_EQ(body.at("filename").as_string(), "notes.txt");
  EXPECT_EQ(body.at("status").as_string(), "embedding");
  EXPECT_EQ(body.at("progress").as_int64(), 10);
  EXPECT_EQ(body.at("total_chunks").as_int64(), 8);
  EXPECT_EQ(body.at("processed_chunks").as_int64(), 3);
  EXPECT_EQ(body.at("created_at").as_string(), j.created_at);
  EXPECT_EQ(body.at("updated_at").as_string(), j.updated_at);
  EXPECT_FALSE(body.contains("error")); // only when set

  j = make_job("job-2", "failed");
  j.error = "not a PDF";
  svc->put_job(j);
  body = body_of(c.get("/api/v2/documents/status/job-2"));
  EXPECT_EQ(body.at("error").as_string(), "not a PDF");
}

TEST_F(document_routes_test, status_of_an_unknown_job_is_404) {
  start();
  dt::http_client c{port};
  auto body =
      expect_error(c.get("/api/v2/documents/status/nope"), 404, "not_found");
  EXPECT_NE(detail_of(body).find("nope"), std::string::npos);
}

TEST_F(document_routes_test, jobs_with_defaults_and_filters) {
  start();
  svc->put_job(make_job("a", "completed"));
  svc->put_job(make_job("b", "pending"));
  dt::http_client c{port};
  auto r = c.get("/api/v2/documents/jobs");
  ASSERT_EQ(r.status, 200u) << r.body;
  auto body = body_of(r);
  EXPECT_EQ(body.at("jobs").as_array().size(), 2u);
  EXPECT_EQ(body.at("total").as_int64(), 2);
  EXPECT_EQ(body.at("limit").as_int64(), 20);
  EXPECT_EQ(body.at("offset").as_int64(), 0);
  auto& first = body.at("jobs").as_array()[0].as_object();
  for (auto key : {"job_id", "filename", "status", "progress", "total_chunks",
                   "processed_chunks", "created_at", "updated_at"})
    EXPECT_TRUE(first.contains(key)) << key;

  body = body_of(c.get("/api/v2/documents/jobs?limit=100&offset=7&status="
                       "completed"));
  EXPECT_EQ(body.at("jobs").as_array().size(), 1u);
  EXPECT_EQ(body.at("limit").as_int64(), 100);
  EXPECT_EQ(body.at("offset").as_int64(), 7);
  std::lock_guard<std::mutex> guard{svc->mtx};
  ASSERT_EQ(svc->list_calls.size(), 2u);
  EXPECT_EQ(svc->list_calls[0].limit, 20);
  EXPECT_EQ(svc->list_calls[0].offset, 0);
  EXPECT_FALSE(svc->list_calls[0].status.has_value());
  EXPECT_EQ(svc->list_calls[1].limit, 100);
  EXPECT_EQ(svc->list_calls[1].offset, 7);
  EXPECT_EQ(svc->list_calls[1].status, docs::job_status::completed);
}

TEST_F(document_routes_test, jobs_with_bad_parameters) {
  start();
  dt::http_client c{port};
  for (auto q : {"limit=0", "limit=101", "limit=x", "limit=5.0", "limit=-1",
                 "limit=99999999999999999999"})
    expect_error(c.get(std::string{"/api/v2/documents/jobs?"} + q), 422,
                 "invalid_limit");
  for (auto q : {"offset=-1", "offset=abc", "offset=1e3"})
    expect_error(c.get(std::string{"/api/v2/documents/jobs?"} + q), 422,
                 "invalid_offset");
  auto body = expect_error(c.get("/api/v2/documents/jobs?status=done"), 400,
                           "invalid_status");
  EXPECT_NE(detail_of(body).find("pending, processing, chunking, embedding, "
                                 "completed, failed"),
            std::string::npos);
  std::lock_guard<std::mutex> guard{svc->mtx};
  EXPECT_TRUE(svc->list_calls.empty());
}

TEST_F(document_routes_test, file_returns_the_original_bytes) {
  start();
  auto content = std::string("%PDF-1.4\r\n\x00\xff binary", 19);
  auto r = upload({{"file", "résumé 2026.pdf", "application/pdf", content}});
  ASSERT_EQ(r.status, 202u) << r.body;
  auto id = std::string{body_of(r).at("job_id").as_string()};
  dt::http_client c{port};
  auto f = c.get("/api/v2/documents/" + id + "/file");
  ASSERT_EQ(f.status, 200u);
  EXPECT_EQ(f.body, content);
  EXPECT_EQ(f.header("content-type"), "application/pdf");
  EXPECT_EQ(f.header("content-disposition"),
            "attachment; filename=\"r__sum__ 2026.pdf\"; "
            "filename*=UTF-8''r%C3%A9sum%C3%A9%202026.pdf");
  expect_error(c.get("/api/v2/documents/unknown/file"), 404, "not_found");
}

TEST_F(document_routes_test, part_headers_with_control_bytes_are_400) {
  start();
  // A bare CR that would reappear in GET …/file's headers, and bytes that
  // are not UTF-8 (which PostgreSQL refused with a 500 before).
  for (std::string type :
       {std::string{"text/plain\rSet-Cookie: a=b"}, std::string{"text/\xff"}}) {
    auto r = upload({{"file", "a.txt", type, "hello"}});
    expect_error(r, 400, "invalid_multipart");
  }
  std::lock_guard<std::mutex> guard{svc->mtx};
  EXPECT_TRUE(svc->uploads.empty());
}

TEST_F(document_routes_test, only_the_canonical_content_type_is_stored) {
  start();
  auto r = upload({{"file", "a.txt",
                    " Text/Plain ; Charset=\"ISO-8859-1\"; x=y", "caf\xe9"}});
  ASSERT_EQ(r.status, 202u) << r.body;
  // Not token/token: the extension decides.
  r = upload({{"file", "b.md", "what ever", "# b"}});
  ASSERT_EQ(r.status, 202u) << r.body;
  std::lock_guard<std::mutex> guard{svc->mtx};
  ASSERT_EQ(svc->uploads.size(), 2u);
  EXPECT_EQ(svc->uploads[0].content_type, "text/plain; charset=iso-8859-1");
  EXPECT_EQ(svc->uploads[1].content_type, "text/markdown");
}

TEST_F(document_routes_test, file_is_served_with_a_safe_type) {
  start();
  struct served {
    std::string stored, expected;
  };
  // The row may come from before header validation: whatever it holds, the
  // answer's Content-Type is one of three.
  for (auto& [stored, expected] : std::vector<served>{
           {"text/html", "application/octet-stream"},
           {"image/svg+xml", "application/octet-stream"},
           {"text/plain; charset=utf-8", "text/plain; charset=utf-8"},
           {"text/markdown", "text/plain"},
           {"application/pdf", "application/pdf"},
           {"text/plain\r\nX-Injected: 1", "application/octet-stream"},
           {"", "application/octet-stream"}}) {
    auto id = make_uuid();
    {
      std::lock_guard<std::mutex> guard{svc->mtx};
      svc->files[id] = {"page.html", stored, "<script>alert(1)</script>"};
    }
    dt::http_client c{port};
    auto f = c.get("/api/v2/documents/" + id + "/file");
    ASSERT_EQ(f.status, 200u) << stored;
    EXPECT_EQ(f.header("content-type"), expected) << stored;
    EXPECT_EQ(f.header("x-content-type-options"), "nosniff");
    EXPECT_EQ(f.header("content-disposition").rfind("attachment;", 0), 0u);
    EXPECT_TRUE(f.header("x-injected").empty());
  }
}

// -- query
// -----------------------------------------------------------------------

TEST_F(document_routes_test, query_answers_with_sources) {
  start();
  dt::http_client c{port};
  auto r =
      c.post("/api/v2/query",
             R"({"question": "  What is machine learning?  ", "top_k": 3})");
  ASSERT_EQ(r.status, 200u) << r.body;
  auto body = body_of(r);
  EXPECT_EQ(body.at("answer").as_string(), "about: What is machine learning?");
  auto& sources = body.at("sources").as_array();
  ASSERT_EQ(sources.size(), 2u);
  auto& s = sources[0].as_object();
  EXPECT_EQ(s.at("chunk_id").as_string(), "chunk-0");
  EXPECT_EQ(s.at("job_id").as_string(), "job-1");
  EXPECT_EQ(s.at("filename").as_string(), "notes.txt");
  EXPECT_DOUBLE_EQ(s.at("score").as_double(), 1.0);
  EXPECT_EQ(s.at("text").as_string(), "text 0");

  ASSERT_EQ(c.post("/api/v2/query", R"({"question": "q"})").status, 200u);
  ASSERT_EQ(
      c.post("/api/v2/query", R"({"question": "q", "top_k": null})").status,
      200u);
  ASSERT_EQ(
      c.post("/api/v2/query", R"({"question": "q", "top_k": 100})").status,
      200u);
  std::lock_guard<std::mutex> guard{svc->mtx};
  ASSERT_EQ(svc->queries.size(), 4u);
  EXPECT_EQ(svc->queries[0].question, "What is machine learning?");
  EXPECT_EQ(svc->queries[0].top_k, 3);
  EXPECT_EQ(svc->queries[0].trace, r.header("x-trace-id"));
  EXPECT_EQ(svc->queries[1].top_k, 5); // the default
  EXPECT_EQ(svc->queries[2].top_k, 5);
  EXPECT_EQ(svc->queries[3].top_k, 100);
}

TEST_F(document_routes_test, query_with_bad_json_or_question_is_400) {
  start();
  dt::http_client c{port};
  expect_error(c.post("/api/v2/query", "{not json"), 400, "invalid_json");
  expect_error(c.post("/api/v2/query", ""), 400, "invalid_json");
  expect_error(c.post("/api/v2/query", R"(["question"])"), 400, "invalid_json");
  for (auto b : {R"({})", R"({"question": ""})", R"({"question": " \t\n "})",
                 R"({"question": 42})", R"({"question": null})"})
    expect_error(c.post("/api/v2/query", b), 400, "invalid_question");
  std::lock_guard<std::mutex> guard{svc->mtx};
  EXPECT_TRUE(svc->queries.empty());
}

TEST_F(document_routes_test, query_with_bad_top_k_is_422) {
  start();
  dt::http_client c{port};
  for (auto k : {"0", "101", "\"x\"", "\"5\"", "2.5", "-3", "true",
                 "18446744073709551615", "[1]"})
    expect_error(
        c.post("/api/v2/query",
               std::string{R"({"question": "q", "top_k": )"} + k + "}"),
        422, "invalid_top_k");
  std::lock_guard<std::mutex> guard{svc->mtx};
  EXPECT_TRUE(svc->queries.empty());
}

// -- the job event stream
// ------------------------------------------------------

namespace {

json::object data_of(const dt::sse_event& e) {
  return json::parse(e.data).as_object();
}

} // namespace

TEST_F(document_routes_test, events_send_the_state_then_updates_then_close) {
  start();
  svc->put_job(make_job("job-1", "pending"));
  dt::sse_reader sse{port, "/api/v2/documents/job-1/events"};
  ASSERT_EQ(sse.reply().status, 200u);
  EXPECT_EQ(sse.reply().header("content-type"), "text/event-stream");
  auto e = sse.next();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->event, "pending");
  EXPECT_EQ(data_of(*e).at("status").as_string(), "pending");
  EXPECT_EQ(data_of(*e).at("job_id").as_string(), "job-1");
  ASSERT_TRUE(svc->watched("job-1"));

  svc->publish(make_job("job-1", "processing"));
  svc->publish(make_job("job-1", "chunking"));
  svc->publish(make_job("job-1", "embedding", 0, 2));
  svc->publish(make_job("job-1", "embedding", 1, 2));
  svc->publish(make_job("job-1", "embedding", 1, 2)); // dup
  svc->publish(make_job("job-1", "chunking"));        // older
  auto done = make_job("job-1", "completed", 2, 2);
  svc->publish(done);
  svc->publish(done); // after the end: nothing

  std::vector<std::pair<std::string, int64_t>> got;
  while (auto ev = sse.next())
    got.emplace_back(ev->event, data_of(*ev).at("processed_chunks").as_int64());
  std::vector<std::pair<std::string, int64_t>> expected{{"processing", 0},
                                                        {"chunking", 0},
                                                        {"embedding", 0},
                                                        {"embedding", 1},
                                                        {"completed", 2}};
  EXPECT_EQ(got, expected);
  EXPECT_TRUE(sse.wait_ended(5s));
  EXPECT_TRUE(dt::wait_until([&] { return svc->watched() == 0; }, 5s));
}

TEST_F(document_routes_test, events_of_a_final_job_send_one_event_and_end) {
  start();
  auto j = make_job("job-9", "failed");
  j.error = "no text";
  svc->put_job(j);
  dt::sse_reader sse{port, "/api/v2/documents/job-9/events"};
  ASSERT_EQ(sse.reply().status, 200u);
  auto e = sse.next();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->event, "failed");
  EXPECT_EQ(data_of(*e).at("error").as_string(), "no text");
  EXPECT_FALSE(sse.next(2s));
  EXPECT_TRUE(sse.wait_ended(5s));
  EXPECT_TRUE(dt::wait_until([&] { return svc->watched() == 0; }, 5s));
}

TEST_F(document_routes_test, events_of_an_unknown_job_are_a_404) {
  start();
  dt::sse_reader sse{port, "/api/v2/documents/ghost/events"};
  EXPECT_EQ(sse.reply().status, 404u);
  EXPECT_EQ(sse.reply().header("content-type"), "application/json");
  auto body = json::parse(sse.reply().body).as_object();
  EXPECT_EQ(body.at("error").as_string(), "not_found");
  EXPECT_TRUE(dt::wait_until([&] { return svc->watched() == 0; }, 5s));
}

TEST_F(document_routes_test, events_subscribe_before_reading_the_state) {
  // Changes that happen while the stream reads the job's state must neither
  // be lost nor go out before (or duplicate) the initial state.
  start();
  svc->put_job(make_job("job-r", "pending"));
  svc->defer_reads = true;
  helpers.emplace_back([this] {
    // The read waits: the subscription exists already.
    ASSERT_TRUE(dt::wait_until([&] { return svc->deferred_reads() == 1; }, 5s));
    EXPECT_TRUE(svc->watched("job-r"));
    svc->publish(make_job("job-r", "pending"));
    svc->publish(make_job("job-r", "processing"));
    svc->publish(make_job("job-r", "chunking"));
    svc->publish(make_job("job-r", "embedding", 0, 4));
    // The read saw an older state than the updates above.
    svc->answer_read(make_job("job-r", "processing"));
  });
  dt::sse_reader sse{port, "/api/v2/documents/job-r/events"};
  ASSERT_EQ(sse.reply().status, 200u);
  std::vector<std::string> got;
  for (int i = 0; i < 3; ++i) {
    auto e = sse.next();
    ASSERT_TRUE(e) << "event " << i;
    got.push_back(e->event);
  }
  EXPECT_EQ(got,
            (std::vector<std::string>{"processing", "chunking", "embedding"}));
  // Later updates still flow, and the newest state wins.
  svc->publish(make_job("job-r", "embedding", 4, 4));
  svc->publish(make_job("job-r", "completed", 4, 4));
  auto e = sse.next();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->event, "embedding");
  EXPECT_EQ(data_of(*e).at("processed_chunks").as_int64(), 4);
  e = sse.next();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->event, "completed");
  EXPECT_TRUE(sse.wait_ended(5s));
}

TEST_F(document_routes_test, events_buffered_before_a_final_state_read) {
  // The read already says completed: the stream sends that one event and
  // ends, whatever was buffered.
  start();
  svc->put_job(make_job("job-f", "embedding", 0, 2));
  svc->defer_reads = true;
  helpers.emplace_back([this] {
    ASSERT_TRUE(dt::wait_until([&] { return svc->deferred_reads() == 1; }, 5s));
    svc->publish(make_job("job-f", "embedding", 1, 2));
    svc->answer_read(make_job("job-f", "completed", 2, 2));
  });
  dt::sse_reader sse{port, "/api/v2/documents/job-f/events"};
  ASSERT_EQ(sse.reply().status, 200u);
  auto e = sse.next();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->event, "completed");
  EXPECT_FALSE(sse.next(1s));
  EXPECT_TRUE(sse.wait_ended(5s));
}

TEST_F(document_routes_test, events_resume_after_the_last_event_id) {
  start();
  svc->put_job(make_job("job-l", "embedding", 3, 9));
  std::string id;
  {
    dt::sse_reader sse{port, "/api/v2/documents/job-l/events"};
    auto e = sse.next();
    ASSERT_TRUE(e);
    EXPECT_EQ(e->event, "embedding");
    id = e->id;
    EXPECT_EQ(id, std::to_string(
                      docs::job_seq(make_job("job-l", "embedding", 3, 9))));
  }
  // Nothing newer than what the client has: no event until a change.
  dt::sse_reader again{port,
                       "/api/v2/documents/job-l/events?last_event_id=" + id};
  ASSERT_EQ(again.reply().status, 200u);
  EXPECT_FALSE(again.next(500ms));
  svc->publish(make_job("job-l", "embedding", 4, 9));
  auto e = again.next();
  ASSERT_TRUE(e);
  EXPECT_EQ(data_of(*e).at("processed_chunks").as_int64(), 4);
  dt::sse_reader bad{port, "/api/v2/documents/job-l/events?last_event_id=abc"};
  EXPECT_EQ(bad.reply().status, 400u);
  EXPECT_EQ(json::parse(bad.reply().body).at("error").as_string(),
            "invalid_last_event_id");
}

TEST_F(document_routes_test, a_client_that_leaves_drops_the_watch) {
  start();
  svc->put_job(make_job("job-2", "chunking"));
  {
    dt::sse_reader sse{port, "/api/v2/documents/job-2/events"};
    ASSERT_TRUE(sse.next());
    EXPECT_TRUE(svc->watched("job-2"));
    sse.close();
  }
  // The server notices the close on its next write (or read): keep
  // publishing until the stream is gone.
  int processed = 0;
  EXPECT_TRUE(dt::wait_until(
      [&] {
        // Each update is newer, so each one is written.
        ++processed;
        svc->publish(make_job("job-2", "embedding", processed, 100000));
        return svc->watched() == 0;
      },
      10s, 20ms));
}

TEST_F(document_routes_test, many_streams_of_one_job_get_every_update) {
  start();
  svc->put_job(make_job("job-m", "embedding", 0, 50));
  std::vector<std::unique_ptr<dt::sse_reader>> readers;
  for (int i = 0; i < 4; ++i) {
    readers.push_back(std::make_unique<dt::sse_reader>(
        port, "/api/v2/documents/job-m/events"));
    ASSERT_TRUE(readers.back()->next());
  }
  ASSERT_TRUE(svc->watched("job-m"));
  std::thread publisher([&] {
    for (int k = 1; k <= 50; ++k)
      svc->publish(
          make_job("job-m", k == 50 ? "completed" : "embedding", k, 50));
  });
  publisher.join();
  for (auto& r : readers) {
    int expected = 1;
    while (auto e = r->next()) {
      EXPECT_EQ(data_of(*e).at("processed_chunks").as_int64(), expected);
      ++expected;
    }
    EXPECT_EQ(expected, 51);
  }
}

// -- OpenAPI and /docs
// -----------------------------------------------------------

TEST_F(document_routes_test, openapi_lists_every_registered_route) {
  start();
  dt::http_client c{port};
  auto r = c.get("/openapi.json");
  ASSERT_EQ(r.status, 200u);
  auto doc = body_of(r);
  EXPECT_EQ(doc.at("openapi").as_string(), "3.0.3");
  EXPECT_EQ(doc.at("info").at("version").as_string(), "9.9.9");
  auto& paths = doc.at("paths").as_object();
  auto table = routes->routes();
  ASSERT_GE(table.size(), 12u); // 6 document, 4 node, 2 docs
  size_t operations = 0;
  for (auto& [verb, pattern] : table) {
    auto method = std::string{bhttp::to_string(verb)};
    for (auto& ch : method)
      ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    auto path = http::openapi_path(pattern);
    ASSERT_TRUE(paths.contains(path)) << path;
    auto& item = paths.at(path).as_object();
    ASSERT_TRUE(item.contains(method)) << method << " " << path;
    auto& op = item.at(method).as_object();
    EXPECT_FALSE(op.contains("x-undocumented")) << method << " " << path;
    EXPECT_TRUE(op.contains("summary")) << path;
    EXPECT_FALSE(op.at("responses").as_object().empty()) << path;
    if (path.find('{') != std::string::npos) {
      bool has_path_param = false;
      for (auto& p : op.at("parameters").as_array())
        has_path_param |= p.at("in").as_string() == "path";
      EXPECT_TRUE(has_path_param) << path;
    }
    ++operations;
  }
  size_t documented = 0;
  for (auto& [path, item] : paths)
    documented += item.as_object().size();
  EXPECT_EQ(documented, operations); // nothing that is not registered
  for (auto path : {"/api/v2/documents/upload", "/api/v2/query", "/health",
                    "/ready", "/metrics", "/inspect", "/openapi.json", "/docs",
                    "/api/v2/documents/{job_id}/events"})
    EXPECT_TRUE(paths.contains(path)) << path;

  // Every $ref points at a schema that exists.
  auto& schemas = doc.at("components").at("schemas").as_object();
  std::function<void(const json::value&)> check = [&](const json::value& v) {
    if (auto* o = v.if_object()) {
      if (auto* ref = o->if_contains("$ref")) {
        std::string s{ref->as_string()};
        auto name = s.substr(s.rfind('/') + 1);
        EXPECT_TRUE(schemas.contains(name)) << s;
      }
      for (auto& [k, x] : *o)
        check(x);
    } else if (auto* a = v.if_array()) {
      for (auto& x : *a)
        check(x);
    }
  };
  check(doc);
  auto& exts = schemas.at("SupportedExtensions").at("enum").as_array();
  EXPECT_EQ(exts.size(), docs::supported_extensions().size());
}

TEST_F(document_routes_test, openapi_marks_routes_nobody_described) {
  start();
  routes->add(bhttp::verb::get, "/extra/{rest...}",
              [](http::request&&, http::responder res) {
                res.send(http::response::text(200, "x"));
              });
  dt::http_client c{port};
  auto doc = body_of(c.get("/openapi.json"));
  auto& op = doc.at("paths").at("/extra/{rest}").at("get").as_object();
  EXPECT_TRUE(op.at("x-undocumented").as_bool());
  EXPECT_EQ(op.at("parameters").as_array()[0].at("name").as_string(), "rest");
}

TEST_F(document_routes_test, docs_page_is_self_contained_html) {
  start();
  dt::http_client c{port};
  auto r = c.get("/docs");
  ASSERT_EQ(r.status, 200u);
  EXPECT_EQ(r.header("content-type"), "text/html; charset=utf-8");
  EXPECT_NE(r.body.find("<!doctype html>"), std::string::npos);
  EXPECT_NE(r.body.find("fetch(\"/openapi.json\")"), std::string::npos);
  // No CDN or other external resource.
  EXPECT_EQ(r.body.find("http://"), std::string::npos);
  EXPECT_EQ(r.body.find("https://"), std::string::npos);
  EXPECT_EQ(r.body.find("src="), std::string::npos);
}
