// The thought pipeline's records (actors/thoughts/records.hpp): the
// ThoughtCreated record, the events of thought-updates and the SSE streams,
// the thought's API JSON, the list cursor and RFC 3339 times.

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "actors/thoughts/records.hpp"

namespace {

namespace th = distiller::thoughts;
namespace json = boost::json;

const char* uid = "0eebc99a-9c0b-4ef8-bb6d-6bb9bd380a11";
const char* tid = "b32aecea-8dcb-41d7-8cd7-dc8fe2c3d172";

TEST(ThoughtRecords, ThoughtCreatedRoundTrips) {
  th::thought_created x{tid, uid, "2026-12-01T09:30:00.123Z", "abc"};
  auto text = th::encode(x);
  auto o = json::parse(text).as_object();
  EXPECT_EQ(o.at("type").as_string(), "ThoughtCreated");
  auto y = th::decode_thought_created(text);
  EXPECT_EQ(y.thought_id, x.thought_id);
  EXPECT_EQ(y.user_id, x.user_id);
  EXPECT_EQ(y.created_at, x.created_at);
  EXPECT_EQ(y.trace_id, x.trace_id);
}

TEST(ThoughtRecords, MalformedThoughtCreatedNamesTheField) {
  auto fails_with = [](const std::string& text, const std::string& part) {
    try {
      th::decode_thought_created(text);
      ADD_FAILURE() << "accepted " << text;
    } catch (const th::record_error& e) {
      EXPECT_NE(std::string{e.what()}.find(part), std::string::npos)
          << e.what();
      EXPECT_NE(std::string{e.what()}.find("thought-processing"),
                std::string::npos);
    }
  };
  fails_with("{", "not JSON");
  fails_with("[1]", "not a JSON object");
  fails_with(R"({"user_id":"0eebc99a-9c0b-4ef8-bb6d-6bb9bd380a11"})",
             "thought_id");
  fails_with(
      R"({"thought_id":"x","user_id":"0eebc99a-9c0b-4ef8-bb6d-6bb9bd380a11"})",
      "not a UUID");
  fails_with(
      R"({"thought_id":"b32aecea-8dcb-41d7-8cd7-dc8fe2c3d172","user_id":7})",
      "user_id");
}

TEST(ThoughtRecords, EventsRoundTripWithTheirBody) {
  th::thought_event e;
  e.user_id = uid;
  e.seq = 42;
  e.thought_id = tid;
  e.type = th::event_types::agent_completed;
  e.trace_id = "t1";
  e.time = "2026-12-01T09:30:00.123Z";
  e.body = json::object{{"agent", "plan"},
                        {"step", 4},
                        {"result", json::object{{"actions", json::array{}}}}};
  auto text = th::encode(e);
  auto o = json::parse(text).as_object();
  EXPECT_EQ(o.at("seq").as_int64(), 42);
  EXPECT_EQ(o.at("type").as_string(), "thought_agent_completed");
  EXPECT_EQ(o.at("step").as_int64(), 4);
  auto back = th::decode_thought_event(text);
  EXPECT_EQ(back.seq, 42u);
  EXPECT_EQ(back.user_id, uid);
  EXPECT_EQ(back.thought_id, tid);
  EXPECT_EQ(back.type, e.type);
  EXPECT_EQ(back.trace_id, "t1");
  EXPECT_EQ(back.time, e.time);
  EXPECT_EQ(back.time_us, 1796117400123000);
  EXPECT_EQ(back.body.at("agent").as_string(), "plan");
  EXPECT_FALSE(back.body.contains("seq"))
      << "common fields stay out of the body";
  // The body cannot overwrite the common fields.
  e.body["seq"] = 1;
  e.body["type"] = "forged";
  auto o2 = json::parse(th::encode(e)).as_object();
  EXPECT_EQ(o2.at("seq").as_int64(), 42);
  EXPECT_EQ(o2.at("type").as_string(), "thought_agent_completed");
}

TEST(ThoughtRecords, EventsWithoutAPositiveSeqAreRefused) {
  for (auto text : {R"({"type":"x","thought_id":"a","user_id":"b"})",
                    R"({"type":"x","seq":0,"thought_id":"a","user_id":"b"})",
                    R"({"type":"x","seq":-3,"thought_id":"a","user_id":"b"})",
                    R"({"type":"x","seq":"7","thought_id":"a","user_id":"b"})"})
    EXPECT_THROW(th::decode_thought_event(text), th::record_error) << text;
}

TEST(ThoughtRecords, ThoughtJsonHasEveryFieldAndNullsUntilSet) {
  th::thought_row t;
  t.thought_id = tid;
  t.user_id = uid;
  t.text = "hi";
  t.status = th::thought_status::processing;
  t.agents_completed = 1;
  t.attempts = 1;
  t.created_at = t.updated_at = "2026-12-01T09:30:00.123Z";
  t.results[0] = R"({"category":"idea"})";
  auto o = th::thought_json(t);
  for (auto key :
       {"thought_id", "user_id", "text", "status", "agents_completed",
        "attempts", "error", "created_at", "updated_at", "completed_at",
        "classification", "analysis", "value", "plan", "summary"})
    EXPECT_TRUE(o.contains(key)) << key;
  EXPECT_EQ(o.size(), 15u);
  EXPECT_EQ(o.at("classification").at("category").as_string(), "idea");
  EXPECT_TRUE(o.at("analysis").is_null());
  EXPECT_TRUE(o.at("error").is_null());
  EXPECT_TRUE(o.at("completed_at").is_null());
}

TEST(ThoughtRecords, CursorsRoundTripAndStrangersAreRefused) {
  th::list_cursor c{1796117400123456, tid};
  auto text = th::encode_cursor(c);
  auto back = th::decode_cursor(text);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->created_us, c.created_us);
  EXPECT_EQ(back->thought_id, c.thought_id);
  for (auto bad : {"", "abc", "1.2", "-5.b32aecea8dcb41d78cd7dc8fe2c3d172",
                   "12.b32aecea8dcb41d78cd7dc8fe2c3d17z",
                   "x1.b32aecea8dcb41d78cd7dc8fe2c3d172",
                   "1.b32aecea8dcb41d78cd7dc8fe2c3d1721"})
    EXPECT_FALSE(th::decode_cursor(bad)) << bad;
}

TEST(ThoughtRecords, Rfc3339Times) {
  EXPECT_EQ(th::parse_time_us("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(th::parse_time_us("1970-01-01T00:00:01.5Z"), 1500000);
  EXPECT_EQ(th::parse_time_us("2026-12-01T09:30:00.123456Z"), 1796117400123456);
  EXPECT_EQ(th::parse_time_us("2026-12-01T09:30:00.123456789Z"),
            1796117400123456);
  EXPECT_EQ(th::parse_time_us("2026-12-01T09:30:00+01:00"), 0);
  EXPECT_EQ(th::parse_time_us("yesterday"), 0);
  EXPECT_EQ(th::parse_time_us("2026-12-01T09:30:00.1Zjunk"), 0);
}

TEST(ThoughtRecords, FinalStates) {
  EXPECT_TRUE(th::is_final(th::thought_status::completed));
  EXPECT_TRUE(th::is_final(th::thought_status::failed));
  EXPECT_FALSE(th::is_final(th::thought_status::processing));
  EXPECT_FALSE(th::is_final(th::thought_status::pending));
  for (auto s : {th::thought_status::pending, th::thought_status::processing,
                 th::thought_status::completed, th::thought_status::failed})
    EXPECT_EQ(th::parse_thought_status(th::to_string(s)), s);
  EXPECT_EQ(th::parse_thought_status("done"), std::nullopt);
  EXPECT_EQ(th::user_channel(uid), std::string{"user:"} + uid);
}

} // namespace
