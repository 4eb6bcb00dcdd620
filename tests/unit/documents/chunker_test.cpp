#include "actors/documents/text/chunker.hpp"

#include <random>
#include <stdexcept>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "actors/documents/text/utf8.hpp"

using namespace distiller::documents;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

namespace {

chunk_options opts(size_t size, size_t overlap,
                   chunk_unit u = chunk_unit::characters) {
  chunk_options o;
  o.size = size;
  o.overlap = overlap;
  o.unit = u;
  return o;
}

size_t measure(std::string_view s, chunk_unit u) {
  return u == chunk_unit::characters ? utf8::count_code_points(s)
                                     : count_tokens(s);
}

/// A deterministic text of `n` sentences of varied length, with paragraph
/// breaks now and then and some multi-byte words.
std::string sample_text(size_t n, unsigned seed) {
  static const std::vector<std::string> words = {
      "stream",   "partition", "Größe",  "offset", "naïve",
      "consumer", "日本語",    "broker", "café",   "replica",
      "log",      "😀",         "commit", "leader", "epoch"};
  std::mt19937 rng(seed);
  std::uniform_int_distribution<size_t> len(3, 25);
  std::uniform_int_distribution<size_t> pick(0, words.size() - 1);
  std::uniform_int_distribution<int> para(0, 6);
  std::string text;
  for (size_t s = 0; s < n; ++s) {
    if (s > 0)
      text += para(rng) == 0 ? "\n\n" : " ";
    text += "Sentence " + std::to_string(s);
    for (size_t w = len(rng); w > 0; --w)
      text += " " + words[pick(rng)];
    text += s % 5 == 4 ? "?" : ".";
  }
  return text;
}

/// Checks what must hold for every chunking: chunks are slices of the text
/// at their offsets, in order, non-empty, valid UTF-8, within `size`,
/// counted correctly, each starting after the previous one, overlapping it
/// by at most `overlap`, and together covering the text's every visible
/// character.
void check_invariants(const std::string& text, const std::vector<chunk>& cs,
                      const chunk_options& o) {
  size_t covered_to = 0; // end of the text covered so far
  for (size_t i = 0; i < cs.size(); ++i) {
    const auto& c = cs[i];
    SCOPED_TRACE("chunk " + std::to_string(i));
    ASSERT_EQ(c.index, i);
    ASSERT_FALSE(c.text.empty());
    ASSERT_TRUE(utf8::is_valid(c.text));
    ASSERT_EQ(text.compare(c.offset, c.text.size(), c.text), 0);
    EXPECT_EQ(c.char_count, utf8::count_code_points(c.text));
    EXPECT_EQ(c.token_count, count_tokens(c.text));
    EXPECT_LE(measure(c.text, o.unit), o.size);
    EXPECT_NE(c.text.front(), ' ');
    EXPECT_NE(c.text.back(), ' ');
    // Nothing visible between the covered part and this chunk is skipped.
    if (c.offset > covered_to) {
      for (size_t k = covered_to; k < c.offset; ++k)
        ASSERT_TRUE(text[k] == ' ' || text[k] == '\n') << k;
    }
    if (i > 0) {
      const auto& prev = cs[i - 1];
      ASSERT_GT(c.offset, prev.offset);
      const size_t prev_end = prev.offset + prev.text.size();
      ASSERT_GT(c.offset + c.text.size(), prev_end); // brings new text
      if (c.offset < prev_end) {
        auto shared =
            std::string_view(text).substr(c.offset, prev_end - c.offset);
        EXPECT_LE(measure(shared, o.unit), o.overlap);
      }
    }
    covered_to = std::max(covered_to, c.offset + c.text.size());
  }
  for (size_t k = covered_to; k < text.size(); ++k)
    ASSERT_TRUE(text[k] == ' ' || text[k] == '\n') << k;
}

// -- sentences ----------------------------------------------------------------

TEST(chunker, splits_sentences_at_terminators_before_capitals) {
  EXPECT_THAT(
      split_sentences("One here. Two there! Three? 4 is a number."),
      ElementsAre("One here.", "Two there!", "Three?", "4 is a number."));
  EXPECT_THAT(split_sentences("no split. lower case follows"),
              ElementsAre("no split. lower case follows"));
  EXPECT_THAT(split_sentences("Wait... What now?"),
              ElementsAre("Wait...", "What now?"));
  EXPECT_THAT(split_sentences("He said \"Stop.\" Then he left."),
              ElementsAre("He said \"Stop.\"", "Then he left."));
  EXPECT_THAT(split_sentences("Done (really.) Next"),
              ElementsAre("Done (really.)", "Next"));
  EXPECT_THAT(split_sentences("  \n "), ElementsAre());
}

TEST(chunker, keeps_abbreviations_decimals_and_initials_together) {
  EXPECT_THAT(split_sentences("Dr. Smith met Mr. Jones. They talked."),
              ElementsAre("Dr. Smith met Mr. Jones.", "They talked."));
  EXPECT_THAT(split_sentences("Fruit, e.g. Apples, and i.e. Pears. End."),
              ElementsAre("Fruit, e.g. Apples, and i.e. Pears.", "End."));
  EXPECT_THAT(split_sentences("Pi is 3.14 roughly. See Fig. 3 for more."),
              ElementsAre("Pi is 3.14 roughly.", "See Fig. 3 for more."));
  EXPECT_THAT(split_sentences("Written by J. R. Tolkien. Read it."),
              ElementsAre("Written by J. R. Tolkien.", "Read it."));
  EXPECT_THAT(split_sentences("The U.S. Army marched. Smith et al. Found it."),
              ElementsAre("The U.S. Army marched.", "Smith et al. Found it."));
  // "No." ends a sentence unless a number follows.
  EXPECT_THAT(
      split_sentences("The answer is No. Try again. Room No. 5 now."),
      ElementsAre("The answer is No.", "Try again.", "Room No. 5 now."));
}

TEST(chunker, paragraph_breaks_and_other_scripts_end_sentences) {
  EXPECT_THAT(split_sentences("A heading\n\nbody text\nsame paragraph"),
              ElementsAre("A heading", "body text\nsame paragraph"));
  EXPECT_THAT(split_sentences("Ende. Über alles. Ça va. Ярко."),
              ElementsAre("Ende.", "Über alles.", "Ça va.", "Ярко."));
  EXPECT_THAT(split_sentences("今日は晴れ。明日は雨！本当？"),
              ElementsAre("今日は晴れ。", "明日は雨！", "本当？"));
}

// -- packing
// -------------------------------------------------------------------

TEST(chunker, packs_whole_sentences_with_overlap) {
  const std::string text =
      "Alpha is first. Beta is second. Gamma is third. Delta is fourth. "
      "Epsilon is fifth.";
  auto cs = split_into_chunks(text, opts(40, 20));
  ASSERT_EQ(cs.size(), 4u);
  EXPECT_EQ(cs[0].text, "Alpha is first. Beta is second.");
  EXPECT_EQ(cs[1].text, "Beta is second. Gamma is third.");
  EXPECT_EQ(cs[2].text, "Gamma is third. Delta is fourth.");
  EXPECT_EQ(cs[3].text, "Delta is fourth. Epsilon is fifth.");
  check_invariants(text, cs, opts(40, 20));
}

TEST(chunker, zero_overlap_partitions_the_sentences) {
  const std::string text = "One. Two. Three. Four. Five. Six.";
  auto cs = split_into_chunks(text, opts(10, 0));
  std::vector<std::string> got;
  for (auto& c : cs)
    got.push_back(c.text);
  EXPECT_THAT(got, ElementsAre("One. Two.", "Three.", "Four.", "Five. Six."));
}

TEST(chunker, whole_text_in_one_chunk_when_it_fits) {
  auto cs = split_into_chunks("  Short text. Fits.\n\nEasily.  ");
  ASSERT_EQ(cs.size(), 1u);
  EXPECT_EQ(cs[0].text, "Short text. Fits.\n\nEasily.");
  EXPECT_EQ(cs[0].offset, 2u);
  EXPECT_EQ(cs[0].token_count, 4u);
  EXPECT_EQ(cs[0].char_count, 26u);
}

TEST(chunker, sentences_are_never_cut_when_they_fit) {
  const std::string text = sample_text(300, 1);
  const auto o = opts(400, 120);
  auto cs = split_into_chunks(text, o);
  check_invariants(text, cs, o);
  auto sentences = split_sentences(text);
  // Every sentence lies whole inside some chunk, and chunk boundaries fall
  // on sentence boundaries.
  for (auto s : sentences) {
    ASSERT_LE(utf8::count_code_points(s), o.size);
    const size_t begin = static_cast<size_t>(s.data() - text.data());
    bool inside = false;
    for (auto& c : cs)
      inside = inside || (c.offset <= begin &&
                          begin + s.size() <= c.offset + c.text.size());
    EXPECT_TRUE(inside) << s;
  }
  for (auto& c : cs) {
    auto parts = split_sentences(c.text);
    ASSERT_FALSE(parts.empty());
    EXPECT_EQ(parts.front().data(), c.text.data());
  }
  // Consecutive chunks share at least one sentence when it fits the overlap.
  size_t overlapping = 0;
  for (size_t i = 1; i < cs.size(); ++i)
    if (cs[i].offset < cs[i - 1].offset + cs[i - 1].text.size())
      ++overlapping;
  EXPECT_GT(overlapping, cs.size() / 2);
}

TEST(chunker, long_sentences_split_at_word_boundaries) {
  std::string text = "Short opener.";
  std::string longest = " This";
  for (int i = 0; i < 60; ++i)
    longest += " word" + std::to_string(i);
  text += longest + " end. Short closer.";
  const auto o = opts(50, 10);
  auto cs = split_into_chunks(text, o);
  check_invariants(text, cs, o);
  ASSERT_GT(cs.size(), 6u);
  for (auto& c : cs) {
    // Starts and ends at word boundaries.
    if (c.offset > 0) {
      EXPECT_EQ(text[c.offset - 1], ' ') << c.text;
    }
    const size_t end = c.offset + c.text.size();
    if (end < text.size()) {
      EXPECT_EQ(text[end], ' ') << c.text;
    }
  }
}

TEST(chunker, cuts_a_word_only_when_it_alone_exceeds_the_size) {
  const std::string word(25, 'x');
  const std::string text = "Tiny. " + word + " tail.";
  const auto o = opts(10, 3);
  auto cs = split_into_chunks(text, o);
  check_invariants(text, cs, o);
  std::vector<std::string> got;
  for (auto& c : cs)
    got.push_back(c.text);
  EXPECT_THAT(
      got, ElementsAre("Tiny.", "xxxxxxxxxx", "xxxxxxxxxx", "xxxxx", "tail."));
}

TEST(chunker, never_cuts_inside_a_code_point) {
  std::string emoji;
  for (int i = 0; i < 23; ++i)
    emoji += "😀";
  const std::string text = "Größe über Äpfel. " + emoji + " ünd café.";
  for (size_t size : {1, 2, 3, 5, 7, 11}) {
    const auto o = opts(size, size / 2);
    auto cs = split_into_chunks(text, o);
    check_invariants(text, cs, o);
    size_t emoji_chunks = 0;
    for (auto& c : cs)
      if (c.text.find("😀") != std::string::npos)
        ++emoji_chunks;
    EXPECT_EQ(emoji_chunks, (23 + size - 1) / size);
  }
}

TEST(chunker, counts_tokens_when_asked) {
  const std::string text = sample_text(80, 2);
  const auto o = opts(30, 8, chunk_unit::tokens);
  auto cs = split_into_chunks(text, o);
  check_invariants(text, cs, o);
  for (auto& c : cs)
    EXPECT_LE(c.token_count, 30u);
  // Japanese without spaces is one token however long (why characters are
  // the default).
  auto ja = split_into_chunks("日本語のテキストは空白がない",
                              opts(2, 0, chunk_unit::tokens));
  ASSERT_EQ(ja.size(), 1u);
  EXPECT_EQ(ja[0].token_count, 1u);
}

TEST(chunker, random_texts_and_options_keep_every_invariant) {
  std::mt19937 rng(99);
  for (int round = 0; round < 60; ++round) {
    const std::string text = sample_text(40 + round, 1000 + round);
    const size_t size = std::uniform_int_distribution<size_t>(1, 300)(rng);
    const size_t overlap =
        std::uniform_int_distribution<size_t>(0, size - 1)(rng);
    const auto u = round % 3 == 0 ? chunk_unit::tokens : chunk_unit::characters;
    SCOPED_TRACE("size " + std::to_string(size) + " overlap " +
                 std::to_string(overlap));
    const auto o = opts(size, overlap, u);
    auto cs = split_into_chunks(text, o);
    ASSERT_FALSE(cs.empty());
    check_invariants(text, cs, o);
  }
}

TEST(chunker, is_deterministic) {
  const std::string text = sample_text(200, 3);
  auto a = split_into_chunks(text, opts(300, 50));
  auto b = split_into_chunks(text, opts(300, 50));
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].text, b[i].text);
    EXPECT_EQ(a[i].offset, b[i].offset);
  }
}

TEST(chunker, blank_or_invalid_input) {
  EXPECT_TRUE(split_into_chunks("").empty());
  EXPECT_TRUE(split_into_chunks(" \n\n\t ").empty());
  auto cs = split_into_chunks("Bad \xFF\xFE bytes. Still fine.", opts(13, 0));
  ASSERT_EQ(cs.size(), 2u);
  EXPECT_EQ(cs[0].text, "Bad \xEF\xBF\xBD\xEF\xBF\xBD bytes.");
  EXPECT_EQ(cs[1].text, "Still fine.");
}

TEST(chunker, validates_options_naming_the_field) {
  try {
    split_into_chunks("x", opts(0, 0));
    FAIL() << "size 0 accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), HasSubstr("size"));
  }
  try {
    split_into_chunks("x", opts(100, 100));
    FAIL() << "overlap == size accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), HasSubstr("overlap (100)"));
  }
  EXPECT_NO_THROW(validate(opts(100, 99)));
  EXPECT_NO_THROW(validate(chunk_options{}));
  EXPECT_EQ(chunk_options{}.size, 1000u);
  EXPECT_EQ(chunk_options{}.overlap, 150u);
  EXPECT_EQ(chunk_options{}.unit, chunk_unit::characters);
}

TEST(chunker, parses_units) {
  EXPECT_EQ(parse_chunk_unit("Tokens"), chunk_unit::tokens);
  EXPECT_EQ(parse_chunk_unit("characters"), chunk_unit::characters);
  EXPECT_EQ(parse_chunk_unit("chars"), chunk_unit::characters);
  EXPECT_FALSE(parse_chunk_unit("bytes"));
  EXPECT_STREQ(to_string(chunk_unit::tokens), "tokens");
}

} // namespace
