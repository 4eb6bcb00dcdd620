// Unit tests of the index snapshots' rules (actors/documents/
// index_snapshots.hpp): the metadata that says what a snapshot was built
// from, the identity check that refuses another database, kind, model or
// dimension, the embedded_at high-water mark, and the policy that decides
// when the next snapshot is due (on its own clock).

#include "actors/documents/index_snapshots.hpp"

#include <gtest/gtest.h>

using namespace distiller::documents;
using namespace std::chrono_literals;

namespace {

snapshot_meta sample() {
  snapshot_meta m;
  m.identity = {"6f1c0b6e-1a86-4c1e-9b1e-3c1d2f7a9e10", "hashing-384-v1", 384,
                "hnsw-m32"};
  m.mark = 1'764'000'000'123'456;
  m.entries = 100'000;
  return m;
}

} // namespace

TEST(index_snapshots, metadata_round_trips) {
  auto m = sample();
  auto text = encode_meta(m);
  EXPECT_TRUE(text.starts_with("format=1\n")) << text;
  auto back = decode_meta(text);
  ASSERT_TRUE(back.has_value()) << text;
  EXPECT_EQ(back->identity.database, m.identity.database);
  EXPECT_EQ(back->identity.model, m.identity.model);
  EXPECT_EQ(back->identity.dimension, 384u);
  EXPECT_EQ(back->identity.kind, "hnsw-m32");
  EXPECT_EQ(back->mark, m.mark);
  EXPECT_EQ(back->entries, 100'000u);
  // The sparse index has no model: an empty value is kept.
  m.identity.model.clear();
  m.identity.dimension = 0;
  back = decode_meta(encode_meta(m));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->identity.model, "");
  // A mark before the epoch (a clock far off) stays a number.
  m.mark = -5;
  EXPECT_EQ(decode_meta(encode_meta(m))->mark, -5);
}

TEST(index_snapshots, anything_else_is_no_metadata) {
  auto good = encode_meta(sample());
  EXPECT_FALSE(decode_meta(""));
  EXPECT_FALSE(decode_meta("format=2\n"));
  EXPECT_FALSE(decode_meta("garbage"));
  EXPECT_FALSE(decode_meta(good.substr(0, good.size() - 1))); // no last '\n'
  for (auto key : {"database=", "mark=", "entries=", "kind=", "dimension="}) {
    auto at = good.find(std::string{"\n"} + key);
    ASSERT_NE(at, std::string::npos) << key;
    auto end = good.find('\n', at + 1);
    auto without = good.substr(0, at) + good.substr(end);
    EXPECT_FALSE(decode_meta(without)) << "without " << key;
  }
  auto bad_mark = good;
  bad_mark.replace(bad_mark.find("mark=") + 5, 3, "x12");
  EXPECT_FALSE(decode_meta(bad_mark));
  EXPECT_FALSE(decode_meta(good + "mark=1\n")) << "a repeated key";
  auto no_db = sample();
  no_db.identity.database.clear();
  EXPECT_FALSE(decode_meta(encode_meta(no_db)));
}

TEST(index_snapshots, mismatch_names_what_differs) {
  auto want = sample().identity;
  EXPECT_EQ(mismatch(want, want), "");
  auto other = want;
  other.database = "another";
  EXPECT_NE(mismatch(other, want).find("database is another"),
            std::string::npos)
      << mismatch(other, want);
  other = want;
  other.kind = "flat";
  EXPECT_NE(mismatch(other, want).find("kind is flat, the node has hnsw-m32"),
            std::string::npos);
  other = want;
  other.model = "text-embedding-3-small";
  EXPECT_NE(mismatch(other, want).find("model"), std::string::npos);
  other = want;
  other.dimension = 256;
  EXPECT_NE(mismatch(other, want).find("dimension is 256, the node has 384"),
            std::string::npos);
}

TEST(index_snapshots, the_mark_stays_behind_open_transactions) {
  const pg_micros read_at = 1'000'000'000;
  // Nothing open: the read's time, less the margin.
  EXPECT_EQ(mark_after_read(read_at, std::nullopt, 30s), read_at - 30'000'000);
  EXPECT_EQ(mark_after_read(read_at, std::nullopt, 0us), read_at);
  // A transaction open since 5 s before the read may still commit rows
  // stamped then: the mark goes back to its start, less the margin.
  EXPECT_EQ(mark_after_read(read_at, read_at - 5'000'000, 1s),
            read_at - 6'000'000);
  // One that began after the read (its rows are stamped later) changes
  // nothing.
  EXPECT_EQ(mark_after_read(read_at, read_at + 10, 1s), read_at - 1'000'000);
}

TEST(index_snapshots, policy_is_due_by_count_or_by_time_with_something_new) {
  using clock = snapshot_policy::clock;
  auto t0 = clock::time_point{} + 1000h;
  snapshot_policy p{60s, 100, t0, 500};
  // Nothing added: never due, however long.
  EXPECT_FALSE(p.due(t0, 500));
  EXPECT_FALSE(p.due(t0 + 24h, 500));
  EXPECT_EQ(p.pending(500), 0u);
  // Fewer than `every` added: due only once the interval has passed.
  EXPECT_FALSE(p.due(t0 + 59s, 510));
  EXPECT_TRUE(p.due(t0 + 60s, 510));
  EXPECT_EQ(p.pending(510), 10u);
  // `every` added: due at once.
  EXPECT_TRUE(p.due(t0 + 1s, 600));
  // After a save both count from there.
  p.saved(t0 + 61s, 600);
  EXPECT_FALSE(p.due(t0 + 62s, 600));
  EXPECT_FALSE(p.due(t0 + 62s, 699));
  EXPECT_TRUE(p.due(t0 + 62s, 700));
  EXPECT_TRUE(p.due(t0 + 121s, 601));
  EXPECT_FALSE(p.due(t0 + 120s, 601));
  // An index rebuilt from scratch starts at 0 entries saved: due at once.
  snapshot_policy fresh{1h, 1000, t0, 0};
  EXPECT_TRUE(fresh.due(t0, 5000));
  // every = 0 is read as 1.
  snapshot_policy eager{1h, 0, t0, 7};
  EXPECT_TRUE(eager.due(t0, 8));
}
