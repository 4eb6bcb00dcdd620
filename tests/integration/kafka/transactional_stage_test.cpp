#include "bridges/kafka/transactional_stage.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "bridges/embedded/kafka_cluster.hpp"
#include "bridges/kafka/handles.hpp"
#include "runtime/logging/log.hpp"
#include "runtime/metrics/metrics.hpp"
#include "tests/support/log_capture.hpp"
#include "tests/support/testing.hpp"

using namespace distiller;
using namespace std::chrono_literals;
namespace dt = distiller::testing;

// Why the tests look the way they do — librdkafka 2.0.2's mock cluster
// implements the transactional *protocol* but not its effects
// (mock_cluster_transaction_limits checks each):
//   - TxnOffsetCommit is accepted and dropped (committed offsets stay
//     unset), so the stages mirror each commit through the consumer
//     (eos_stage_config::mirror_offset_commit);
//   - EndTxn writes no commit/abort markers and Fetch reports no aborted
//     transactions, so read_committed consumers see aborted records too;
//   - InitProducerId hands a second producer with the same transactional.id
//     a new producer id instead of bumping the epoch, so nothing is fenced;
//     the fencing test injects the broker's PRODUCER_FENCED answer.
// A crash after an open transaction's outputs reached the broker therefore
// leaves them visible on the mock, while real Kafka hides them. The test
// crashes inside an open transaction whose outputs are still in the
// producer (linger.ms 2000 keeps them there; commit_transaction flushes
// without waiting for linger), which a killed process loses — the case
// the mock can judge. `mock_shows_aborted_records_to_read_committed`
// documents the limit.

namespace {

constexpr int inputs = 2000;

/// The Kafka protocol's ApiKey of EndTxn (librdkafka keeps its RD_KAFKAP_*
/// names in an internal header).
constexpr int16_t add_offsets_to_txn_api_key = 25;
constexpr int16_t end_txn_api_key = 26;
constexpr auto run_deadline = 120s;

struct group_metadata_deleter {
  void operator()(rd_kafka_consumer_group_metadata_t* x) const noexcept {
    rd_kafka_consumer_group_metadata_destroy(x);
  }
};
using group_metadata_holder =
    std::unique_ptr<rd_kafka_consumer_group_metadata_t, group_metadata_deleter>;

/// What one consumer of the output sees.
struct output_record {
  std::string value;
  std::string trace;
};

std::string input_value(int i) {
  return "in-" + std::to_string(i);
}

/// Produces inputs 0..n-1 (keyed over 50 keys, with a trace header).
void produce_inputs(const std::string& bootstrap, const std::string& topic,
                    int n) {
  auto rk = kafka::make_client(
      RD_KAFKA_PRODUCER, kafka::make_conf({{"bootstrap.servers", bootstrap},
                                           {"enable.idempotence", "true"},
                                           {"linger.ms", "5"}}));
  for (int i = 0; i < n; ++i) {
    auto key = "k" + std::to_string(i % 50);
    auto value = input_value(i);
    auto trace = "trace-" + std::to_string(i);
    auto err = rd_kafka_producev(
        rk.get(), RD_KAFKA_V_TOPIC(topic.c_str()),
        RD_KAFKA_V_KEY(key.data(), key.size()),
        RD_KAFKA_V_VALUE(value.data(), value.size()),
        RD_KAFKA_V_HEADER(trace_header, trace.data(),
                          static_cast<ssize_t>(trace.size())),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
      throw std::runtime_error(std::string{"producev: "} +
                               rd_kafka_err2str(err));
  }
  if (rd_kafka_flush(rk.get(), 30000) != RD_KAFKA_RESP_ERR_NO_ERROR ||
      rd_kafka_outq_len(rk.get()) != 0)
    throw std::runtime_error("inputs not flushed");
}

/// Reads every record of `topic` up to the current high watermarks, from
/// the beginning, without a group, with the given isolation level.
std::vector<output_record> read_all(const std::string& bootstrap,
                                    const std::string& topic, int partitions,
                                    const std::string& isolation) {
  auto rk = kafka::make_client(
      RD_KAFKA_CONSUMER, kafka::make_conf({{"bootstrap.servers", bootstrap},
                                           {"group.id", "eos-reader"},
                                           {"isolation.level", isolation},
                                           {"enable.auto.commit", "false"},
                                           {"enable.partition.eof", "true"}}));
  kafka::topic_partition_list_ptr parts{
      rd_kafka_topic_partition_list_new(partitions)};
  for (int p = 0; p < partitions; ++p)
    rd_kafka_topic_partition_list_add(parts.get(), topic.c_str(), p)->offset =
        RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_assign(rk.get(), parts.get());
  std::vector<output_record> out;
  std::map<int32_t, bool> at_end;
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (static_cast<int>(at_end.size()) < partitions &&
         std::chrono::steady_clock::now() < deadline) {
    kafka::message_ptr msg{rd_kafka_consumer_poll(rk.get(), 100)};
    if (!msg)
      continue;
    if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      at_end[msg->partition] = true;
      continue;
    }
    if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR)
      continue;
    output_record r;
    r.value.assign(static_cast<const char*>(msg->payload), msg->len);
    rd_kafka_headers_t* hdrs = nullptr;
    const void* value = nullptr;
    size_t size = 0;
    if (rd_kafka_message_headers(msg.get(), &hdrs) ==
            RD_KAFKA_RESP_ERR_NO_ERROR &&
        rd_kafka_header_get_last(hdrs, trace_header, &value, &size) ==
            RD_KAFKA_RESP_ERR_NO_ERROR)
      r.trace.assign(static_cast<const char*>(value), size);
    out.push_back(std::move(r));
  }
  rd_kafka_consumer_close(rk.get());
  return out;
}

/// Input i yields "out-i", and every tenth input also "extra-i" (to a
/// topic named by the record itself).
std::vector<kafka::out_record> transform(const kafka::consumed_view& in) {
  auto value = std::string{in.value};
  if (value.rfind("in-", 0) != 0)
    throw std::runtime_error("unexpected input " + value);
  auto index = value.substr(3);
  std::vector<kafka::out_record> outs(1);
  outs[0].key =
      in.key ? std::optional<std::string>{std::string{*in.key}} : std::nullopt;
  outs[0].value = "out-" + index;
  if (std::stoi(index) % 10 == 0) {
    kafka::out_record extra;
    extra.topic = "eos-out";
    extra.value = "extra-" + index;
    outs.push_back(std::move(extra));
  }
  return outs;
}

/// The outputs a correct run produces, each once.
std::map<std::string, int> expected_outputs(int n) {
  std::map<std::string, int> out;
  for (int i = 0; i < n; ++i) {
    out["out-" + std::to_string(i)] = 1;
    if (i % 10 == 0)
      out["extra-" + std::to_string(i)] = 1;
  }
  return out;
}

std::map<std::string, int> count_values(const std::vector<output_record>& xs) {
  std::map<std::string, int> out;
  for (auto& x : xs)
    ++out[x.value];
  return out;
}

using log_capture = dt::log_capture;

class stage_fixture : public ::testing::Test {
 protected:
  stage_fixture() : cluster{3} {
    cluster.create_topic("eos-in", 3, 3);
    cluster.create_topic("eos-out", 3, 3);
  }

  kafka::eos_stage_config config() {
    kafka::eos_stage_config c;
    c.brokers = cluster.bootstrap();
    c.group = "eos-group";
    c.input_topic = "eos-in";
    c.output_topic = "eos-out";
    c.transactional_id = "eos-stage-1";
    c.max_batch = 100;
    c.max_batch_time = 100ms;
    // A crashed stage's consumer stays in the group this long.
    c.session_timeout = 6000ms;
    // The mock drops transactional offset commits (see the top of the file).
    c.mirror_offset_commit = true;
    return c;
  }

  // Declared first: destroyed last, after every client.
  embedded::kafka_cluster cluster;
};

} // namespace

// -- configuration mapping ----------------------------------------------------

TEST(eos_stage_config, maps_to_consumer_and_producer_properties) {
  kafka::eos_stage_config c;
  c.brokers = "127.0.0.1:9092";
  c.group = "g";
  c.input_topic = "in";
  c.output_topic = "out";
  c.transactional_id = "tx-1";
  auto consumer = kafka::eos_consumer_properties(c);
  EXPECT_EQ(consumer["group.id"], "g");
  EXPECT_EQ(consumer["isolation.level"], "read_committed");
  EXPECT_EQ(consumer["enable.auto.commit"], "false");
  EXPECT_EQ(consumer["auto.offset.reset"], "earliest");
  EXPECT_EQ(consumer["session.timeout.ms"], "10000");
  auto producer = kafka::eos_producer_properties(c);
  EXPECT_EQ(producer["transactional.id"], "tx-1");
  EXPECT_EQ(producer["enable.idempotence"], "true");
  EXPECT_EQ(producer["acks"], "all");
  EXPECT_EQ(producer["transaction.timeout.ms"], "60000");
  EXPECT_NO_THROW(kafka::make_conf(consumer));
  EXPECT_NO_THROW(kafka::make_conf(producer));
  c.producer_extra = {{"linger.ms", "50"}};
  EXPECT_EQ(kafka::eos_producer_properties(c)["linger.ms"], "50");
}

TEST(eos_stage_config, rejects_what_would_break_exactly_once) {
  auto base = [] {
    kafka::eos_stage_config c;
    c.brokers = "b:9092";
    c.group = "g";
    c.input_topic = "in";
    c.output_topic = "out";
    c.transactional_id = "tx";
    return c;
  };
  auto expect_throw = [](const kafka::eos_stage_config& c,
                         const std::string& fragment) {
    try {
      kafka::eos_consumer_properties(c);
      kafka::eos_producer_properties(c);
      ADD_FAILURE() << "no exception for " << fragment;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string{e.what()}.find(fragment), std::string::npos)
          << e.what();
    }
  };
  auto c = base();
  c.transactional_id.clear();
  expect_throw(c, "eos_stage.transactional_id");
  c = base();
  c.group.clear();
  expect_throw(c, "eos_stage.group");
  c = base();
  c.max_batch = 0;
  expect_throw(c, "eos_stage.max_batch");
  c = base();
  c.consumer_extra = {{"enable.auto.commit", "true"}};
  expect_throw(c, "eos_stage.consumer_extra.enable.auto.commit");
  c = base();
  c.consumer_extra = {{"isolation.level", "read_uncommitted"}};
  expect_throw(c, "eos_stage.consumer_extra.isolation.level");
  c = base();
  c.producer_extra = {{"acks", "1"}};
  expect_throw(c, "eos_stage.producer_extra.acks");
  EXPECT_THROW(kafka::transactional_stage(base(), nullptr),
               std::invalid_argument);
}

// -- exactly-once across a crash ----------------------------------------------

TEST_F(stage_fixture, crash_mid_stream_and_restart_leaves_no_duplicates) {
  produce_inputs(cluster.bootstrap(), "eos-in", inputs);
  metrics::node_metrics m{"node-test"};
  auto c = config();
  // Keep a batch's outputs in the producer until commit_transaction flushes
  // them, so the crash point finds them unsent (see the top of the file).
  c.producer_extra = {{"linger.ms", "2000"}};
  uint64_t committed_before_crash = 0;
  {
    kafka::transactional_stage first{c, transform, &m};
    first.start();
    ASSERT_TRUE(dt::wait_until(
        [&] { return first.stats().committed_inputs >= 600; }, run_deadline))
        << "committed " << first.stats().committed_inputs << ", state "
        << kafka::to_string(first.state()) << ": " << first.error();
    // Mid-stream: inputs remain, a transaction is open at the crash.
    EXPECT_TRUE(first.crash());
    auto s = first.stats();
    committed_before_crash = s.committed_inputs;
    EXPECT_LT(committed_before_crash, static_cast<uint64_t>(inputs));
    EXPECT_GT(s.consumed, committed_before_crash)
        << "the crash should lose a polled, uncommitted batch";
    EXPECT_EQ(s.transactions_aborted, 0u);
  }
  kafka::transactional_stage second{c, transform, &m};
  second.start();
  // The successor (on real Kafka: fencing the crashed producer and aborting
  // its transaction) waits for the dead consumer's session to expire and
  // carries on from the committed offsets.
  ASSERT_TRUE(dt::wait_until(
      [&] {
        return committed_before_crash + second.stats().committed_inputs >=
               static_cast<uint64_t>(inputs);
      },
      run_deadline))
      << "committed " << committed_before_crash << " + "
      << second.stats().committed_inputs << ", state "
      << kafka::to_string(second.state()) << ": " << second.error();
  second.stop();
  EXPECT_EQ(second.state(), kafka::transactional_stage::run_state::stopped);
  EXPECT_EQ(committed_before_crash + second.stats().committed_inputs,
            static_cast<uint64_t>(inputs));

  auto committed =
      read_all(cluster.bootstrap(), "eos-out", 3, "read_committed");
  auto seen = count_values(committed);
  auto expected = expected_outputs(inputs);
  for (auto& [value, n] : seen)
    EXPECT_EQ(n, 1) << value << " seen " << n << " times";
  for (auto& [value, n] : expected)
    EXPECT_EQ(seen.count(value), 1u) << value << " missing";
  EXPECT_EQ(committed.size(), expected.size());
  // Outputs carry their input's trace id.
  for (auto& r : committed) {
    if (r.value.rfind("out-", 0) == 0) {
      EXPECT_EQ(r.trace, "trace-" + r.value.substr(4)) << r.value;
    }
  }
  // read_uncommitted may see aborted duplicates on real Kafka; here the
  // crashed batch never left the producer, so it sees the same.
  auto uncommitted =
      read_all(cluster.bootstrap(), "eos-out", 3, "read_uncommitted");
  EXPECT_GE(uncommitted.size(), expected.size());
  auto text = m.render();
  EXPECT_NE(text.find("distiller_kafka_eos_transactions_total{result="
                      "\"committed\",stage=\"eos-stage-1\"}"),
            std::string::npos)
      << text;
}

TEST_F(stage_fixture, an_abortable_error_aborts_rewinds_and_retries_the_batch) {
  produce_inputs(cluster.bootstrap(), "eos-in", 500);
  auto c = config();
  // Outputs stay in the producer until commit (see the top of the file), so
  // abort_transaction drops them before the mock could show them.
  c.producer_extra = {{"linger.ms", "2000"}};
  // The coordinator refuses the first batch's offsets (abortable).
  rd_kafka_mock_push_request_errors(
      cluster.mock(), add_offsets_to_txn_api_key, 1,
      RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED);
  kafka::transactional_stage stage{c, transform};
  stage.start();
  ASSERT_TRUE(dt::wait_until(
      [&] { return stage.stats().committed_inputs >= 500; }, run_deadline))
      << stage.stats().committed_inputs << ": " << stage.error();
  stage.stop();
  auto s = stage.stats();
  EXPECT_EQ(s.transactions_aborted, 1u);
  EXPECT_EQ(s.committed_inputs, 500u);
  // The aborted batch was polled twice.
  EXPECT_GT(s.consumed, 500u);
  auto seen = count_values(
      read_all(cluster.bootstrap(), "eos-out", 3, "read_committed"));
  EXPECT_EQ(seen, expected_outputs(500));
}

TEST_F(stage_fixture, a_fenced_stage_stops_and_its_successor_carries_on) {
  // On real Kafka a successor's init_transactions bumps the producer epoch
  // and the coordinator answers the predecessor's next EndTxn with
  // PRODUCER_FENCED. The mock never fences (see
  // mock_cluster_transaction_limits), so the test makes it give that answer.
  produce_inputs(cluster.bootstrap(), "eos-in", 500);
  log_capture logs;
  auto c = config();
  rd_kafka_mock_push_request_errors(cluster.mock(), end_txn_api_key, 1,
                                    RD_KAFKA_RESP_ERR_PRODUCER_FENCED);
  {
    kafka::transactional_stage zombie{c, transform};
    zombie.start();
    ASSERT_TRUE(dt::wait_until(
        [&] {
          return zombie.state() ==
                 kafka::transactional_stage::run_state::failed;
        },
        run_deadline))
        << kafka::to_string(zombie.state());
    EXPECT_NE(zombie.error().find("fenced"), std::string::npos)
        << zombie.error();
    EXPECT_NE(zombie.error().find("commit_transaction"), std::string::npos)
        << zombie.error();
    EXPECT_EQ(zombie.stats().committed_inputs, 0u);
    EXPECT_EQ(logs.count("event=eos_stage_failed stage=eos-stage-1"), 1u);
    zombie.stop(); // a failed stage stops cleanly too
  }
  // Same transactional.id and group: every input is committed once, by the
  // successor.
  kafka::transactional_stage successor{c, transform};
  successor.start();
  ASSERT_TRUE(dt::wait_until(
      [&] { return successor.stats().committed_inputs >= 500; }, run_deadline))
      << successor.stats().committed_inputs << ": " << successor.error();
  successor.stop();
  EXPECT_EQ(successor.stats().committed_inputs, 500u);
  EXPECT_EQ(successor.state(), kafka::transactional_stage::run_state::stopped);
  // The fenced transaction's outputs reached the mock before its EndTxn and
  // stay visible there (no abort markers); every output is present.
  auto seen = count_values(
      read_all(cluster.bootstrap(), "eos-out", 3, "read_committed"));
  for (auto& [value, n] : expected_outputs(500))
    EXPECT_GE(seen[value], 1) << value;
}

TEST_F(stage_fixture, a_failing_transform_stops_the_stage_naming_the_record) {
  produce_inputs(cluster.bootstrap(), "eos-in", 50);
  auto c = config();
  kafka::transactional_stage stage{c, [](const kafka::consumed_view& in) {
                                     if (in.value == "in-7")
                                       throw std::runtime_error("poison");
                                     return transform(in);
                                   }};
  stage.start();
  ASSERT_TRUE(dt::wait_until(
      [&] {
        return stage.state() == kafka::transactional_stage::run_state::failed;
      },
      run_deadline));
  EXPECT_NE(stage.error().find("transform failed at eos-in["),
            std::string::npos)
      << stage.error();
  EXPECT_NE(stage.error().find("poison"), std::string::npos) << stage.error();
  stage.stop();
  // Nothing of the poisoned batch was committed.
  auto committed =
      read_all(cluster.bootstrap(), "eos-out", 3, "read_committed");
  for (auto& r : committed)
    EXPECT_NE(r.value, "out-7");
}

// -- the mock's limits, written down ------------------------------------------

TEST_F(stage_fixture, mock_cluster_transaction_limits) {
  // librdkafka 2.0.2's mock accepts the transactional protocol but ignores
  // what it means. If a check here starts failing, the mock learned it: the
  // crash test may then crash after the outputs were flushed, and
  // mirror_offset_commit may no longer be needed.
  auto producer = [&] {
    return kafka::make_client(
        RD_KAFKA_PRODUCER,
        kafka::make_conf({{"bootstrap.servers", cluster.bootstrap()},
                          {"transactional.id", "mock-probe"}}));
  };
  auto ok = [](rd_kafka_error_t* e) {
    std::string text = e ? rd_kafka_error_string(e) : "";
    if (e)
      rd_kafka_error_destroy(e);
    return text;
  };
  auto rk = producer();
  ASSERT_EQ(ok(rd_kafka_init_transactions(rk.get(), 30000)), "");
  // 1. Aborted records are visible to read_committed consumers.
  ASSERT_EQ(ok(rd_kafka_begin_transaction(rk.get())), "");
  std::string value = "aborted";
  ASSERT_EQ(rd_kafka_producev(rk.get(), RD_KAFKA_V_TOPIC("eos-out"),
                              RD_KAFKA_V_VALUE(value.data(), value.size()),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                              RD_KAFKA_V_END),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  ASSERT_EQ(rd_kafka_flush(rk.get(), 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
  ASSERT_EQ(ok(rd_kafka_abort_transaction(rk.get(), 30000)), "");
  EXPECT_EQ(
      read_all(cluster.bootstrap(), "eos-out", 3, "read_committed").size(), 1u);
  // 2. Offsets sent to a committed transaction are not stored.
  auto consumer = kafka::make_client(
      RD_KAFKA_CONSUMER,
      kafka::make_conf({{"bootstrap.servers", cluster.bootstrap()},
                        {"group.id", "mock-probe-group"}}));
  group_metadata_holder group{rd_kafka_consumer_group_metadata(consumer.get())};
  kafka::topic_partition_list_ptr offsets{rd_kafka_topic_partition_list_new(1)};
  rd_kafka_topic_partition_list_add(offsets.get(), "eos-in", 0)->offset = 42;
  ASSERT_EQ(ok(rd_kafka_begin_transaction(rk.get())), "");
  ASSERT_EQ(ok(rd_kafka_send_offsets_to_transaction(rk.get(), offsets.get(),
                                                    group.get(), 30000)),
            "");
  ASSERT_EQ(ok(rd_kafka_commit_transaction(rk.get(), 30000)), "");
  kafka::topic_partition_list_ptr committed{
      rd_kafka_topic_partition_list_new(1)};
  rd_kafka_topic_partition_list_add(committed.get(), "eos-in", 0);
  ASSERT_EQ(rd_kafka_committed(consumer.get(), committed.get(), 10000),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  EXPECT_EQ(committed->elems[0].offset, RD_KAFKA_OFFSET_INVALID);
  // 3. A second producer with the same transactional.id does not fence the
  //    first: it gets a new producer id, and the first still commits.
  auto successor = producer();
  ASSERT_EQ(ok(rd_kafka_init_transactions(successor.get(), 30000)), "");
  ASSERT_EQ(ok(rd_kafka_begin_transaction(rk.get())), "");
  EXPECT_EQ(ok(rd_kafka_commit_transaction(rk.get(), 30000)), "");
  rd_kafka_consumer_close(consumer.get());
}
