#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/source_fixture.hpp"

using namespace distiller;
using namespace distiller::kafka;
using namespace distiller::kafka::test;

namespace {

using source_crash = source_fixture;

/// Checks every commit a bridge's consumer makes against what was processed
/// at that moment.
struct commit_audit {
  std::shared_ptr<record_log> log;
  std::mutex mtx;
  std::vector<std::string> violations;
  std::map<int32_t, int64_t> highest;
  std::atomic<int> commits{0};

  commit_observer observer() {
    return [this](int32_t partition, int64_t offset, bool) {
      ++commits;
      std::lock_guard<std::mutex> guard{mtx};
      highest[partition] = std::max(highest[partition], offset);
      if (!log->all_below(partition, 0, offset))
        violations.push_back("partition " + std::to_string(partition) +
                             " committed " + std::to_string(offset) +
                             " past an unprocessed record");
    };
  }
};

} // namespace

TEST_F(source_crash,
       nothing_is_lost_and_no_commit_passes_an_unprocessed_record) {
  constexpr int total = 3000;
  auto topic = make_topic("crash", 3);
  std::vector<test_message> msgs;
  for (int i = 0; i < total; ++i)
    msgs.push_back(
        {i % 3, "key-" + std::to_string(i % 97), "v" + std::to_string(i), {}});
  produce(topic, msgs);
  auto log = std::make_shared<record_log>();
  commit_audit audit;
  audit.log = log;
  auto slow = [](const in_record&) -> caf::error {
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
    return caf::none;
  };
  auto b = make_binding("first", topic, "crash-group");
  b.commit_interval = 50ms;
  b.pool_size = 4;
  b.worker = logging_worker(log, slow);
  auto first = start(b, audit.observer());
  ASSERT_TRUE(dt::wait_until([&] { return log->size() >= 1000; }, 60s));
  ASSERT_TRUE(dt::wait_until([&] { return audit.commits > 0; }, 10s));
  crash(first);
  auto processed_by_first = log->size();
  ASSERT_LT(processed_by_first, static_cast<size_t>(total))
      << "the crash came too late to test anything";
  auto after_crash = committed("crash-group", topic, 3);
  // A second bridge in the same group takes over once the group notices.
  auto b2 = make_binding("second", topic, "crash-group");
  b2.commit_interval = 50ms;
  b2.worker = logging_worker(log);
  auto second = start(b2, audit.observer());
  if (!dt::wait_until([&] { return log->distinct() >= total; }, 90s)) {
    // What the second bridge holds tells a stalled partition (never
    // assigned, or assigned and not fetched) from a stalled pool.
    std::map<int32_t, std::set<int64_t>> seen;
    for (auto& r : log->items())
      seen[r.partition].insert(r.offset);
    auto st = stats(second);
    std::string parts;
    for (auto& [p, offsets] : seen)
      parts += " " + std::to_string(p) + ":" + std::to_string(offsets.size());
    std::string assigned;
    for (auto p : st.assigned)
      assigned += " " + std::to_string(p);
    FAIL() << log->distinct() << " of " << total << "; distinct per partition"
           << parts << "; second bridge assigned" << assigned << ", consumed "
           << st.consumed << ", processed " << st.processed << ", in flight "
           << st.in_flight << ", buffered " << st.buffered << ", batches "
           << st.batches << ", assigns " << st.assigns << ", revokes "
           << st.revokes << ", paused partitions " << st.paused_partitions;
  }
  auto ends = end_offsets(topic, 3);
  ASSERT_TRUE(dt::wait_until(
      [&] { return committed("crash-group", topic, 3) == ends; }, 20s));
  EXPECT_EQ(stop(second), caf::exit_reason::user_shutdown);
  {
    std::lock_guard<std::mutex> guard{audit.mtx};
    EXPECT_TRUE(audit.violations.empty()) << audit.violations.front();
  }
  // The second bridge started at the crashed one's last commit: everything
  // from there was processed again (duplicates, never gaps).
  auto items = log->items();
  std::map<int32_t, int64_t> first_offset_of_second;
  for (size_t i = processed_by_first; i < items.size(); ++i) {
    auto& r = items[i];
    auto it = first_offset_of_second.find(r.partition);
    if (it == first_offset_of_second.end() || r.offset < it->second)
      first_offset_of_second[r.partition] = r.offset;
  }
  for (auto& [p, off] : after_crash)
    if (off >= 0 && first_offset_of_second.count(p) != 0) {
      EXPECT_EQ(first_offset_of_second[p], off) << "partition " << p;
    }
  std::printf("crash: first bridge processed %zu, committed %lld/%lld/%lld; "
              "%zu processed in total (%zu duplicates)\n",
              processed_by_first, static_cast<long long>(after_crash[0]),
              static_cast<long long>(after_crash[1]),
              static_cast<long long>(after_crash[2]), items.size(),
              items.size() - static_cast<size_t>(total));
}
