// Option parsing and validation of `distiller produce|consume`, key
// patterns, generated values, percentiles and the consumer's value summary.

#include "bridges/kafka_tools/options.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <regex>
#include <set>
#include <string>

#include "bridges/kafka_tools/consumer.hpp"
#include "bridges/kafka_tools/key_pattern.hpp"
#include "bridges/kafka_tools/producer.hpp"

using namespace distiller::kafka::tools;

namespace {

/// Expects `f` to throw option_error for `option` with `fragment` in its
/// text, which starts with the option's name.
template <class F>
void expect_option_error(F f, const std::string& option,
                         const std::string& fragment) {
  try {
    f();
    ADD_FAILURE() << "no error for " << option;
  } catch (const option_error& e) {
    EXPECT_EQ(e.option(), option);
    std::string text = e.what();
    EXPECT_EQ(text.rfind(option + ": ", 0), 0u) << text;
    EXPECT_NE(text.find(fragment), std::string::npos) << text;
  }
}

} // namespace

// -- choices
// -------------------------------------------------------------------

TEST(kafka_tools_options, acks) {
  EXPECT_EQ(parse_acks("0"), acks::none);
  EXPECT_EQ(parse_acks("1"), acks::leader);
  EXPECT_EQ(parse_acks("all"), acks::all);
  EXPECT_EQ(parse_acks("-1"), acks::all);
  EXPECT_EQ(to_rdkafka(acks::all), "all");
  expect_option_error([] { parse_acks("2"); }, "--acks",
                      "expected 0, 1 or all, got \"2\"");
  expect_option_error([] { parse_acks(""); }, "--acks", "got \"\"");
}

TEST(kafka_tools_options, compression) {
  for (auto name : {"none", "gzip", "snappy", "lz4", "zstd"})
    EXPECT_EQ(to_string(parse_compression(name)), name);
  expect_option_error([] { parse_compression("brotli"); }, "--compression",
                      "none, gzip, snappy, lz4 or zstd");
}

TEST(kafka_tools_options, partitioner_commit_and_assignment) {
  EXPECT_EQ(parse_partitioner("murmur2"), partitioner::murmur2_random);
  EXPECT_EQ(cli_name(partitioner::murmur2_random), "murmur2");
  EXPECT_EQ(cli_name(partitioner::round_robin), "round-robin");
  EXPECT_EQ(parse_partitioner("round-robin"), partitioner::round_robin);
  EXPECT_EQ(parse_partitioner("sticky"), partitioner::sticky);
  EXPECT_EQ(parse_partitioner("random"), partitioner::random);
  expect_option_error([] { parse_partitioner("hash"); }, "--partitioner",
                      "round-robin");
  EXPECT_EQ(parse_commit_mode("auto"), commit_mode::automatic);
  EXPECT_EQ(parse_commit_mode("manual"), commit_mode::manual);
  EXPECT_EQ(parse_commit_mode("none"), commit_mode::none);
  expect_option_error([] { parse_commit_mode("sync"); }, "--commit", "manual");
  EXPECT_EQ(to_string(parse_assignment("cooperative-sticky")),
            "cooperative-sticky");
  EXPECT_EQ(to_string(assignment::roundrobin), "roundrobin");
  expect_option_error([] { parse_assignment("sticky"); }, "--assignment",
                      "range, roundrobin or cooperative-sticky");
}

TEST(kafka_tools_options, idempotence_follows_acks_unless_set) {
  produce_options o;
  o.topic = "t";
  EXPECT_TRUE(o.idempotence());
  o.required_acks = acks::leader;
  EXPECT_FALSE(o.idempotence());
  EXPECT_NO_THROW(validate(o));
  o.idempotent = true;
  expect_option_error([&] { validate(o); }, "--idempotent",
                      "requires --acks all");
  o.required_acks = acks::all;
  o.idempotent = false;
  EXPECT_FALSE(o.idempotence());
  EXPECT_NO_THROW(validate(o));
}

TEST(kafka_tools_options, produce_and_consume_validation) {
  produce_options p;
  expect_option_error([&] { validate(p); }, "--topic", "required");
  p.topic = "t";
  p.count = 0;
  expect_option_error([&] { validate(p); }, "--count", "at least 1");
  p.count = 1;
  p.rate = -1;
  expect_option_error([&] { validate(p); }, "--rate", "negative");
  consume_options c;
  c.topics.clear();
  expect_option_error([&] { validate(c); }, "--topic", "required");
  c.topics = {"t"};
  c.group.clear();
  expect_option_error([&] { validate(c); }, "--group", "empty");
  c.group = "g";
  c.max = -1;
  expect_option_error([&] { validate(c); }, "--max", "negative");
}

TEST(kafka_tools_options, producer_properties_map_the_choices) {
  session s;
  s.target.bootstrap = "b:9092";
  s.client_id = "distiller-tools";
  produce_options o;
  o.topic = "t";
  o.codec = compression::lz4;
  o.required_acks = acks::leader;
  auto props = producer_properties(s, o);
  EXPECT_EQ(props.at("bootstrap.servers"), "b:9092");
  EXPECT_EQ(props.at("acks"), "1");
  EXPECT_EQ(props.at("enable.idempotence"), "false");
  EXPECT_EQ(props.at("compression.codec"), "lz4");
  EXPECT_EQ(props.at("partitioner"), "murmur2_random");
  o.partitioning = partitioner::random;
  EXPECT_EQ(producer_properties(s, o).at("partitioner"), "random");
  o.properties["linger.ms"] = "50";
  EXPECT_EQ(producer_properties(s, o).at("linger.ms"), "50");
}

TEST(kafka_tools_options, consumer_properties_map_the_choices) {
  session s;
  s.target.bootstrap = "b:9092";
  s.client_id = "distiller-tools";
  consume_options o;
  o.topics = {"t"};
  o.group = "g";
  o.id = "worker-2";
  o.commit = commit_mode::manual;
  o.strategy = assignment::cooperative_sticky;
  auto props = consumer_properties(s, o);
  EXPECT_EQ(props.at("group.id"), "g");
  EXPECT_EQ(props.at("client.id"), "worker-2");
  EXPECT_EQ(props.at("enable.auto.commit"), "false");
  EXPECT_EQ(props.at("enable.auto.offset.store"), "false");
  EXPECT_EQ(props.at("auto.offset.reset"), "latest");
  EXPECT_EQ(props.at("partition.assignment.strategy"), "cooperative-sticky");
  EXPECT_EQ(props.at("session.timeout.ms"), "10000");
  o.commit = commit_mode::automatic;
  o.from_beginning = true;
  props = consumer_properties(s, o);
  EXPECT_EQ(props.at("enable.auto.commit"), "true");
  EXPECT_EQ(props.at("auto.offset.reset"), "earliest");
}

// -- key patterns
// ----------------------------------------------------------------

TEST(kafka_tools_key_pattern, placeholders_expand) {
  EXPECT_EQ(key_pattern{"job-{i}"}.expand(3, 5), "job-3");
  EXPECT_EQ(key_pattern{"job-{i0}-of-{n}"}.expand(3, 5), "job-2-of-5");
  EXPECT_EQ(key_pattern{"plain"}.expand(1, 1), "plain");
  EXPECT_EQ(key_pattern{"{{i}}"}.expand(7, 9), "{i}");
  EXPECT_TRUE(key_pattern{""}.empty());
  EXPECT_EQ(key_pattern{"user-{i}"}.text(), "user-{i}");
}

TEST(kafka_tools_key_pattern, random_placeholders_differ) {
  key_pattern uuid{"{uuid}"};
  std::regex form{"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
                  "[0-9a-f]{12}"};
  std::set<std::string> seen;
  for (int i = 1; i <= 100; ++i) {
    auto k = uuid.expand(i, 100);
    EXPECT_TRUE(std::regex_match(k, form)) << k;
    seen.insert(k);
  }
  EXPECT_EQ(seen.size(), 100u);
  auto r = key_pattern{"k-{rand}"}.expand(1, 1);
  EXPECT_TRUE(std::regex_match(r, std::regex{"k-[0-9a-f]{8}"})) << r;
  auto ts = key_pattern{"{ts}"}.expand(1, 1);
  EXPECT_GT(std::stoll(ts), 1'600'000'000'000LL);
}

TEST(kafka_tools_key_pattern, bad_patterns_name_the_option) {
  expect_option_error([] { key_pattern{"job-{id}"}; }, "--key-pattern",
                      "unknown placeholder {id}");
  expect_option_error([] { key_pattern{"job-{i"}; }, "--key-pattern",
                      "unclosed");
  expect_option_error([] { key_pattern{"job-i}"}; }, "--key-pattern",
                      "unbalanced");
}

// -- values, percentiles, summaries
// ---------------------------------------------

TEST(kafka_tools_values, values_are_seed_documents_of_the_asked_size) {
  for (size_t size : {0u, 64u, 200u, 256u, 1024u, 4096u}) {
    auto v = make_value(7, "job-7", size);
    auto doc = boost::json::parse(v).as_object();
    EXPECT_EQ(doc.at("job_id").as_string(), "job-7");
    EXPECT_EQ(doc.at("filename").as_string(), "test_document_7.pdf");
    EXPECT_EQ(doc.at("file_size").as_int64(), 7 * 1024);
    EXPECT_EQ(doc.at("sequence").as_int64(), 7);
    EXPECT_EQ(doc.at("status").as_string(), "pending");
    auto unpadded = make_value(7, "job-7", 0).size();
    if (size > unpadded + 13)
      EXPECT_EQ(v.size(), size);
    else
      EXPECT_EQ(v.size(), unpadded);
  }
}

TEST(kafka_tools_values, percentiles_by_nearest_rank) {
  EXPECT_EQ(percentile({}, 50), 0);
  EXPECT_EQ(percentile({5}, 99), 5);
  std::vector<double> xs;
  for (int i = 100; i >= 1; --i)
    xs.push_back(i);
  EXPECT_EQ(percentile(xs, 50), 50);
  EXPECT_EQ(percentile(xs, 99), 99);
  EXPECT_EQ(percentile(xs, 100), 100);
  EXPECT_EQ(percentile(xs, 0), 1);
}

TEST(kafka_tools_values, consumer_summarizes_seed_documents) {
  auto lines = summarize_value(make_value(1, "abc-123", 0));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], "Job ID: abc-123");
  EXPECT_EQ(lines[1], "Filename: test_document_1.pdf");
  EXPECT_EQ(lines[2], "File size: 1024 bytes");
  auto other = summarize_value("hello\nworld");
  ASSERT_EQ(other.size(), 1u);
  EXPECT_EQ(other[0], "Value: hello.world (11 bytes)");
  auto json = summarize_value(R"({"a":1})");
  EXPECT_EQ(json[0], R"(Value: {"a":1} (7 bytes))");
}

TEST(kafka_tools_values, consume_throughput_leaves_out_idle_time) {
  // Issue 15: 0.74 msg/s after a wait, counting the idle time before the
  // first record and after the last one.
  consume_summary s;
  s.processed = 5;
  s.seconds = 6.66;       // the whole run, waits included
  s.active_seconds = 0.5; // first record to last
  EXPECT_DOUBLE_EQ(s.messages_per_second(), 10.0);
  // One record has no window of its own: the whole run it is.
  s.processed = 1;
  s.active_seconds = 0;
  EXPECT_DOUBLE_EQ(s.messages_per_second(), 1 / 6.66);
  consume_summary none;
  EXPECT_EQ(none.messages_per_second(), 0);
}
