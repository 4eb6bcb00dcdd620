#include "actors/documents/text/utf8.hpp"

#include <random>

#include <gtest/gtest.h>

namespace utf8 = distiller::documents::utf8;

namespace {

const std::string fffd = "\xEF\xBF\xBD";

TEST(utf8, decodes_one_to_four_byte_sequences) {
  std::string s = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"; // a é € 😀
  auto a = utf8::decode(s, 0);
  EXPECT_TRUE(a.valid);
  EXPECT_EQ(a.cp, U'a');
  EXPECT_EQ(a.length, 1u);
  auto e = utf8::decode(s, 1);
  EXPECT_EQ(e.cp, U'\u00E9');
  EXPECT_EQ(e.length, 2u);
  auto euro = utf8::decode(s, 3);
  EXPECT_EQ(euro.cp, U'\u20AC');
  EXPECT_EQ(euro.length, 3u);
  auto smile = utf8::decode(s, 6);
  EXPECT_EQ(smile.cp, U'\U0001F600');
  EXPECT_EQ(smile.length, 4u);
}

TEST(utf8, rejects_overlong_surrogate_and_out_of_range_forms) {
  for (std::string bad :
       {std::string("\xC0\x80"), std::string("\xE0\x80\x80"),
        std::string("\xED\xA0\x80"), std::string("\xF4\x90\x80\x80"),
        std::string("\xF8\x88\x80\x80\x80"), std::string("\x80"),
        std::string("\xFF")}) {
    EXPECT_FALSE(utf8::is_valid(bad)) << bad.size();
    EXPECT_FALSE(utf8::decode(bad, 0).valid);
  }
  EXPECT_TRUE(utf8::is_valid("plain ascii"));
  EXPECT_TRUE(utf8::is_valid("\xF4\x8F\xBF\xBF")); // U+10FFFF
  EXPECT_TRUE(utf8::is_valid(""));
}

TEST(utf8, sanitize_replaces_each_maximal_invalid_subpart_once) {
  EXPECT_EQ(utf8::sanitize("a\xFF"
                           "b"),
            "a" + fffd + "b");
  // A truncated three-byte sequence is one replacement, not two.
  EXPECT_EQ(utf8::sanitize("\xE2\x82"
                           "x"),
            fffd + "x");
  EXPECT_EQ(utf8::sanitize("end\xE2\x82"), "end" + fffd);
  // F0 80 is not a valid start of anything: three bad bytes.
  EXPECT_EQ(utf8::sanitize("\xF0\x80\x80"), fffd + fffd + fffd);
  EXPECT_EQ(utf8::sanitize("\xED\xA0\x80"), fffd + fffd + fffd);
  const std::string good = "Größe 😀 ok";
  EXPECT_EQ(utf8::sanitize(good), good);
}

TEST(utf8, sanitize_always_yields_valid_utf8) {
  std::mt19937 rng(42);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int round = 0; round < 200; ++round) {
    std::string junk;
    for (int i = 0; i < 64; ++i)
      junk.push_back(static_cast<char>(byte(rng)));
    auto clean = utf8::sanitize(junk);
    ASSERT_TRUE(utf8::is_valid(clean));
    EXPECT_EQ(utf8::sanitize(clean), clean);
  }
}

TEST(utf8, counts_and_cuts_at_code_point_boundaries) {
  const std::string s = "h\xC3\xA9llo\xF0\x9F\x98\x80"; // héllo😀
  EXPECT_EQ(utf8::count_code_points(s), 6u);
  EXPECT_TRUE(utf8::is_boundary(s, 1));
  EXPECT_FALSE(utf8::is_boundary(s, 2));
  EXPECT_EQ(utf8::floor_boundary(s, 2), 1u);
  EXPECT_EQ(utf8::floor_boundary(s, 8), 6u);
  EXPECT_EQ(utf8::floor_boundary(s, 100), s.size());
  EXPECT_EQ(utf8::prefix_bytes(s, 2), 3u);
  EXPECT_EQ(utf8::prefix_bytes(s, 6), s.size());
  EXPECT_EQ(utf8::prefix_bytes(s, 60), s.size());
  EXPECT_EQ(utf8::prefix_bytes(s, 0), 0u);
}

TEST(utf8, append_encodes_and_refuses_surrogates) {
  std::string out;
  utf8::append(out, U'\u00E9');
  utf8::append(out, U'\U0001F600');
  EXPECT_EQ(out, "\xC3\xA9\xF0\x9F\x98\x80");
  out.clear();
  utf8::append(out, 0xD800);
  utf8::append(out, 0x110000);
  EXPECT_EQ(out, fffd + fffd);
}

} // namespace
