#include "document_client.hpp"

#include <stdexcept>
#include <thread>

namespace distiller::testing {

namespace json = boost::json;
using namespace std::chrono_literals;

multipart_upload make_upload(const std::string& filename,
                             const std::string& content,
                             const std::string& part_type,
                             const std::string& field) {
  const std::string boundary = "----distiller-e2e-boundary-q8Zt1";
  multipart_upload out;
  out.content_type = "multipart/form-data; boundary=" + boundary;
  out.body = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" +
             field + "\"; filename=\"" + filename +
             "\"\r\nContent-Type: " + part_type + "\r\n\r\n" + content +
             "\r\n--" + boundary + "--\r\n";
  return out;
}

http_reply document_client::upload(const std::string& filename,
                                   const std::string& content,
                                   const std::string& part_type) {
  auto mp = make_upload(filename, content, part_type);
  http_client c{port_, "127.0.0.1", 60s};
  return c.post("/api/v2/documents/upload", std::move(mp.body), {},
                mp.content_type);
}

std::string document_client::upload_ok(const std::string& filename,
                                       const std::string& content) {
  auto r = upload(filename, content);
  if (r.status != 202)
    throw std::runtime_error("upload of " + filename + " answered " +
                             std::to_string(r.status) + ": " + r.body);
  return std::string{r.json().as_object().at("job_id").as_string()};
}

json::value document_client::status(const std::string& job_id) {
  http_client c{port_};
  auto r = c.get("/api/v2/documents/status/" + job_id);
  if (r.status != 200)
    return nullptr;
  return r.json();
}

json::value document_client::wait_final(const std::string& job_id,
                                        std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto s = status(job_id);
    if (s.is_object()) {
      std::string st{s.as_object().at("status").as_string()};
      if (st == "completed" || st == "failed")
        return s;
    }
    std::this_thread::sleep_for(100ms);
  }
  return nullptr;
}

std::vector<json::object>
document_client::events(const std::string& job_id,
                        std::chrono::milliseconds timeout) {
  std::vector<json::object> out;
  sse_reader r{
      port_, "/api/v2/documents/" + job_id + "/events", {}, "127.0.0.1", 10s};
  if (r.reply().status != 200)
    throw std::runtime_error("events answered " +
                             std::to_string(r.reply().status));
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline && !r.ended()) {
    auto e = r.next(1s);
    if (e)
      out.push_back(json::parse(e->data).as_object());
  }
  return out;
}

http_reply document_client::query(const std::string& question, int top_k) {
  http_client c{port_, "127.0.0.1", 30s};
  json::object body{{"question", question}, {"top_k", top_k}};
  return c.post("/api/v2/query", json::serialize(body));
}

int status_order(const std::string& status) {
  static const char* order[] = {"pending",   "processing", "chunking",
                                "embedding", "completed",  "failed"};
  for (int i = 0; i < 6; ++i)
    if (status == order[i])
      return i;
  return -1;
}

} // namespace distiller::testing
