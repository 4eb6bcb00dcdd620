// The thought pipeline's parts that only read its state
// (pipeline_state.hpp): the janitor, the stream watcher, the streams'
// replays and the API service.

#include <chrono>
#include <utility>

#include <boost/json.hpp>
#include <caf/all.hpp>

#include "actors/broadcast/stream.hpp"
#include "actors/thoughts/pipeline_state.hpp"
#include "runtime/core/ids.hpp"
#include "runtime/logging/log.hpp"

namespace distiller::thoughts {

namespace json = boost::json;
using namespace std::chrono_literals;
using atoms::heads_atom;
using atoms::janitor_atom;

// -- the janitor
// ----------------------------------------------------------------

janitor_actor spawn_janitor(caf::actor_system& sys,
                            std::shared_ptr<pipeline_state> st,
                            inspect::actor_entry_ptr entry) {
  return sys.spawn<caf::detached>(
      [](janitor_actor::pointer self, std::shared_ptr<pipeline_state> st,
         inspect::actor_entry_ptr entry) -> janitor_actor::behavior_type {
        if (entry)
          entry->set_state("running");
        self->delayed_send(self, st->cfg.reconcile_interval,
                           janitor_atom::value);
        return {
            [self, st, entry](janitor_atom) {
              try {
                if (auto n = st->store->redrive(st->cfg.stuck_after, 500)) {
                  log::info("thoughts_redriven", {{"thoughts", n}});
                  if (st->deps.wake_relay)
                    st->deps.wake_relay();
                }
                auto retention =
                    st->deps.broadcaster
                        ? st->deps.broadcaster->config().replay_retention
                        : std::chrono::milliseconds{86400000};
                st->store->prune_events(retention, 10000);
                if (entry)
                  entry->on_message(0);
              } catch (const postgres::db_error& e) {
                if (entry)
                  entry->add_failure();
                log::warn("thought_janitor_store_error", {{"error", e.what()}});
              }
              self->delayed_send(self, st->cfg.reconcile_interval,
                                 janitor_atom::value);
            },
        };
      },
      std::move(st), std::move(entry));
}

// -- the stream watcher
// ---------------------------------------------------------

/// Every second: the heads of the users this node streams to, from
/// PostgreSQL, to the broadcaster — a stream that missed an event on
/// thought-updates (its consumer joined late, a record was lost) is filled
/// from the database within about a second.
watcher_actor spawn_stream_watcher(caf::actor_system& sys,
                                   std::shared_ptr<pipeline_state> st,
                                   inspect::actor_entry_ptr entry) {
  return sys.spawn<caf::detached>(
      [](watcher_actor::pointer self, std::shared_ptr<pipeline_state> st,
         inspect::actor_entry_ptr entry) -> watcher_actor::behavior_type {
        if (entry)
          entry->set_state("running");
        self->delayed_send(self, 1s, heads_atom::value);
        return {
            [self, st, entry](heads_atom) {
              auto& bc = st->deps.broadcaster;
              if (bc) {
                std::vector<std::string> users;
                for (auto& c : bc->channels("user:"))
                  users.push_back(c.substr(5));
                try {
                  for (auto& [user, head] : st->store->heads(users))
                    bc->head(user_channel(user), head);
                  if (entry)
                    entry->on_message(0);
                } catch (const postgres::db_error& e) {
                  if (entry)
                    entry->add_failure();
                  log::warn("thought_stream_watch_store_error",
                            {{"error", e.what()}});
                }
              }
              self->delayed_send(self, 1s, heads_atom::value);
            },
        };
      },
      std::move(st), std::move(entry));
}

namespace {

// -- replays for the streams
// ------------------------------------------------------

/// A user's past events, from PostgreSQL.
class user_events : public broadcast::replay_source {
 public:
  explicit user_events(std::shared_ptr<thought_store> store)
      : store_(std::move(store)) {}

  broadcast::replay_result replay(const std::string& channel,
                                  std::optional<uint64_t> after,
                                  size_t limit) override {
    auto user = channel.substr(channel.find(':') + 1);
    auto page = store_->events_after(user, after, static_cast<int>(limit));
    broadcast::replay_result r;
    r.head = page.head;
    if (!after)
      return r;
    if (*after > page.head)
      return r; // the hub answers `reset` (unknown id) itself
    bool expired =
        *after < page.head && (page.oldest == 0 || page.oldest > *after + 1);
    if (expired) {
      r.reset = true;
      r.reason = "expired";
      return r;
    }
    for (auto& e : page.events)
      r.events.push_back(pipeline_state::to_broadcast(e));
    r.more = page.more;
    return r;
  }

 private:
  std::shared_ptr<thought_store> store_;
};

// -- the API
// --------------------------------------------------------------------

http::api_error store_failure(const postgres::db_error& e) {
  if (e.retryable())
    return http::api_error::unavailable(
        std::string{"the database is unavailable: "} + e.what(), 5);
  return http::api_error::internal(e.what());
}

class pipeline_service : public thought_service {
 public:
  explicit pipeline_service(std::shared_ptr<pipeline_state> st)
      : st_(std::move(st)), source_(std::make_shared<user_events>(st_->store)) {
  }

  void submit(submission s, reply<thought_store::created> done) override {
    auto st = st_;
    run<thought_store::created>(std::move(done), [st, s] {
      new_thought t{make_uuid(), s.user_id, s.text, s.trace_id};
      auto c = st->store->create(t);
      log::info("thought_submitted", {{"thought_id", t.thought_id},
                                      {"user_id", t.user_id},
                                      {"chars", t.text.size()},
                                      {"trace_id", t.trace_id}});
      // This node's streams at once; the others through thought-updates,
      // without waiting: a record lost here is found by their head checks.
      if (st->deps.broadcaster)
        st->deps.broadcaster->publish(user_channel(t.user_id),
                                      pipeline_state::to_broadcast(c.event));
      if (st->deps.sink) {
        kafka::out_record r;
        r.topic = st->cfg.updates_topic;
        r.key = t.user_id;
        r.value = encode(c.event);
        r.trace = trace_id{t.trace_id};
        st->deps.sink->send(std::move(r));
      }
      if (st->deps.wake_relay)
        st->deps.wake_relay();
      return http::api_result<thought_store::created>{std::move(c)};
    });
  }

  void get(std::string thought_id, reply<thought_row> done) override {
    auto st = st_;
    run<thought_row>(
        std::move(done), [st, thought_id]() -> http::api_result<thought_row> {
          if (auto t = st->store->get(thought_id))
            return std::move(*t);
          return http::api_error::not_found("no thought with id " + thought_id);
        });
  }

  void list(std::string user_id, int limit, std::optional<list_cursor> before,
            reply<thought_page> done) override {
    auto st = st_;
    run<thought_page>(std::move(done), [st, user_id, limit, before] {
      return http::api_result<thought_page>{
          st->store->list(user_id, limit, before)};
    });
  }

  void stream(std::string user_id, std::optional<uint64_t> after,
              http::responder res) override {
    auto& bc = st_->deps.broadcaster;
    if (!bc) {
      res.send(http::to_response(http::api_error::unavailable(
          "this node does not serve event streams")));
      return;
    }
    broadcast::stream_request req;
    req.channel = user_channel(user_id);
    req.after = after;
    req.source = source_;
    req.options.stream = "thoughts";
    req.options.order = broadcast::channel_order::log;
    req.options.ready_fields =
        json::object{{"user_id", user_id}, {"node", st_->deps.node_name}};
    broadcast::open_stream(bc, std::move(res), std::move(req));
  }

  int max_text_chars() const override { return st_->cfg.max_text_chars; }

 private:
  template <class T, class Work>
  void run(reply<T> done, Work work) {
    auto shared = std::make_shared<reply<T>>(std::move(done));
    auto task = [shared, work = std::move(work)]() mutable {
      try {
        (*shared)(work());
      } catch (const postgres::db_error& e) {
        (*shared)(store_failure(e));
      } catch (const std::exception& e) {
        (*shared)(http::api_error::internal(e.what()));
      }
    };
    if (!st_->api || !st_->api->post(std::move(task)))
      (*shared)(http::api_error::unavailable(
          "the thought API is at its queue limit or stopping; retry shortly",
          1));
  }

  std::shared_ptr<pipeline_state> st_;
  std::shared_ptr<user_events> source_;
};

} // namespace

std::shared_ptr<thought_service>
make_pipeline_service(std::shared_ptr<pipeline_state> st) {
  return std::make_shared<pipeline_service>(std::move(st));
}

} // namespace distiller::thoughts
