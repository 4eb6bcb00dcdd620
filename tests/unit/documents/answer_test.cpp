#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "actors/documents/search/hybrid.hpp"
#include "tests/support/testing.hpp"

namespace dt = distiller::testing;
using distiller::documents::source_hit;
using namespace distiller::documents::search;

namespace {

source_hit hit(std::string filename, std::string text,
               std::string chunk_id = "c-1") {
  source_hit h;
  h.chunk_id = std::move(chunk_id);
  h.job_id = "j-1";
  h.filename = std::move(filename);
  h.text = std::move(text);
  return h;
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

// -- sentences
// -----------------------------------------------------------------

TEST(sentences, split_on_end_marks_and_blank_lines) {
  auto s = split_sentences("First one. Second one!  Third?\nStill third.\n\n"
                           "A heading\n\nLast words");
  std::vector<std::string> want{"First one.",   "Second one!", "Third?",
                                "Still third.", "A heading",   "Last words"};
  EXPECT_EQ(s, want);
}

TEST(sentences, numbers_abbreviations_and_quotes_stay_whole) {
  auto s = split_sentences(
      "Version 3.5 was fast, e.g. twice as fast. \"Really?\" she asked. Yes.");
  std::vector<std::string> want{"Version 3.5 was fast, e.g. twice as fast.",
                                "\"Really?\" she asked.", "Yes."};
  EXPECT_EQ(s, want);
}

TEST(sentences, white_space_is_collapsed_and_empty_text_has_none) {
  EXPECT_TRUE(split_sentences("").empty());
  EXPECT_TRUE(split_sentences(" \n\n \t ").empty());
  auto s = split_sentences("  Lots   of\tspace\n here.  ");
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0], "Lots of space here.");
}

// -- answers
// -------------------------------------------------------------------

TEST(answer, no_hits_says_so) {
  EXPECT_EQ(extract_answer("anything?", {}), "No relevant documents found.");
  EXPECT_EQ(extract_answer("anything?", {hit("a.txt", "  \n ")}),
            "No relevant documents found.");
}

TEST(answer, picks_the_sentences_that_share_the_question_words) {
  std::vector<source_hit> hits{
      hit("bees.txt",
          "Bees live in colonies. A colony has one queen. The queen lays up to "
          "two thousand eggs a day in summer. Workers forage for nectar.")};
  auto a =
      extract_answer("How many eggs does the queen lay each day?", hits, 1);
  EXPECT_EQ(a, "The queen lays up to two thousand eggs a day in summer. "
               "[source: bees.txt]");
}

TEST(answer, rare_question_words_outweigh_common_ones) {
  std::vector<source_hit> hits{
      hit("lava.txt", "Lava is molten rock. Lava cools into basalt. Lava flows "
                      "slowly. Pahoehoe lava has a smooth, ropy surface.")};
  auto a = extract_answer("What surface does pahoehoe lava have?", hits, 1);
  EXPECT_TRUE(has(a, "Pahoehoe lava has a smooth, ropy surface.")) << a;
}

TEST(answer, best_sentences_in_reading_order_with_their_sources) {
  std::vector<source_hit> hits{
      hit("tides.txt",
          "Tides rise twice a day. The moon pulls the oceans. Spring tides "
          "follow the full and new moon."),
      hit("", "Neap tides happen at the quarter moon. Sailors watch them.",
          "chunk-77")};
  auto a =
      extract_answer("When do spring tides and neap tides happen?", hits, 2);
  EXPECT_EQ(a, "Spring tides follow the full and new moon. [source: tides.txt] "
               "Neap tides happen at the quarter moon. [source: chunk-77]");
}

TEST(answer, limits_the_sentence_count_and_groups_a_source_once) {
  std::vector<source_hit> hits{
      hit("kafka.txt", "Kafka keeps partitions. Each partition is a log. The "
                       "log is ordered by offset. Partitions spread load.")};
  auto a = extract_answer("partition log offset", hits, 2);
  EXPECT_EQ(a, "Each partition is a log. The log is ordered by offset. "
               "[source: kafka.txt]");
  auto three = extract_answer("partition log offset", hits, 3);
  EXPECT_EQ(std::count(three.begin(), three.end(), '['), 1) << three;
}

TEST(answer, repeated_sentences_from_overlapping_chunks_appear_once) {
  std::vector<source_hit> hits{
      hit("chess.txt", "The Sicilian Defence answers e4 with c5. It is sharp.",
          "c1"),
      hit("chess.txt", "It is sharp. The Sicilian Defence answers e4 with c5.",
          "c2")};
  auto a = extract_answer("Sicilian Defence c5", hits, 3);
  EXPECT_EQ(a, "The Sicilian Defence answers e4 with c5. [source: chess.txt]");
}

TEST(answer, without_overlap_the_best_hits_first_sentence_is_shown) {
  std::vector<source_hit> hits{
      hit("bread.txt", "Sourdough rises slowly. It needs a starter."),
      hit("other.txt", "Something else entirely.")};
  auto a = extract_answer("zebra migration", hits);
  EXPECT_EQ(a, "Sourdough rises slowly. [source: bread.txt]");
}

TEST(answer, later_hits_are_discounted) {
  std::vector<source_hit> hits{
      hit("first.txt", "Glaciers carve valleys."),
      hit("second.txt", "Glaciers carve valleys slowly.")};
  auto a = extract_answer("glaciers carve valleys", hits, 1);
  EXPECT_EQ(a, "Glaciers carve valleys. [source: first.txt]");
  EXPECT_THROW(extract_answer("x", hits, 0), std::invalid_argument);
}
