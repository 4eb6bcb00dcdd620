// The broadcaster's logic (actors/broadcast/hub.hpp) with a fake clock,
// fake clients and hand-answered replays: resume without gap or duplicate,
// reordering, gap filling, resets, snapshot channels, gone clients.

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "actors/broadcast/hub.hpp"

namespace {

namespace bc = distiller::broadcast;
using namespace std::chrono_literals;

/// What a client received, as "type:id" strings.
struct fake_client : bc::client {
  std::vector<std::string> got;
  std::vector<std::string> data;
  bool gone = false;
  bool finished = false;

  bool deliver(const bc::event& e) override {
    if (gone)
      return false;
    got.push_back(e.type + ":" + std::to_string(e.seq));
    data.push_back(e.data);
    return true;
  }
  bool control(std::string_view type, std::string_view d,
               uint64_t id) override {
    if (gone)
      return false;
    got.push_back(std::string{type} + ":" + std::to_string(id));
    data.emplace_back(d);
    return true;
  }
  void finish() override { finished = true; }
};

/// Never called: replays are answered by hand through hub::replayed.
struct no_source : bc::replay_source {
  bc::replay_result replay(const std::string&, std::optional<uint64_t>,
                           size_t) override {
    ADD_FAILURE() << "the hub must not call sources itself";
    return {};
  }
};

bc::event_ptr ev(uint64_t seq, std::string type = "e", bool final = false) {
  auto e = std::make_shared<bc::event>();
  e->seq = seq;
  e->type = std::move(type);
  e->data = "{\"seq\":" + std::to_string(seq) + "}";
  e->final = final;
  return e;
}

bc::replay_result events(std::vector<uint64_t> seqs, uint64_t head,
                         bool more = false) {
  bc::replay_result r;
  for (auto s : seqs)
    r.events.push_back(ev(s));
  r.head = head;
  r.more = more;
  return r;
}

struct counting_observer : bc::hub_observer {
  int sent_n = 0, replayed = 0, duplicates = 0, gone = 0, fills = 0, resets = 0;
  void sent_event(bool r) {
    ++sent_n;
    replayed += r ? 1 : 0;
  }
  void sent(const std::string&, const bc::event&, bool r,
            bc::clock::time_point) override {
    sent_event(r);
  }
  void dropped(const std::string&, const char* why) override {
    std::string w = why;
    duplicates += w == "duplicate" || w == "stale";
    gone += w == "gone";
  }
  void recovered(const std::string&, const char* how) override {
    std::string h = how;
    fills += h == "fill";
    resets += h == "reset";
  }
};

class hub_test : public ::testing::Test {
 protected:
  bc::hub_settings settings() {
    bc::hub_settings s;
    s.reorder_window = 250ms;
    s.replay_limit = 100;
    s.max_held = 8;
    s.retry_delay = 1s;
    return s;
  }

  counting_observer obs;
  bc::hub h{settings(), &obs};
  bc::clock::time_point t0 = bc::clock::time_point{} + 1000s;
  std::shared_ptr<bc::replay_source> src = std::make_shared<no_source>();

  std::shared_ptr<fake_client> subscribe(uint64_t id, std::string channel,
                                         std::optional<uint64_t> after,
                                         bc::effects& fx,
                                         bc::subscribe_options o = {}) {
    auto c = std::make_shared<fake_client>();
    h.subscribe(id, std::move(channel), after, src, c, std::move(o), t0, fx);
    return c;
  }
};

TEST_F(hub_test, from_now_syncs_to_the_head_then_delivers_live_events) {
  bc::effects fx;
  auto c = subscribe(1, "user:a", std::nullopt, fx);
  ASSERT_EQ(fx.replays.size(), 1u);
  EXPECT_FALSE(fx.replays[0].after.has_value());
  EXPECT_EQ(fx.replays[0].channel, "user:a");
  EXPECT_EQ(fx.replays[0].limit, 100u);
  bc::effects fx2;
  h.replayed(1, events({}, 5), t0, fx2);
  EXPECT_EQ(c->got, (std::vector<std::string>{"ready:5"}));
  auto ready = boost::json::parse(c->data[0]).as_object();
  EXPECT_EQ(ready["last_event_id"].as_int64(), 5);
  EXPECT_EQ(ready["replayed"].as_int64(), 0);
  h.publish("user:a", ev(6), t0, fx2);
  h.publish("user:a", ev(6), t0, fx2); // duplicate
  h.publish("user:b", ev(7), t0, fx2); // another channel
  EXPECT_EQ(c->got, (std::vector<std::string>{"ready:5", "e:6"}));
  EXPECT_EQ(obs.duplicates, 1);
  EXPECT_TRUE(fx2.replays.empty());
  EXPECT_TRUE(fx2.timers.empty());
}

TEST_F(hub_test, resume_replays_the_missed_events_then_live_without_gap) {
  bc::effects fx;
  auto c = subscribe(1, "user:a", 3, fx);
  ASSERT_EQ(fx.replays.size(), 1u);
  EXPECT_EQ(fx.replays[0].after, std::optional<uint64_t>{3});
  // Live events arrive while the replay runs: one the replay also has (6)
  // and one after it (7).
  h.publish("user:a", ev(6), t0, fx);
  h.publish("user:a", ev(7), t0, fx);
  EXPECT_TRUE(c->got.empty());
  h.replayed(1, events({4, 5, 6}, 6), t0, fx);
  EXPECT_EQ(c->got,
            (std::vector<std::string>{"e:4", "e:5", "e:6", "ready:6", "e:7"}));
  EXPECT_EQ(obs.replayed, 3);
  auto ready = boost::json::parse(c->data[3]).as_object();
  EXPECT_EQ(ready["replayed"].as_int64(), 3);
}

TEST_F(hub_test, an_out_of_order_event_waits_for_the_one_before_it) {
  bc::effects fx;
  auto c = subscribe(1, "user:a", std::nullopt, fx);
  h.replayed(1, events({}, 5), t0, fx);
  bc::effects fx2;
  h.publish("user:a", ev(7), t0, fx2);
  EXPECT_EQ(c->got.back(), "ready:5");
  ASSERT_EQ(fx2.timers.size(), 1u);
  EXPECT_EQ(fx2.timers[0].at, t0 + 250ms);
  h.publish("user:a", ev(6), t0 + 10ms, fx2);
  EXPECT_EQ(c->got, (std::vector<std::string>{"ready:5", "e:6", "e:7"}));
  bc::effects fx3;
  h.timer(1, t0 + 250ms, fx3);
  EXPECT_TRUE(fx3.replays.empty()) << "the gap closed by itself";
  EXPECT_EQ(obs.fills, 0);
}

TEST_F(hub_test, a_gap_that_stays_open_is_filled_from_the_source) {
  bc::effects fx;
  auto c = subscribe(1, "user:a", std::nullopt, fx);
  h.replayed(1, events({}, 5), t0, fx);
  bc::effects fx2;
  h.publish("user:a", ev(8), t0, fx2);
  h.publish("user:a", ev(7), t0 + 100ms, fx2);
  ASSERT_EQ(fx2.timers.size(), 1u);
  // Early wake-up: not due yet, re-armed for the rest of the window.
  bc::effects early;
  h.timer(1, t0 + 100ms, early);
  ASSERT_EQ(early.timers.size(), 1u);
  EXPECT_EQ(early.timers[0].at, t0 + 250ms);
  EXPECT_TRUE(early.replays.empty());
  bc::effects fx3;
  h.timer(1, t0 + 250ms, fx3);
  ASSERT_EQ(fx3.replays.size(), 1u);
  EXPECT_EQ(fx3.replays[0].after, std::optional<uint64_t>{5});
  EXPECT_EQ(obs.fills, 1);
  // While filling, a live 9 waits too.
  h.publish("user:a", ev(9), t0 + 260ms, fx3);
  EXPECT_EQ(c->got, (std::vector<std::string>{"ready:5"}));
  bc::effects fx4;
  h.replayed(1, events({6, 7, 8}, 8), t0 + 300ms, fx4);
  EXPECT_EQ(c->got,
            (std::vector<std::string>{"ready:5", "e:6", "e:7", "e:8", "e:9"}));
  EXPECT_EQ(h.view(1)->phase, "live");
  EXPECT_EQ(h.view(1)->held, 0u);
}

TEST_F(hub_test, an_expired_position_gets_reset_then_continues_from_the_head) {
  bc::effects fx;
  auto c = subscribe(1, "user:a", 2, fx);
  bc::replay_result r;
  r.reset = true;
  r.reason = "expired";
  r.head = 40;
  h.publish("user:a", ev(41), t0, fx);
  h.replayed(1, r, t0, fx);
  EXPECT_EQ(c->got, (std::vector<std::string>{"reset:0", "ready:40", "e:41"}));
  auto reset = boost::json::parse(c->data[0]).as_object();
  EXPECT_EQ(reset["reason"].as_string(), "expired");
  EXPECT_EQ(reset["last_event_id"].as_int64(), 40);
  EXPECT_EQ(obs.resets, 1);
}

TEST_F(hub_test, an_id_from_the_future_is_a_reset) {
  bc::effects fx;
  auto c = subscribe(1, "user:a", 100, fx);
  h.replayed(1, events({}, 5), t0, fx);
  ASSERT_EQ(c->got.size(), 2u);
  EXPECT_EQ(c->got[0], "reset:0");
  auto reset = boost::json::parse(c->data[0]).as_object();
  EXPECT_EQ(reset["reason"].as_string(), "unknown event id");
  EXPECT_EQ(c->got[1], "ready:5");
  h.publish("user:a", ev(6), t0, fx);
  EXPECT_EQ(c->got.back(), "e:6");
}

TEST_F(hub_test, long_replays_come_in_pages) {
  bc::effects fx;
  auto c = subscribe(1, "user:a", 0, fx);
  bc::effects fx2;
  h.replayed(1, events({1, 2}, 4, true), t0, fx2);
  ASSERT_EQ(fx2.replays.size(), 1u);
  EXPECT_EQ(fx2.replays[0].after, std::optional<uint64_t>{2});
  EXPECT_EQ(c->got, (std::vector<std::string>{"e:1", "e:2"}));
  h.replayed(1, events({3, 4}, 4), t0, fx2);
  EXPECT_EQ(c->got,
            (std::vector<std::string>{"e:1", "e:2", "e:3", "e:4", "ready:4"}));
}

TEST_F(hub_test, a_failed_replay_is_retried_from_the_same_position) {
  bc::effects fx;
  auto c = subscribe(1, "user:a", 3, fx);
  bc::effects fx2;
  h.replay_failed(1, t0, fx2);
  ASSERT_EQ(fx2.timers.size(), 1u);
  EXPECT_EQ(fx2.timers[0].at, t0 + 1s);
  bc::effects fx3;
  h.timer(1, t0 + 1s, fx3);
  ASSERT_EQ(fx3.replays.size(), 1u);
  EXPECT_EQ(fx3.replays[0].after, std::optional<uint64_t>{3});
  h.replayed(1, events({4}, 4), t0 + 1s, fx3);
  EXPECT_EQ(c->got, (std::vector<std::string>{"e:4", "ready:4"}));
}

TEST_F(hub_test, too_many_held_events_start_a_fill_at_once) {
  bc::effects fx;
  auto c = subscribe(1, "user:a", std::nullopt, fx);
  h.replayed(1, events({}, 0), t0, fx);
  bc::effects fx2;
  for (uint64_t s = 2; s <= 11; ++s) // 1 is missing; max_held is 8
    h.publish("user:a", ev(s), t0, fx2);
  ASSERT_EQ(fx2.replays.size(), 1u);
  EXPECT_EQ(fx2.replays[0].after, std::optional<uint64_t>{0});
  EXPECT_LE(h.view(1)->held, 8u);
  bc::effects fx3;
  std::vector<uint64_t> all;
  for (uint64_t s = 1; s <= 11; ++s)
    all.push_back(s);
  h.replayed(1, events(all, 11), t0, fx3);
  std::vector<std::string> want{"ready:0"};
  for (auto s : all)
    want.push_back("e:" + std::to_string(s));
  EXPECT_EQ(c->got, want);
}

TEST_F(hub_test, snapshot_channels_deliver_newer_states_and_end_after_final) {
  bc::effects fx;
  bc::subscribe_options o;
  o.order = bc::channel_order::snapshot;
  o.ready_event = false;
  o.close_on_final = true;
  auto c = subscribe(1, "job:j", std::nullopt, fx, o);
  h.replayed(1, events({10}, 10), t0, fx);
  h.publish("job:j", ev(30), t0, fx); // a jump is fine for snapshots
  h.publish("job:j", ev(20), t0, fx); // older: dropped
  EXPECT_EQ(c->got, (std::vector<std::string>{"e:10", "e:30"}));
  EXPECT_TRUE(fx.timers.empty());
  h.publish("job:j", ev(40, "completed", true), t0, fx);
  EXPECT_EQ(c->got.back(), "completed:40");
  EXPECT_TRUE(c->finished);
  EXPECT_EQ(h.subscribers(), 0u);
  EXPECT_EQ(h.channels(), 0u);
}

TEST_F(hub_test, a_client_that_is_gone_is_removed) {
  bc::effects fx;
  auto c1 = subscribe(1, "user:a", std::nullopt, fx);
  auto c2 = subscribe(2, "user:a", std::nullopt, fx);
  h.replayed(1, events({}, 0), t0, fx);
  h.replayed(2, events({}, 0), t0, fx);
  c1->gone = true;
  h.publish("user:a", ev(1), t0, fx);
  EXPECT_EQ(h.subscribers(), 1u);
  EXPECT_EQ(obs.gone, 1);
  EXPECT_EQ(c2->got.back(), "e:1");
  EXPECT_EQ(h.channel_names("user:"), (std::vector<std::string>{"user:a"}));
  h.unsubscribe(2);
  EXPECT_EQ(h.subscribers(), 0u);
  EXPECT_TRUE(h.channel_names("user:").empty());
  // Answers for removed subscribers are ignored.
  h.replayed(2, events({5}, 5), t0, fx);
  h.timer(2, t0, fx);
  EXPECT_EQ(c2->got.back(), "e:1");
}

TEST_F(hub_test, subscribers_of_one_channel_keep_their_own_positions) {
  bc::effects fx;
  auto old_tab = subscribe(1, "user:a", 1, fx);
  auto new_tab = subscribe(2, "user:a", std::nullopt, fx);
  h.replayed(2, events({}, 3), t0, fx);
  h.publish("user:a", ev(4), t0, fx);
  h.replayed(1, events({2, 3, 4}, 4), t0, fx);
  h.publish("user:a", ev(5), t0, fx);
  EXPECT_EQ(old_tab->got,
            (std::vector<std::string>{"e:2", "e:3", "e:4", "ready:4", "e:5"}));
  EXPECT_EQ(new_tab->got, (std::vector<std::string>{"ready:3", "e:4", "e:5"}));
}

TEST_F(hub_test, close_all_tells_every_client_why) {
  bc::effects fx;
  auto c = subscribe(1, "user:a", std::nullopt, fx);
  h.close_all("server_stopping", "bye");
  ASSERT_EQ(c->got.size(), 1u);
  EXPECT_EQ(c->got[0], "closing:0");
  auto d = boost::json::parse(c->data[0]).as_object();
  EXPECT_EQ(d["reason"].as_string(), "server_stopping");
  EXPECT_TRUE(c->finished);
  EXPECT_EQ(h.subscribers(), 0u);
}

TEST_F(hub_test, ready_carries_the_extra_fields) {
  bc::effects fx;
  bc::subscribe_options o;
  o.ready_fields = boost::json::object{{"user_id", "a"}, {"node", "n1"}};
  auto c = subscribe(1, "user:a", std::nullopt, fx, o);
  h.replayed(1, events({}, 2), t0, fx);
  auto d = boost::json::parse(c->data[0]).as_object();
  EXPECT_EQ(d["user_id"].as_string(), "a");
  EXPECT_EQ(d["node"].as_string(), "n1");
  EXPECT_EQ(d["last_event_id"].as_int64(), 2);
}

} // namespace

namespace {

TEST_F(hub_test, a_head_beyond_the_last_event_is_filled_after_the_window) {
  bc::effects fx;
  auto c = subscribe(1, "user:a", std::nullopt, fx);
  h.replayed(1, events({}, 3), t0, fx);
  // The database says 5 exist; nothing arrived live (a lost record).
  bc::effects fx2;
  h.head("user:a", 5, t0, fx2);
  ASSERT_EQ(fx2.timers.size(), 1u);
  EXPECT_EQ(fx2.timers[0].at, t0 + 250ms);
  EXPECT_TRUE(fx2.replays.empty());
  bc::effects fx3;
  h.timer(1, t0 + 250ms, fx3);
  ASSERT_EQ(fx3.replays.size(), 1u);
  EXPECT_EQ(fx3.replays[0].after, std::optional<uint64_t>{3});
  h.replayed(1, events({4, 5}, 5), t0 + 260ms, fx3);
  EXPECT_EQ(c->got, (std::vector<std::string>{"ready:3", "e:4", "e:5"}));
  // A head that is not ahead does nothing.
  bc::effects fx4;
  h.head("user:a", 5, t0 + 300ms, fx4);
  h.head("user:b", 9, t0 + 300ms, fx4);
  EXPECT_TRUE(fx4.timers.empty());
}

TEST_F(hub_test, a_head_whose_events_arrive_live_needs_no_fill) {
  bc::effects fx;
  auto c = subscribe(1, "user:a", std::nullopt, fx);
  h.replayed(1, events({}, 3), t0, fx);
  bc::effects fx2;
  h.head("user:a", 4, t0, fx2);
  h.publish("user:a", ev(4), t0 + 10ms, fx2);
  bc::effects fx3;
  h.timer(1, t0 + 250ms, fx3);
  EXPECT_TRUE(fx3.replays.empty());
  EXPECT_EQ(c->got, (std::vector<std::string>{"ready:3", "e:4"}));
}

} // namespace
