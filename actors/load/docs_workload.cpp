#include "actors/load/docs_workload.hpp"

#include <algorithm>
#include <deque>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>

namespace distiller::load {

namespace json = boost::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string generated_document(const std::string& run_id, uint64_t index,
                               uint64_t size) {
  static const char* words[] = {
      "kafka",    "actor",    "pipeline",  "stream",  "partition", "offset",
      "document", "chunk",    "embedding", "vector",  "search",    "answer",
      "starfish", "mussel",   "ocean",     "volcano", "glacier",   "forest",
      "river",    "mountain", "library",   "history", "science",   "music",
      "garden",   "kitchen",  "market",    "harbour", "bridge",    "tower"};
  constexpr size_t n_words = sizeof(words) / sizeof(words[0]);
  std::string out = "Load test document " + std::to_string(index) + " of run " +
                    run_id + ".\n\n";
  // A small linear congruential generator: the same text for the same
  // index, different texts for different ones.
  uint64_t x = index * 6364136223846793005ull + 1442695040888963407ull;
  size_t in_sentence = 0;
  while (out.size() < size) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    std::string w = words[(x >> 33) % n_words];
    if (in_sentence == 0)
      w[0] = static_cast<char>(w[0] - 'a' + 'A');
    out += w;
    if (++in_sentence >= 8 + ((x >> 40) % 8)) {
      out += (x >> 20) % 5 == 0 ? ".\n\n" : ". ";
      in_sentence = 0;
    } else {
      out += ' ';
    }
  }
  out.resize(static_cast<size_t>(std::max<uint64_t>(size, 1)));
  return out;
}

namespace {

std::string content_type_of(const std::string& name) {
  auto ext = fs::path{name}.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (ext == ".pdf")
    return "application/pdf";
  if (ext == ".html" || ext == ".htm")
    return "text/html";
  if (ext == ".md")
    return "text/markdown";
  return "text/plain";
}

class docs_workload : public http_workload {
 public:
  explicit docs_workload(docs_options o) : o_(std::move(o)) {
    if (!o_.folder.empty()) {
      std::error_code ec;
      for (auto& e : fs::directory_iterator{o_.folder, ec})
        if (e.is_regular_file())
          files_.push_back(e.path());
      if (ec)
        throw usage_error("--folder " + o_.folder + ": " + ec.message());
      std::sort(files_.begin(), files_.end());
      if (files_.empty())
        throw usage_error("--folder " + o_.folder + ": no files in it");
    }
    boundary_ = "----distiller-load-" + o_.run_id;
  }

  std::vector<std::string> histograms() const override {
    return {"upload", "completed"};
  }

  void prepare(http_context& ctx,
               std::function<void(std::string)> done) override {
    ctx_ = &ctx;
    sweep_timer_.emplace(ctx.ioc);
    sweep();
    done({});
  }

  http_request request(uint64_t index) override {
    std::string name, content;
    if (files_.empty()) {
      name = "load-" + o_.run_id + "-" + std::to_string(index) + ".txt";
      content = generated_document(o_.run_id, index, o_.size);
    } else {
      auto& p = files_[index % files_.size()];
      name = p.filename().string();
      std::ifstream in{p, std::ios::binary};
      std::stringstream buf;
      buf << in.rdbuf();
      content = buf.str();
    }
    bytes_ += content.size();
    http_request r;
    r.method = boost::beast::http::verb::post;
    r.target = "/api/v2/documents/upload";
    r.content_type = "multipart/form-data; boundary=" + boundary_;
    r.body.reserve(content.size() + 256);
    r.body += "--" + boundary_ + "\r\n";
    r.body += "Content-Disposition: form-data; name=\"file\"; filename=\"" +
              name + "\"\r\n";
    r.body += "Content-Type: " + content_type_of(name) + "\r\n\r\n";
    r.body += content;
    r.body += "\r\n--" + boundary_ + "--\r\n";
    return r;
  }

  void response(const schedule::slot& s, const http_outcome& o) override {
    if (!o.ok() || !s.counted)
      return;
    ++uploaded_;
    boost::system::error_code ec;
    auto v = json::parse(o.body, ec);
    auto* id =
        !ec && v.is_object() ? v.as_object().if_contains("job_id") : nullptr;
    if (id == nullptr || !id->is_string()) {
      ++bad_answers_;
      return;
    }
    if (jobs_.size() >= o_.max_tracked) {
      ++untracked_;
      return;
    }
    std::string job_id{id->as_string()};
    auto& j = jobs_[job_id];
    j.id = job_id;
    j.planned = s.planned;
    j.deadline = s.planned + o_.job_timeout;
    waiting_.push_back(job_id);
    open_waiting();
  }

  uint64_t waiting() const override { return jobs_.size(); }

  void stop() override {
    if (ctx_)
      ctx_->stopping = true;
    if (sweep_timer_)
      sweep_timer_->cancel();
    for (auto& [id, j] : jobs_) {
      if (j.stream)
        j.stream->close();
      ++unfinished_;
    }
    jobs_.clear();
    waiting_.clear();
  }

  void release() override {
    jobs_.clear();
    sweep_timer_.reset();
  }

  json::object fields(double duration_s) const override {
    json::object f;
    f["uploaded"] = uploaded_;
    f["completed"] = completed_;
    f["failed"] = failed_;
    f["timed_out"] = timed_out_;
    f["unfinished"] = unfinished_;
    f["documents_per_minute"] =
        duration_s > 0 ? static_cast<double>(completed_) * 60.0 / duration_s
                       : 0.0;
    f["chunks"] = chunks_;
    f["bytes_uploaded"] = bytes_;
    f["stream_retries"] = stream_retries_;
    f["bad_answers"] = bad_answers_;
    f["untracked"] = untracked_;
    json::array reasons;
    for (auto& r : failure_reasons_)
      reasons.emplace_back(r);
    f["failure_reasons"] = std::move(reasons);
    return f;
  }

  json::object config() const override {
    json::object c;
    if (files_.empty()) {
      c["source"] = "generated";
      c["size"] = o_.size;
    } else {
      c["source"] = "folder";
      c["folder"] = o_.folder;
      c["files"] = files_.size();
    }
    c["job_timeout_s"] = std::chrono::duration<double>(o_.job_timeout).count();
    c["max_streams"] = o_.max_streams;
    return c;
  }

 private:
  struct job {
    std::string id;
    steady::time_point planned{};
    steady::time_point deadline{};
    std::shared_ptr<sse_client> stream;
    std::string last_id;
  };

  void open_waiting() {
    while (!waiting_.empty() && open_streams_ < o_.max_streams &&
           !ctx_->stopping) {
      auto id = std::move(waiting_.front());
      waiting_.pop_front();
      if (jobs_.count(id))
        open_stream(id);
    }
  }

  void open_stream(const std::string& id) {
    auto& j = jobs_.at(id);
    ++open_streams_;
    sse_client::callbacks cb;
    cb.event = [this, id](const sse_event& e) {
      on_event(id, e);
    };
    cb.ended = [this, id](const http_outcome& o) {
      on_end(id, o);
    };
    j.stream = std::make_shared<sse_client>(
        ctx_->ioc, ctx_->target, ctx_->endpoints,
        "/api/v2/documents/" + id + "/events", j.last_id, std::move(cb),
        ctx_->timeout, 90s);
    j.stream->start();
  }

  void release_stream() {
    --open_streams_;
    open_waiting();
  }

  void on_event(const std::string& id, const sse_event& e) {
    auto it = jobs_.find(id);
    if (it == jobs_.end())
      return;
    auto& j = it->second;
    j.last_id = e.id;
    if (e.event != "completed" && e.event != "failed")
      return;
    auto now = steady::now();
    boost::system::error_code ec;
    auto v = json::parse(e.data, ec);
    const json::object* o = !ec && v.is_object() ? &v.as_object() : nullptr;
    if (e.event == "completed") {
      ++completed_;
      if (o)
        if (auto* n = o->if_contains("total_chunks"); n && n->is_int64())
          chunks_ += static_cast<uint64_t>(n->as_int64());
      ctx_->rec.latency(1, now - j.planned, now);
    } else {
      ++failed_;
      if (o && failure_reasons_.size() < 5)
        if (auto* err = o->if_contains("error"); err && err->is_string()) {
          std::string text{err->as_string()};
          if (std::find(failure_reasons_.begin(), failure_reasons_.end(),
                        text) == failure_reasons_.end())
            failure_reasons_.push_back(text);
        }
    }
    j.stream->close();
    jobs_.erase(it);
    release_stream();
  }

  void on_end(const std::string& id, const http_outcome& o) {
    release_stream();
    auto it = jobs_.find(id);
    if (it == jobs_.end() || ctx_->stopping)
      return;
    // The stream ended before a final state: resume it (after a second for
    // a 503, at once otherwise) with the last id seen.
    ++stream_retries_;
    it->second.stream.reset();
    auto delay = o.status == 503 ? 1000ms : 100ms;
    auto t = std::make_shared<net::steady_timer>(ctx_->ioc, delay);
    t->async_wait([this, t, id](const boost::system::error_code& ec) {
      if (ec || ctx_->stopping || !jobs_.count(id))
        return;
      waiting_.push_front(id);
      open_waiting();
    });
  }

  void sweep() {
    // Once a second: jobs past their deadline are given up.
    sweep_timer_->expires_after(1s);
    sweep_timer_->async_wait([this](const boost::system::error_code& ec) {
      if (ec || ctx_->stopping)
        return;
      auto now = steady::now();
      for (auto it = jobs_.begin(); it != jobs_.end();) {
        if (now >= it->second.deadline) {
          ++timed_out_;
          if (it->second.stream && !it->second.stream->closed()) {
            it->second.stream->close();
            --open_streams_;
          }
          it = jobs_.erase(it);
        } else {
          ++it;
        }
      }
      open_waiting();
      sweep();
    });
  }

  docs_options o_;
  std::vector<fs::path> files_;
  std::string boundary_;
  http_context* ctx_ = nullptr;
  std::optional<net::steady_timer> sweep_timer_;
  std::unordered_map<std::string, job> jobs_;
  std::deque<std::string> waiting_;
  int open_streams_ = 0;
  uint64_t uploaded_ = 0, completed_ = 0, failed_ = 0, timed_out_ = 0,
           unfinished_ = 0, chunks_ = 0, bytes_ = 0, stream_retries_ = 0,
           bad_answers_ = 0, untracked_ = 0;
  std::vector<std::string> failure_reasons_;
};

} // namespace

std::unique_ptr<http_workload> make_docs_workload(const docs_options& o) {
  return std::make_unique<docs_workload>(o);
}

} // namespace distiller::load
