// The ICU text utilities of the thought agents.

#include "actors/thoughts/agents/text.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

using namespace distiller::thoughts;

namespace {

std::vector<std::string> sentence_texts(const std::string& s,
                                        const char* lang = "en") {
  std::vector<std::string> out;
  for (const auto& x : text::sentences(s, lang))
    out.push_back(x.text);
  return out;
}

std::vector<std::string> word_texts(const std::string& s) {
  std::vector<std::string> out;
  for (const auto& w : text::words(s))
    out.push_back(w.text);
  return out;
}

TEST(thought_text, repairs_invalid_utf8_with_replacement_characters) {
  EXPECT_TRUE(text::is_valid_utf8("plain ascii"));
  EXPECT_TRUE(text::is_valid_utf8("Grüße 日本 🙂"));
  EXPECT_FALSE(text::is_valid_utf8("bad \xff byte"));
  EXPECT_FALSE(text::is_valid_utf8("\xc3"));         // truncated sequence
  EXPECT_FALSE(text::is_valid_utf8("\xed\xa0\x80")); // a surrogate
  EXPECT_FALSE(text::is_valid_utf8("\xc0\xaf"));     // overlong "/"
  EXPECT_EQ(text::repair_utf8("a\xff"
                              "b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(text::repair_utf8("x\xc3"), "x\xEF\xBF\xBD");
  EXPECT_EQ(text::repair_utf8("ok ü"), "ok ü");
  EXPECT_TRUE(text::is_valid_utf8(text::repair_utf8("\xf0\x9f\x99 \xfe\xfe")));
}

TEST(thought_text, clean_normalises_line_breaks_controls_and_nfc) {
  // "e" + combining acute accent becomes the precomposed "é".
  EXPECT_EQ(text::to_nfc("cafe\xCC\x81"), "caf\xC3\xA9");
  const std::string raw = std::string("a\r\nb\rc") + '\0' +
                          "d\x01"
                          "e\tf\xEF\xBB\xBF"
                          "g";
  EXPECT_EQ(text::clean(raw), "a\nb\ncde\tfg");
  EXPECT_EQ(text::clean(std::string("nul\0byte", 8)), "nulbyte");
  EXPECT_EQ(text::clean("bad \xff"), "bad \xEF\xBF\xBD");
  EXPECT_EQ(text::clean(""), "");
}

TEST(thought_text, case_folding_and_lower_case) {
  EXPECT_EQ(text::fold_case("Straße ÉTÉ"), "strasse été");
  EXPECT_EQ(text::to_lower("Straße ÉTÉ"), "straße été");
  EXPECT_TRUE(text::starts_uppercase("Émile"));
  EXPECT_FALSE(text::starts_uppercase("émile"));
  EXPECT_FALSE(text::starts_uppercase("日本"));
  EXPECT_FALSE(text::starts_uppercase(""));
  EXPECT_EQ(text::capitalize_first("élan vital"), "Élan vital");
  EXPECT_EQ(text::capitalize_first("call Bob"), "Call Bob");
}

TEST(thought_text, sentences_keep_abbreviations_decimals_and_quotes) {
  EXPECT_EQ(sentence_texts("Mr. Smith paid $3.50 for it. Dr. Who agreed. "
                           "Then e.g. this happened."),
            (std::vector<std::string>{"Mr. Smith paid $3.50 for it.",
                                      "Dr. Who agreed.",
                                      "Then e.g. this happened."}));
  EXPECT_EQ(sentence_texts("He said \"Stop!\" Then he left.\nNew line here"),
            (std::vector<std::string>{"He said \"Stop!\"", "Then he left.",
                                      "New line here"}));
  EXPECT_EQ(
      sentence_texts("Das ist z.B. gut. Es kostet 3,5 Euro.", "de"),
      (std::vector<std::string>{"Das ist z.B. gut.", "Es kostet 3,5 Euro."}));
  EXPECT_EQ(sentence_texts("日本語の文です。もう一つ！", "ja"),
            (std::vector<std::string>{"日本語の文です。", "もう一つ！"}));
  EXPECT_TRUE(text::sentences("   \n\t ").empty());
  EXPECT_TRUE(text::sentences("").empty());
}

TEST(thought_text, sentence_offsets_point_into_the_text) {
  const std::string s = "  First one.   Second one?  ";
  const auto got = text::sentences(s);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(s.substr(got[0].begin, got[0].end - got[0].begin), "First one.");
  EXPECT_EQ(s.substr(got[1].begin, got[1].end - got[1].begin), "Second one?");
}

TEST(thought_text, words_skip_punctuation_and_keep_numbers) {
  EXPECT_EQ(word_texts("Don’t pay $1,000.50 (or 3.5%) — ok?"),
            (std::vector<std::string>{"Don’t", "pay", "1,000.50", "or", "3.5",
                                      "ok"}));
  const auto ws = text::words("Don’t 42 日本語です");
  ASSERT_GE(ws.size(), 3u);
  EXPECT_EQ(ws[0].folded, "don't"); // curly apostrophe folded to ASCII
  EXPECT_EQ(ws[0].kind, text::word_kind::letter);
  EXPECT_EQ(ws[1].kind, text::word_kind::number);
  EXPECT_EQ(ws[2].text, "日本語"); // dictionary segmentation
  EXPECT_EQ(ws[2].kind, text::word_kind::ideographic);
  EXPECT_TRUE(text::words("🙂 !!! ...").empty());
}

TEST(thought_text, shorten_cuts_at_a_word_boundary_with_an_ellipsis) {
  EXPECT_EQ(text::shorten("short", 60), "short");
  EXPECT_EQ(text::shorten("one two three four", 12), "one two…");
  EXPECT_EQ(text::shorten("alpha, beta gamma", 8), "alpha…");
  const std::string cut = text::shorten(std::string(100, 'x'), 10);
  EXPECT_EQ(cut, std::string(9, 'x') + "…");
  // Japanese has no spaces; ICU's line breaks still keep words whole.
  const std::string ja =
      text::shorten("明日までに報告書を送らなければなりません", 8);
  EXPECT_LE(text::char_count(ja), 8u);
  EXPECT_TRUE(ja.ends_with("…"));
  // Never splits an emoji with a modifier (one grapheme).
  const std::string emoji =
      text::shorten("👍🏽👍🏽👍🏽👍🏽", 3);
  EXPECT_TRUE(text::is_valid_utf8(emoji));
  EXPECT_LE(text::char_count(emoji), 3u);
}

TEST(thought_text, collapse_whitespace_and_count) {
  EXPECT_EQ(text::collapse_whitespace("  a \n\t b\u00a0c  "), "a b c");
  EXPECT_EQ(text::char_count("aé日🙂"), 4u);
}

TEST(thought_text, script_and_language_hints) {
  EXPECT_EQ(text::script_hint("Hello there"), "Latn");
  EXPECT_EQ(text::script_hint("明日までに送ります"), "Jpan");
  EXPECT_EQ(text::script_hint("我们明天见"), "Hani");
  EXPECT_EQ(text::script_hint("Привет мир"), "Cyrl");
  EXPECT_EQ(text::script_hint("🙂 123"), "Zyyy");
  EXPECT_EQ(text::language_hint("I think that the plan is good"), "en");
  EXPECT_EQ(text::language_hint("Ich glaube, das ist nicht gut und zu spät"),
            "de");
  EXPECT_EQ(text::language_hint("Je pense que le projet est pour nous"), "fr");
  EXPECT_EQ(text::language_hint("明日までに報告書を送ります"), "ja");
  EXPECT_EQ(text::language_hint(""), "und");
}

} // namespace
