// Unit tests of the source bridge's plain parts: binding validation, dead
// letters, latency percentiles, batched histograms, the flat map, the
// record pool, and in_record's inspect overload.

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/all.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <prometheus/histogram.h>

#include "bridges/kafka/flat_map.hpp"
#include "bridges/kafka/in_record.hpp"
#include "bridges/kafka/record_batch.hpp"
#include "bridges/kafka/record_chunk.hpp"
#include "bridges/kafka/source_binding.hpp"
#include "bridges/kafka/source_dead_letter.hpp"
#include "bridges/kafka/source_metrics.hpp"

namespace {

using namespace distiller;
using namespace distiller::kafka;

source_binding valid_binding() {
  source_binding b;
  b.name = "orders";
  b.topic = "orders";
  b.group = "orders-group";
  b.worker = [](caf::actor_system&, inspect::actor_entry_ptr) {
    return record_worker_actor{};
  };
  return b;
}

bool mentions(const std::vector<std::string>& problems, const std::string& x) {
  for (auto& p : problems)
    if (p.find(x) != std::string::npos)
      return true;
  return false;
}

// -- binding ------------------------------------------------------------------

TEST(SourceBinding, DefaultsAreValidAndDlqTopicFollowsTheTopic) {
  auto b = valid_binding();
  EXPECT_TRUE(validate(b).empty());
  EXPECT_EQ(b.dlq_topic(), "orders.dlq");
  b.dead_letter_topic = "orders-dead";
  EXPECT_EQ(b.dlq_topic(), "orders-dead");
  EXPECT_EQ(b.mode, ordering::key);
  EXPECT_EQ(b.retry.max_attempts, 3);
}

TEST(SourceBinding, ValidationNamesEveryBadField) {
  source_binding b;
  b.topic = "bad topic";
  b.pool_size = 0;
  b.retry.max_attempts = 0;
  b.max_in_flight = 0;
  b.max_buffered_per_partition = 1'000'000;
  b.auto_offset_reset = "sometimes";
  b.stall_after = std::chrono::milliseconds{-1};
  auto problems = validate(b);
  for (auto field :
       {"name", "topic", "group", "pool_size", "worker", "retry.max_attempts",
        "max_in_flight", "max_buffered_per_partition", "auto_offset_reset",
        "stall_after"})
    EXPECT_TRUE(mentions(problems, field)) << field;
  auto same = valid_binding();
  same.dead_letter_topic = same.topic;
  EXPECT_TRUE(mentions(validate(same), "dead_letter_topic"));
}

// -- dead letters
// ---------------------------------------------------------------

in_record sample_record() {
  in_record r;
  r.topic = "thoughts";
  r.partition = 3;
  r.offset = 42;
  r.key = "user-7";
  r.value = "{\"text\":\"hi\"}";
  r.headers = {{"x-trace-id", "abc123"}, {"tenant", "acme"}};
  r.timestamp_ms = 1700000000000;
  r.trace = trace_id{"abc123"};
  r.attempt = 3;
  return r;
}

std::map<std::string, std::vector<std::string>>
by_name(const std::vector<kafka_header>& hs) {
  std::map<std::string, std::vector<std::string>> out;
  for (auto& h : hs)
    out[h.key].push_back(h.value);
  return out;
}

TEST(DeadLetter, CarriesTheRecordAndWhyItFailed) {
  auto d =
      make_dead_letter(sample_record(), "thoughts.dlq",
                       {"boom", 3, 1700000000100, 1700000000900, "agents"});
  EXPECT_EQ(d.topic, "thoughts.dlq");
  EXPECT_EQ(d.key, std::optional<std::string>{"user-7"});
  EXPECT_EQ(d.value, "{\"text\":\"hi\"}");
  auto h = by_name(d.headers);
  EXPECT_EQ(h["x-error"], std::vector<std::string>{"boom"});
  EXPECT_EQ(h["x-attempts"], std::vector<std::string>{"3"});
  EXPECT_EQ(h["x-origin-topic"], std::vector<std::string>{"thoughts"});
  EXPECT_EQ(h["x-origin-partition"], std::vector<std::string>{"3"});
  EXPECT_EQ(h["x-origin-offset"], std::vector<std::string>{"42"});
  EXPECT_EQ(h["x-origin-timestamp"], std::vector<std::string>{"1700000000000"});
  EXPECT_EQ(h["x-first-failure-ts"], std::vector<std::string>{"1700000000100"});
  EXPECT_EQ(h["x-last-failure-ts"], std::vector<std::string>{"1700000000900"});
  EXPECT_EQ(h["x-bridge"], std::vector<std::string>{"agents"});
  // The original trace header is kept, not doubled.
  EXPECT_EQ(h["x-trace-id"], std::vector<std::string>{"abc123"});
  EXPECT_EQ(h["tenant"], std::vector<std::string>{"acme"});
}

TEST(DeadLetter, AddsTheTraceIdAndReplacesOldFailureHeaders) {
  auto r = sample_record();
  r.key.reset();
  r.headers = {{"x-error", "older failure"}, {"x-attempts", "9"}};
  r.trace = trace_id{"fresh-trace"};
  auto d = make_dead_letter(r, "t.dlq", {"new failure", 1, 5, 5, "b"});
  EXPECT_FALSE(d.key.has_value());
  auto h = by_name(d.headers);
  EXPECT_EQ(h["x-error"], std::vector<std::string>{"new failure"});
  EXPECT_EQ(h["x-attempts"], std::vector<std::string>{"1"});
  EXPECT_EQ(h["x-trace-id"], std::vector<std::string>{"fresh-trace"});
}

// -- latencies
// -----------------------------------------------------------------

TEST(LatencyRecorder, QuantilesAreWithinSixPercent) {
  latency_recorder r;
  EXPECT_EQ(r.quantile(0.5), 0);
  std::vector<int64_t> xs;
  std::mt19937_64 gen{1};
  std::lognormal_distribution<double> dist{10.0, 1.5};
  for (int i = 0; i < 100000; ++i) {
    auto x = static_cast<int64_t>(dist(gen));
    xs.push_back(x);
    r.record(x);
  }
  std::sort(xs.begin(), xs.end());
  for (double q : {0.5, 0.9, 0.99}) {
    auto exact =
        static_cast<double>(xs[static_cast<size_t>(q * xs.size()) - 1]);
    auto approx = static_cast<double>(r.quantile(q));
    EXPECT_NEAR(approx, exact, exact * 0.07) << "q=" << q;
  }
  EXPECT_EQ(r.count(), 100000u);
  r.reset();
  EXPECT_EQ(r.count(), 0u);
}

TEST(HistogramBatch, FlushEqualsObservingOneByOne) {
  auto& bounds = latency_bucket_bounds();
  prometheus::Histogram one_by_one{bounds};
  prometheus::Histogram batched{bounds};
  histogram_batch batch{bounds};
  for (double v : {0.00005, 0.0001, 0.0003, 0.002, 0.7, 12.0, 99.0}) {
    one_by_one.Observe(v);
    batch.observe(v);
  }
  batch.flush(batched);
  batch.flush(batched); // nothing new: no change
  auto a = one_by_one.Collect().histogram;
  auto b = batched.Collect().histogram;
  EXPECT_EQ(a.sample_count, b.sample_count);
  EXPECT_DOUBLE_EQ(a.sample_sum, b.sample_sum);
  ASSERT_EQ(a.bucket.size(), b.bucket.size());
  for (size_t i = 0; i < a.bucket.size(); ++i)
    EXPECT_EQ(a.bucket[i].cumulative_count, b.bucket[i].cumulative_count) << i;
}

// -- flat map
// ------------------------------------------------------------------

struct u64_hash {
  uint64_t operator()(uint64_t x) const noexcept { return mix64(x); }
};

TEST(FlatMap, BehavesLikeUnorderedMapUnderRandomInsertsAndErases) {
  flat_map<uint64_t, int, u64_hash> m;
  std::unordered_map<uint64_t, int> ref;
  std::mt19937_64 gen{42};
  for (int i = 0; i < 200000; ++i) {
    auto k = gen() % 5000;
    if (gen() % 3 != 0) {
      if (ref.count(k) == 0) {
        ref[k] = i;
        m.insert(k, i);
      }
    } else {
      EXPECT_EQ(m.erase(k), ref.erase(k) == 1);
    }
  }
  EXPECT_EQ(m.size(), ref.size());
  for (auto& [k, v] : ref) {
    auto* found = m.find(k);
    ASSERT_NE(found, nullptr) << k;
    EXPECT_EQ(*found, v);
  }
  size_t seen = 0;
  m.for_each([&](uint64_t, int&) { ++seen; });
  EXPECT_EQ(seen, ref.size());
  EXPECT_EQ(m.find(999999), nullptr);
}

// -- in_record
// -------------------------------------------------------------------

TEST(InRecord, RoundTripsThroughCafSerialization) {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  for (bool with_key : {true, false}) {
    auto sent = sample_record();
    if (!with_key)
      sent.key.reset();
    std::vector<char> buf;
    caf::binary_serializer sink{sys, buf};
    ASSERT_FALSE(sink(sent));
    in_record got;
    got.key = "stale";
    caf::binary_deserializer source{sys, buf};
    ASSERT_FALSE(source(got));
    EXPECT_EQ(got.key, sent.key);
    EXPECT_EQ(got.value, sent.value);
    EXPECT_EQ(got.headers, sent.headers);
    EXPECT_EQ(got.trace, sent.trace);
    EXPECT_EQ(got.offset, 42);
    EXPECT_EQ(got.attempt, 3);
    EXPECT_EQ(got.header("tenant"), std::optional<std::string_view>{"acme"});
    EXPECT_FALSE(got.header("missing"));
  }
  EXPECT_TRUE(is_permanent(caf::make_error(record_errc::undecodable)));
  EXPECT_FALSE(is_permanent(caf::make_error(caf::sec::runtime_error)));
  EXPECT_FALSE(is_permanent(caf::error{}));
}

TEST(InRecord, RecordErrorsRenderTheirReasonPlainly) {
  // The dead-letter log line and x-error header once read
  // `record: permanent (("unknown job job-4"))`.
  caf::actor_system_config cfg;
  add_record_error_category(cfg);
  caf::actor_system sys{cfg};
  EXPECT_EQ(sys.render(caf::make_error(record_errc::permanent,
                                       std::string{"unknown job job-4"})),
            "record: permanent: unknown job job-4");
  EXPECT_EQ(sys.render(caf::make_error(record_errc::undecodable)),
            "record: undecodable");
  EXPECT_EQ(sys.render(caf::make_error(record_errc::undecodable,
                                       std::string{"bad JSON"}, 3)),
            "record: undecodable: bad JSON; 3");
}

// -- record_chunk_pool, record_batch
// ---------------------------------------------------

TEST(RecordChunkPool, ASpentChunkComesBackWithItsStorage) {
  auto pool = std::make_shared<record_chunk_pool>(1);
  record_chunk* first = nullptr;
  const char* storage = nullptr;
  {
    auto c = pool->take();
    EXPECT_EQ(c->size, 0u);
    c->append().value.assign(500, 'x');
    c->append().value = "y";
    EXPECT_EQ(c->size, 2u);
    first = c.get();
    storage = (*c)[0].value.data();
    EXPECT_EQ(pool->size(), 0u);
  } // the last reference goes: back to the pool
  EXPECT_EQ(pool->size(), 1u);
  auto again = pool->take();
  EXPECT_EQ(again.get(), first);
  EXPECT_EQ(again->size, 0u); // empty, its records kept as spare storage
  auto& r = again->append();
  r.value.assign(400, 'z'); // refilled in place: no new allocation
  EXPECT_EQ(r.value.data(), storage);
  EXPECT_EQ(pool->size(), 0u);
}

TEST(RecordChunkPool, KeepsAtMostItsCapacityAndOutlivesNothing) {
  auto pool = std::make_shared<record_chunk_pool>(1);
  auto a = pool->take();
  auto b = pool->take();
  a.reset();
  b.reset(); // the pool is full: freed
  EXPECT_EQ(pool->size(), 1u);
  auto c = pool->take();
  pool.reset(); // a chunk may outlive its pool: freed when it goes
  c->append().value = "still usable";
  EXPECT_EQ((*c)[0].value, "still usable");
}

TEST(RecordBatch, HoldsWhatKeepsItsRecordsAlive) {
  auto pool = std::make_shared<record_chunk_pool>();
  auto chunk = pool->take();
  chunk->append().offset = 7;
  chunk->append().offset = 8;
  auto own = std::make_shared<in_record>();
  own->offset = 9;
  record_batch batch;
  batch.add(&(*chunk)[0], chunk);
  batch.add(&(*chunk)[1], chunk);
  batch.add(own.get(), own);
  std::weak_ptr<record_chunk> watch = chunk;
  chunk.reset();
  own.reset();
  // The batch keeps both owners: the records are still readable.
  EXPECT_FALSE(watch.expired());
  ASSERT_EQ(batch.size(), 3u);
  EXPECT_EQ(batch[0].offset, 7);
  EXPECT_EQ(batch[1].offset, 8);
  EXPECT_EQ(batch[2].offset, 9);
  batch = record_batch{};
  EXPECT_TRUE(watch.expired());
  EXPECT_EQ(pool->size(), 1u);
}

} // namespace
