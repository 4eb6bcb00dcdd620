// Unit tests of `distiller eval retrieval`'s pure parts: the questions file,
// the rank of the answering file among an answer's sources, the summary.

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "actors/documents/search/evaluation.hpp"

using namespace distiller::documents::search;

TEST(evaluation, questions_file_lines_and_errors) {
  auto qs = parse_questions(
      "# my questions\n"
      "{\"question\": \"How do starfish eat?\", \"source\": \"tide.pdf\"}\n"
      "\n"
      "  {\"question\": \"Why sour?\", \"file\": \"bread.txt\"}\r\n");
  ASSERT_EQ(qs.size(), 2u);
  EXPECT_EQ(qs[0].question, "How do starfish eat?");
  EXPECT_EQ(qs[0].source, "tide.pdf");
  EXPECT_EQ(qs[0].line, 2u);
  EXPECT_EQ(qs[1].source, "bread.txt");
  EXPECT_EQ(qs[1].line, 4u);
  auto message = [](const char* text) {
    try {
      parse_questions(text);
    } catch (const std::invalid_argument& e) {
      return std::string{e.what()};
    }
    return std::string{};
  };
  EXPECT_EQ(message("{\"question\": \"q\", \"source\": \"a\"}\n[1]"),
            "line 2: not a JSON object");
  EXPECT_EQ(message("{\"source\": \"a\"}"), "line 1: no \"question\" string");
  EXPECT_NE(message("{\"question\": \"q\", \"source\": 3}")
                .find("line 1: no "
                      "\"source\""),
            std::string::npos);
  EXPECT_TRUE(parse_questions("").empty());
}

TEST(evaluation, rank_counts_each_file_once) {
  EXPECT_EQ(rank_of_source({"a", "a", "b", "c"}, "b"), 2);
  EXPECT_EQ(rank_of_source({"a", "b"}, "a"), 1);
  EXPECT_EQ(rank_of_source({"a", "b"}, "z"), 0);
  EXPECT_EQ(rank_of_source({}, "a"), 0);
}

TEST(evaluation, summary_of_ranks) {
  auto s = summarize({1, 2, 4, 0}, 1);
  EXPECT_EQ(s.questions, 4u);
  EXPECT_EQ(s.failed, 1u);
  EXPECT_DOUBLE_EQ(s.recall_at_1, 0.25);
  EXPECT_DOUBLE_EQ(s.recall_at_3, 0.5);
  EXPECT_DOUBLE_EQ(s.recall_at_5, 0.75);
  EXPECT_DOUBLE_EQ(s.mrr, (1 + 0.5 + 0.25) / 4);
  EXPECT_EQ(summarize({}, 0).questions, 0u);
}
