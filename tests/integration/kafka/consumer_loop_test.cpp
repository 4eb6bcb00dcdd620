// The consumer loop under a source bridge (consumer_loop.hpp), driven
// directly: its pause layers (back-pressure and the operator's) and the
// operator's partition views against a slow broker.

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bridges/kafka/consumer_loop.hpp"
#include "tests/support/source_fixture.hpp"

using namespace distiller;
using namespace distiller::kafka;
using namespace distiller::kafka::test;

namespace {

class consumer_loop_test : public source_fixture {
 protected:
  /// A consumer loop's configuration for `topic`, named `name`.
  consumer_loop::config loop_config(const std::string& name,
                                    const std::string& topic) {
    consumer_loop::config cfg;
    cfg.brokers = brokers();
    cfg.topic = topic;
    cfg.group = name + "-group";
    cfg.client_id = name;
    cfg.bridge_name = name;
    cfg.properties = {{"session.timeout.ms", "6000"},
                      {"heartbeat.interval.ms", "500"}};
    return cfg;
  }
};

} // namespace

namespace {

/// Counts the records a consumer loop hands over, per partition.
class counting_events : public consumer_events {
 public:
  void on_records(chunk_ptr records, int64_t) override {
    std::lock_guard<std::mutex> guard{mtx_};
    for (size_t k = 0; k < records->size; ++k)
      ++counts_[(*records)[k].partition];
  }
  void on_assigned(std::vector<int32_t> partitions) override {
    std::lock_guard<std::mutex> guard{mtx_};
    assigned_ += partitions.size();
  }
  std::future<std::vector<partition_offset>> on_revoked(std::vector<int32_t>,
                                                        bool) override {
    std::promise<std::vector<partition_offset>> p;
    p.set_value({});
    return p.get_future();
  }
  void on_committed(std::vector<partition_offset>, caf::error) override {}
  void on_error(caf::error, bool) override {}
  void on_stopped() override { stopped_ = true; }

  size_t count(int32_t partition) const {
    std::lock_guard<std::mutex> guard{mtx_};
    auto i = counts_.find(partition);
    return i != counts_.end() ? i->second : 0;
  }
  size_t assigned() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return assigned_;
  }
  bool stopped() const { return stopped_; }

 private:
  mutable std::mutex mtx_;
  std::map<int32_t, size_t> counts_;
  size_t assigned_ = 0;
  std::atomic<bool> stopped_{false};
};

} // namespace

TEST_F(consumer_loop_test, operator_and_back_pressure_pauses_are_independent) {
  auto topic = make_topic("layers", 2);
  std::vector<test_message> msgs;
  for (int i = 0; i < 100; ++i)
    msgs.push_back({i % 2, "k", "v", {}});
  produce(topic, msgs);
  auto cfg = loop_config("layers", topic);
  auto events = std::make_shared<counting_events>();
  consumer_loop loop{cfg, events};
  // Paused before the assignment: the partitions assigned later are paused.
  loop.operator_pause();
  loop.start();
  ASSERT_TRUE(dt::wait_until([&] { return events->assigned() == 2; }, 30s));
  EXPECT_FALSE(dt::wait_until(
      [&] { return events->count(0) + events->count(1) > 0; }, 1500ms));
  // Back-pressure holds partition 0: an operator's resume leaves it paused.
  loop.pause({0});
  loop.operator_resume();
  ASSERT_TRUE(dt::wait_until([&] { return events->count(1) == 50; }, 20s));
  EXPECT_FALSE(dt::wait_until([&] { return events->count(0) > 0; }, 1500ms));
  // Back-pressure lets go while the operator pauses: partition 0 stays
  // paused.
  loop.operator_pause();
  loop.resume({0});
  EXPECT_FALSE(dt::wait_until([&] { return events->count(0) > 0; }, 1500ms));
  // Both let go: it is served.
  loop.operator_resume();
  ASSERT_TRUE(dt::wait_until([&] { return events->count(0) == 50; }, 20s));
  auto views = loop.partition_views({0, 1});
  ASSERT_EQ(views.size(), 2u);
  EXPECT_EQ(views[0].partition, 0);
  EXPECT_EQ(views[0].high_watermark, 50);
  EXPECT_EQ(views[0].position, 50);
  EXPECT_EQ(views[1].high_watermark, 50);
  loop.close({});
  loop.join();
  EXPECT_TRUE(events->stopped());
  EXPECT_TRUE(loop.partition_views({0}).empty());
}

TEST_F(consumer_loop_test, views_against_a_slow_broker_hold_back_no_command) {
  // The operator's views (the shell's `partitions`, the cluster's bridge
  // answers) query the coordinator and the leaders; against a slow broker
  // they take most of a second. Meanwhile the bridge's commands (commits,
  // back-pressure pauses) must neither wait to be queued nor to be served.
  auto topic = make_topic("slow-views", 4);
  std::vector<test_message> msgs;
  for (int i = 0; i < 40; ++i)
    msgs.push_back({i % 4, "k", "v", {}});
  produce(topic, msgs);
  auto cfg = loop_config("slow-views", topic);
  auto events = std::make_shared<counting_events>();
  consumer_loop loop{cfg, events};
  loop.start();
  ASSERT_TRUE(dt::wait_until([&] { return events->assigned() == 4; }, 30s));
  ASSERT_TRUE(dt::wait_until(
      [&] {
        size_t n = 0;
        for (int p = 0; p < 4; ++p)
          n += events->count(p);
        return n == 40;
      },
      20s));
  // Held by back-pressure, partition 0 is not fetched: the fetches' numbers
  // stand still, the leader's answer has the records produced since.
  loop.pause({0});
  std::vector<test_message> held;
  for (int i = 0; i < 5; ++i)
    held.push_back({0, "k", "v", {}});
  produce(topic, held);
  EXPECT_FALSE(dt::wait_until([&] { return events->count(0) > 10; }, 1s));
  auto fresh = loop.partition_views({0});
  ASSERT_EQ(fresh.size(), 1u);
  EXPECT_EQ(fresh[0].high_watermark, 15);
  EXPECT_EQ(fresh[0].low_watermark, 0);
  EXPECT_EQ(fresh[0].position, 10);
  loop.resume({0});
  ASSERT_TRUE(dt::wait_until([&] { return events->count(0) == 15; }, 20s));
  // Every answer of the broker now comes 400 ms late: the committed-offsets
  // query waits for it, the ListOffsets requests time out (cached numbers).
  ASSERT_EQ(rd_kafka_mock_broker_set_rtt(cluster->mock(), 1, 400),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  std::atomic<bool> asking{false};
  std::atomic<bool> answered{false};
  std::vector<consumer_loop::partition_view> views;
  std::thread asker{[&] {
    asking = true;
    views = loop.partition_views({0, 1, 2, 3});
    answered = true;
  }};
  ASSERT_TRUE(dt::wait_until([&] { return asking.load(); }, 5s));
  // A back-pressure pause and its resume, a thousand times over: each one
  // is queued and served by the poll thread while the views are still out.
  constexpr int rounds = 1000;
  int queued_while_asking = 0;
  for (int i = 0; i < rounds; ++i) {
    loop.pause({0});
    loop.resume({0});
    if (!answered)
      ++queued_while_asking;
  }
  asker.join();
  ASSERT_EQ(rd_kafka_mock_broker_set_rtt(cluster->mock(), 1, 0),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  EXPECT_EQ(queued_while_asking, rounds);
  ASSERT_EQ(views.size(), 4u);
  for (int p = 0; p < 4; ++p) {
    EXPECT_EQ(views[p].partition, p);
    // The last fetch's numbers stand in for the late ListOffsets answers.
    int64_t end = p == 0 ? 15 : 10;
    EXPECT_EQ(views[p].high_watermark, end) << "partition " << p;
    EXPECT_EQ(views[p].position, end) << "partition " << p;
  }
  // The poll thread served them all: records produced now still arrive.
  std::vector<test_message> more;
  for (int i = 0; i < 4; ++i)
    more.push_back({i, "k", "v", {}});
  produce(topic, more);
  EXPECT_TRUE(dt::wait_until([&] { return events->count(0) == 16; }, 20s));
  loop.close({});
  loop.join();
}
