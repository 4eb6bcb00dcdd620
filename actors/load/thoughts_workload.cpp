#include "actors/load/thoughts_workload.hpp"

#include <algorithm>
#include <deque>
#include <optional>
#include <unordered_map>

#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>

#include "actors/load/seq_checker.hpp"
#include "runtime/core/ids.hpp"
#include "runtime/core/time.hpp"

namespace distiller::load {

namespace json = boost::json;
using namespace std::chrono_literals;

std::string generated_thought(const std::string& run_id, uint64_t index) {
  static const char* shapes[] = {
      "I need to call the dentist by Friday about the broken filling",
      "Remember to send the quarterly report to Anna before Monday 10am",
      "Feeling grateful for the quiet morning walk by the river today",
      "Buy milk, eggs and bread on the way home tonight",
      "Idea: a small app that tracks how much water I drink each day",
      "Worried about the project deadline next week, must talk to the team",
      "Book flights to Lisbon for the conference in March, budget 400 euros",
      "Finished the book on Kafka internals; the replication chapter was "
      "great"};
  constexpr size_t n = sizeof(shapes) / sizeof(shapes[0]);
  return std::string{shapes[index % n]} + " (load " + run_id + " #" +
         std::to_string(index) + ").";
}

namespace {

const json::object* as_object(const json::value& v) {
  return v.is_object() ? &v.as_object() : nullptr;
}

int64_t int_field(const json::object& o, const char* key, int64_t fallback) {
  auto* v = o.if_contains(key);
  if (v == nullptr)
    return fallback;
  if (v->is_int64())
    return v->as_int64();
  if (v->is_uint64())
    return static_cast<int64_t>(v->as_uint64());
  return fallback;
}

std::string str_field(const json::object& o, const char* key) {
  auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string{v->as_string()} : std::string{};
}

class thoughts_workload : public http_workload {
 public:
  explicit thoughts_workload(thoughts_options o) : o_(std::move(o)) {
    o_.users = std::max(1, o_.users);
    if (!o_.sse)
      o_.streams = o_.users;
    o_.streams = std::max(1, o_.streams);
    users_.resize(static_cast<size_t>(o_.users));
    for (auto& u : users_)
      u.id = make_uuid();
    streams_.resize(static_cast<size_t>(o_.streams));
    for (size_t i = 0; i < streams_.size(); ++i)
      streams_[i].user = i % users_.size();
  }

  std::vector<std::string> histograms() const override {
    if (o_.sse)
      return {"delivery", "publish", "reconnect"};
    return {"submit", "completed"};
  }
  size_t request_histogram() const override { return o_.sse ? 1 : 0; }
  size_t primary() const override { return 0; }

  void prepare(http_context& ctx,
               std::function<void(std::string)> done) override {
    ctx_ = &ctx;
    prepared_ = std::move(done);
    for (size_t i = 0; i < streams_.size(); ++i)
      open(i);
  }

  http_request request(uint64_t index) override {
    auto& u = users_[index % users_.size()];
    http_request r;
    r.method = boost::beast::http::verb::post;
    r.target = "/thoughts";
    r.content_type = "application/json";
    r.body = json::serialize(json::object{
        {"text", generated_thought(o_.run_id, index)}, {"user_id", u.id}});
    return r;
  }

  void response(const schedule::slot& s, const http_outcome& o) override {
    if (!o.ok())
      return;
    boost::system::error_code ec;
    auto v = json::parse(o.body, ec);
    auto* obj = ec ? nullptr : as_object(v);
    auto id = obj ? str_field(*obj, "thought_id") : std::string{};
    if (id.empty()) {
      ++bad_answers_;
      return;
    }
    if (s.counted)
      ++accepted_;
    if (auto e = early_.find(id); e != early_.end()) {
      // Its final event came before the 202 (possible, rarely).
      finished(s.planned, s.counted, e->second.completed, e->second.at);
      early_.erase(e);
      return;
    }
    if (pending_.size() >= o_.max_tracked) {
      ++untracked_;
      return;
    }
    pending_[id] = {s.planned, s.counted};
  }

  uint64_t waiting() const override {
    uint64_t behind = 0;
    if (o_.sse)
      for (auto& st : streams_)
        if (st.seq.last() < users_[st.user].head)
          ++behind;
    return pending_.size() + behind;
  }

  void release() override {
    for (auto& st : streams_)
      st.client.reset();
    storm_.reset();
  }

  void stop() override {
    if (ctx_)
      ctx_->stopping = true;
    if (storm_)
      storm_->cancel();
    for (auto& st : streams_) {
      if (st.client)
        st.client->close();
      gaps_ += st.seq.missing();
      duplicates_ += st.seq.duplicates();
      reorders_ += st.seq.reorders();
      auto head = users_[st.user].head;
      if (st.seq.last() < head)
        tail_missing_ += head - st.seq.last();
    }
    for (auto& [id, p] : pending_)
      if (p.counted)
        ++missing_;
    pending_.clear();
  }

  json::object fields(double duration_s) const override {
    json::object f;
    f["users"] = users_.size();
    if (o_.sse)
      f["streams"] = streams_.size();
    f["accepted"] = accepted_;
    f["completed"] = completed_;
    f["failed"] = failed_;
    f["missing"] = missing_;
    if (!o_.sse) {
      f["order_violations"] = order_violations_;
      f["thoughts_per_minute"] =
          duration_s > 0 ? static_cast<double>(completed_) * 60.0 / duration_s
                         : 0.0;
    }
    f["events"] = events_;
    if (o_.sse)
      f["events_per_second"] =
          duration_s > 0 ? static_cast<double>(counted_events_) / duration_s
                         : 0.0;
    f["gaps"] = gaps_;
    f["duplicates"] = duplicates_;
    f["reorders"] = reorders_;
    f["tail_missing"] = tail_missing_;
    f["resets"] = resets_;
    f["reconnects"] = reconnects_;
    f["replayed"] = replayed_;
    f["stream_rejected"] = rejected_;
    f["stream_ended_early"] = ended_early_;
    f["unmatched_finals"] = unmatched_;
    f["bad_answers"] = bad_answers_;
    f["untracked"] = untracked_;
    return f;
  }

  json::object config() const override {
    json::object c;
    c["users"] = o_.users;
    if (o_.sse) {
      c["streams"] = o_.streams;
      c["reconnect_every_s"] =
          std::chrono::duration<double>(o_.reconnect_every).count();
    }
    return c;
  }

 private:
  struct user {
    std::string id;
    /// Newest seq seen on any of its streams.
    uint64_t head = 0;
    /// Thought ids by thought_created order, not yet finished.
    std::deque<std::string> order;
  };

  struct stream {
    size_t user = 0;
    std::shared_ptr<sse_client> client;
    seq_checker seq;
    bool ready = false;
    bool reconnecting = false;
    steady::time_point reconnect_start{};
  };

  struct pending {
    steady::time_point planned{};
    bool counted = false;
  };

  struct early {
    bool completed = false;
    steady::time_point at{};
  };

  bool first_of_user(size_t si) const { return si < users_.size(); }

  void open(size_t si) {
    auto& st = streams_[si];
    std::string last = st.seq.started() ? std::to_string(st.seq.last()) : "";
    sse_client::callbacks cb;
    cb.event = [this, si](const sse_event& e) {
      on_event(si, e);
    };
    cb.ended = [this, si](const http_outcome& o) {
      on_end(si, o);
    };
    st.client =
        std::make_shared<sse_client>(ctx_->ioc, ctx_->target, ctx_->endpoints,
                                     "/thoughts/stream/" + users_[st.user].id,
                                     last, std::move(cb), ctx_->timeout, 90s);
    st.client->start();
  }

  void on_end(size_t si, const http_outcome& o) {
    if (ctx_->stopping)
      return;
    auto& st = streams_[si];
    if (!st.ready && prepared_) {
      auto done = std::move(prepared_);
      prepared_ = nullptr;
      done("the stream of user " + users_[st.user].id + " did not open: " +
           (o.status ? "HTTP " + std::to_string(o.status) : o.detail) +
           (o.status == 503 ? " (over the node's sse.max_connections or "
                              "sse.max_per_user)"
                            : ""));
      return;
    }
    if (o.status == 503)
      ++rejected_;
    else if (!st.reconnecting)
      ++ended_early_;
    auto t = std::make_shared<net::steady_timer>(
        ctx_->ioc, o.status == 503 ? 250ms : 100ms);
    t->async_wait([this, t, si](const boost::system::error_code& ec) {
      if (!ec && !ctx_->stopping)
        open(si);
    });
  }

  void storm() {
    storm_->expires_after(o_.reconnect_every);
    storm_->async_wait([this](const boost::system::error_code& ec) {
      if (ec || ctx_->stopping)
        return;
      auto now = steady::now();
      for (size_t si = 0; si < streams_.size(); ++si) {
        auto& st = streams_[si];
        if (st.client)
          st.client->close();
        st.reconnecting = true;
        st.reconnect_start = now;
        ++reconnects_;
        open(si);
      }
      storm();
    });
  }

  void on_ready(size_t si, const sse_event& e, steady::time_point now) {
    auto& st = streams_[si];
    boost::system::error_code ec;
    auto v = json::parse(e.data, ec);
    auto* o = ec ? nullptr : as_object(v);
    if (o) {
      auto pos = int_field(*o, "last_event_id", -1);
      if (pos >= 0 && !st.seq.started())
        st.seq.start_at(static_cast<uint64_t>(pos));
      replayed_ += static_cast<uint64_t>(
          std::max<int64_t>(0, int_field(*o, "replayed", 0)));
    }
    if (st.reconnecting) {
      st.reconnecting = false;
      if (ctx_->counted(now) && ctx_->rec.started())
        ctx_->rec.latency(2, now - st.reconnect_start, now);
    }
    if (!st.ready) {
      st.ready = true;
      if (++ready_ == streams_.size() && prepared_) {
        auto done = std::move(prepared_);
        prepared_ = nullptr;
        if (o_.sse && o_.reconnect_every.count() > 0) {
          storm_.emplace(ctx_->ioc);
          storm();
        }
        done({});
      }
    }
  }

  void on_event(size_t si, const sse_event& e) {
    auto now = steady::now();
    auto& st = streams_[si];
    if (e.event == "ready") {
      on_ready(si, e, now);
      return;
    }
    if (e.event == "closing" || e.event.empty())
      return;
    boost::system::error_code ec;
    auto v = json::parse(e.data, ec);
    auto* o = ec ? nullptr : as_object(v);
    if (o == nullptr)
      return;
    if (e.event == "reset") {
      ++resets_;
      auto pos = int_field(*o, "last_event_id", -1);
      if (pos >= 0)
        st.seq.reset_to(static_cast<uint64_t>(pos));
      return;
    }
    auto seq = int_field(*o, "seq", -1);
    if (seq < 0)
      return;
    if (st.seq.check(static_cast<uint64_t>(seq)) ==
        seq_checker::verdict::duplicate)
      return;
    ++events_;
    bool counted = ctx_->counted(now);
    if (counted)
      ++counted_events_;
    auto& u = users_[st.user];
    u.head = std::max(u.head, static_cast<uint64_t>(seq));
    if (o_.sse && counted) {
      auto t = rfc3339_to_us(str_field(*o, "time"));
      if (t > 0)
        ctx_->rec.latency(
            0, std::chrono::microseconds{std::max<int64_t>(0, now_us() - t)},
            now);
    }
    if (!first_of_user(si))
      return;
    auto type = str_field(*o, "type");
    auto id = str_field(*o, "thought_id");
    if (type == "thought_created") {
      u.order.push_back(id);
    } else if (type == "thought_completed" || type == "thought_failed") {
      auto at = std::find(u.order.begin(), u.order.end(), id);
      if (at == u.order.end()) {
        ++unmatched_;
      } else {
        if (at != u.order.begin())
          ++order_violations_;
        u.order.erase(at);
      }
      bool completed = type == "thought_completed";
      auto p = pending_.find(id);
      if (p == pending_.end()) {
        if (early_.size() < 10000)
          early_[id] = {completed, now};
        return;
      }
      finished(p->second.planned, p->second.counted, completed, now);
      pending_.erase(p);
    }
  }

  void finished(steady::time_point planned, bool counted, bool completed,
                steady::time_point at) {
    if (!counted)
      return;
    if (completed) {
      ++completed_;
      if (!o_.sse)
        ctx_->rec.latency(1, at - planned, at);
    } else {
      ++failed_;
    }
  }

  thoughts_options o_;
  http_context* ctx_ = nullptr;
  std::function<void(std::string)> prepared_;
  std::vector<user> users_;
  std::vector<stream> streams_;
  size_t ready_ = 0;
  std::optional<net::steady_timer> storm_;
  std::unordered_map<std::string, pending> pending_;
  std::unordered_map<std::string, early> early_;
  uint64_t accepted_ = 0, completed_ = 0, failed_ = 0, missing_ = 0,
           order_violations_ = 0, events_ = 0, counted_events_ = 0, gaps_ = 0,
           duplicates_ = 0, reorders_ = 0, tail_missing_ = 0, resets_ = 0,
           reconnects_ = 0, replayed_ = 0, rejected_ = 0, ended_early_ = 0,
           unmatched_ = 0, bad_answers_ = 0, untracked_ = 0;
};

} // namespace

std::unique_ptr<http_workload>
make_thoughts_workload(const thoughts_options& o) {
  return std::make_unique<thoughts_workload>(o);
}

} // namespace distiller::load
