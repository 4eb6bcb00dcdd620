// Unit tests of the keyed event broadcaster behind the SSE routes: ordering,
// per-key isolation, RAII unsubscribe (also from inside a callback and while
// a delivery runs on another thread), concurrent publishers and subscribers,
// failing callbacks, and that empty keys hold nothing.

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "bridges/http/event_hub.hpp"
#include "tests/support/testing.hpp"

using namespace distiller;
using namespace std::chrono_literals;
namespace dt = distiller::testing;

namespace {

/// A thread-safe record of what one subscriber received.
template <class T>
struct recorder {
  std::mutex mtx;
  std::vector<T> seen;

  auto callback() {
    return [this](const T& x) {
      std::lock_guard<std::mutex> guard{mtx};
      seen.push_back(x);
    };
  }

  std::vector<T> snapshot() {
    std::lock_guard<std::mutex> guard{mtx};
    return seen;
  }

  size_t size() {
    std::lock_guard<std::mutex> guard{mtx};
    return seen.size();
  }
};

} // namespace

TEST(event_hub, delivers_in_publish_order_to_the_key_only) {
  http::event_hub<int> hub;
  recorder<int> a, b, other;
  auto sa = hub.subscribe("job-1", a.callback());
  auto sb = hub.subscribe("job-1", b.callback());
  auto so = hub.subscribe("job-2", other.callback());
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(hub.publish("job-1", i), 2u);
  EXPECT_EQ(hub.publish("job-2", 42), 1u);
  EXPECT_EQ(hub.publish("job-3", 7), 0u);
  EXPECT_EQ(a.snapshot(), (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(b.snapshot(), (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(other.snapshot(), (std::vector<int>{42}));
}

TEST(event_hub, counts_subscribers_and_forgets_empty_keys) {
  http::event_hub<std::string> hub;
  EXPECT_EQ(hub.keys(), 0u);
  {
    auto s1 = hub.subscribe("k", [](const std::string&) {});
    auto s2 = hub.subscribe("k", [](const std::string&) {});
    auto s3 = hub.subscribe("j", [](const std::string&) {});
    EXPECT_EQ(hub.subscribers("k"), 2u);
    EXPECT_EQ(hub.subscribers("j"), 1u);
    EXPECT_EQ(hub.subscribers("none"), 0u);
    EXPECT_EQ(hub.keys(), 2u);
    s1.reset();
    EXPECT_FALSE(s1.active());
    EXPECT_EQ(hub.subscribers("k"), 1u);
    s1.reset(); // idempotent
    EXPECT_EQ(hub.subscribers("k"), 1u);
  }
  EXPECT_EQ(hub.keys(), 0u);
  EXPECT_EQ(hub.subscribers("k"), 0u);
  // Publishing to a key nobody watches creates nothing.
  EXPECT_EQ(hub.publish("k", "x"), 0u);
  EXPECT_EQ(hub.keys(), 0u);
}

TEST(event_hub, dropping_the_handle_stops_delivery) {
  http::event_hub<int> hub;
  recorder<int> r;
  auto s = hub.subscribe("k", r.callback());
  hub.publish("k", 1);
  {
    auto moved = std::move(s);
    EXPECT_FALSE(s.active()); // NOLINT(bugprone-use-after-move)
    EXPECT_TRUE(moved.active());
    hub.publish("k", 2);
  }
  hub.publish("k", 3);
  EXPECT_EQ(r.snapshot(), (std::vector<int>{1, 2}));
}

TEST(event_hub, move_assignment_releases_the_old_subscription) {
  http::event_hub<int> hub;
  recorder<int> a, b;
  auto s = hub.subscribe("a", a.callback());
  s = hub.subscribe("b", b.callback());
  EXPECT_EQ(hub.subscribers("a"), 0u);
  EXPECT_EQ(hub.subscribers("b"), 1u);
  EXPECT_EQ(s.key(), "b");
}

TEST(event_hub, a_callback_may_drop_its_own_subscription) {
  http::event_hub<int> hub;
  recorder<int> r;
  http::subscription self;
  self = hub.subscribe("k", [&](const int& x) {
    r.callback()(x);
    if (x == 2)
      self.reset(); // must not wait for itself
  });
  auto other = hub.subscribe("k", [](const int&) {});
  for (int i = 1; i <= 4; ++i)
    hub.publish("k", i);
  EXPECT_EQ(r.snapshot(), (std::vector<int>{1, 2}));
  EXPECT_EQ(hub.subscribers("k"), 1u);
}

TEST(event_hub, reset_waits_for_a_delivery_in_flight) {
  http::event_hub<int> hub;
  std::promise<void> entered;
  std::promise<void> release;
  auto release_f = release.get_future().share();
  std::atomic<bool> callback_done{false};
  auto s = hub.subscribe("k", [&](const int&) {
    entered.set_value();
    release_f.wait_for(10s);
    callback_done = true;
  });
  std::thread publisher([&] { hub.publish("k", 1); });
  entered.get_future().wait();
  std::atomic<bool> reset_done{false};
  std::thread resetter([&] {
    s.reset();
    reset_done = true;
  });
  // The callback is still running, so the reset must still be waiting.
  EXPECT_FALSE(dt::wait_until([&] { return reset_done.load(); }, 200ms));
  release.set_value();
  EXPECT_TRUE(dt::wait_until([&] { return reset_done.load(); }, 5s));
  EXPECT_TRUE(callback_done.load());
  publisher.join();
  resetter.join();
}

TEST(event_hub, a_throwing_callback_does_not_stop_the_others) {
  http::event_hub<int> hub;
  recorder<int> r;
  auto bad = hub.subscribe(
      "k", [](const int&) -> void { throw std::runtime_error("boom"); });
  auto good = hub.subscribe("k", r.callback());
  EXPECT_EQ(hub.publish("k", 5), 1u);
  EXPECT_EQ(r.snapshot(), (std::vector<int>{5}));
}

TEST(event_hub, subscription_may_outlive_the_hub) {
  http::subscription s;
  {
    http::event_hub<int> hub;
    s = hub.subscribe("k", [](const int&) {});
  }
  EXPECT_TRUE(s.active());
  s.reset();
  EXPECT_FALSE(s.active());
}

TEST(event_hub, concurrent_publishers_give_every_subscriber_the_same_order) {
  http::event_hub<std::pair<int, int>> hub; // (publisher, sequence)
  constexpr int publishers = 4;
  constexpr int per_publisher = 2000;
  std::vector<std::unique_ptr<recorder<std::pair<int, int>>>> recs;
  std::vector<http::subscription> subs;
  for (int i = 0; i < 3; ++i) {
    recs.push_back(std::make_unique<recorder<std::pair<int, int>>>());
    subs.push_back(hub.subscribe("k", recs.back()->callback()));
  }
  std::vector<std::thread> threads;
  for (int p = 0; p < publishers; ++p)
    threads.emplace_back([&hub, p] {
      for (int i = 0; i < per_publisher; ++i)
        hub.publish("k", {p, i});
    });
  for (auto& t : threads)
    t.join();
  auto first = recs[0]->snapshot();
  ASSERT_EQ(first.size(), size_t{publishers * per_publisher});
  for (auto& r : recs)
    EXPECT_EQ(r->snapshot(), first);
  std::vector<int> last(publishers, -1);
  for (auto& [p, i] : first) {
    EXPECT_EQ(i, last[p] + 1) << "publisher " << p;
    last[p] = i;
  }
}

TEST(event_hub, concurrent_subscribe_unsubscribe_and_publish) {
  http::event_hub<int> hub;
  std::atomic<bool> stop{false};
  std::atomic<int64_t> delivered{0};
  // A subscriber that stays through the churn must keep getting events.
  std::atomic<int> last_steady{-1};
  auto steady = hub.subscribe("a", [&](const int& v) { last_steady = v; });
  std::atomic<int> published{0};
  std::thread publisher([&] {
    int i = 0;
    while (!stop.load())
      for (auto key : {"a", "b", "c"}) {
        hub.publish(key, i);
        published = i++;
      }
  });
  std::vector<std::thread> churners;
  for (int t = 0; t < 3; ++t)
    churners.emplace_back([&, t] {
      std::string key = t == 0 ? "a" : t == 1 ? "b" : "c";
      for (int round = 0; round < 500; ++round) {
        // A subscription that sees an event after its reset would write to
        // a dead counter: `alive` catches that.
        auto alive = std::make_shared<std::atomic<bool>>(true);
        auto s = hub.subscribe(key, [&delivered, alive](const int&) {
          EXPECT_TRUE(alive->load());
          ++delivered;
        });
        auto s2 = hub.subscribe(key, [](const int&) {});
        s.reset();
        alive->store(false);
      }
    });
  for (auto& t : churners)
    t.join();
  // After the churn the hub still delivers to the one that stayed: an
  // event published after the last churner left reaches it.
  int after = published.load();
  EXPECT_TRUE(dt::wait_until([&] { return last_steady.load() > after; }, 10s))
      << "the steady subscriber stopped receiving";
  stop = true;
  publisher.join();
  steady.reset();
  EXPECT_EQ(hub.keys(), 0u);
}

TEST(event_hub, sse_hub_carries_ready_events) {
  http::sse_hub hub;
  recorder<std::string> r;
  auto s = hub.subscribe("user-1", [&](const http::sse_message& m) {
    r.callback()(m.event + "|" + m.data + "|" + m.id);
  });
  hub.publish("user-1", {"thought_completed", "{\"x\":1}", "7"});
  EXPECT_EQ(r.snapshot(),
            (std::vector<std::string>{"thought_completed|{\"x\":1}|7"}));
}
