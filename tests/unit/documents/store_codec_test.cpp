#include "actors/documents/store_codec.hpp"

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <stdexcept>

#include <gtest/gtest.h>

using namespace distiller::documents;

namespace {

bool bits_equal(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() &&
         std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

} // namespace

TEST(store_codec, uuids_only_in_canonical_form) {
  EXPECT_TRUE(is_uuid("0b5e3c1a-7f2d-4e8a-9c01-23456789abcd"));
  EXPECT_TRUE(is_uuid("0B5E3C1A-7F2D-4E8A-9C01-23456789ABCD"));
  EXPECT_FALSE(is_uuid(""));
  EXPECT_FALSE(is_uuid("0b5e3c1a7f2d4e8a9c0123456789abcd"));
  EXPECT_FALSE(is_uuid("{0b5e3c1a-7f2d-4e8a-9c01-23456789abcd}"));
  EXPECT_FALSE(is_uuid("0b5e3c1a-7f2d-4e8a-9c01-23456789abcg"));
  EXPECT_FALSE(is_uuid("0b5e3c1a-7f2d-4e8a-9c0123-456789abcd"));
  EXPECT_FALSE(is_uuid("'; DROP TABLE x; --'; DROP TABLE x; -"));
}

TEST(store_codec, real_arrays_roundtrip_bit_exact) {
  EXPECT_EQ(real_array_literal({}), "{}");
  EXPECT_EQ(real_array_literal({0.5f, -2.0f}), "{0.5,-2}");
  EXPECT_TRUE(parse_real_array("{}").empty());
  std::vector<float> values{0.1f,
                            -0.0f,
                            1.0f / 3.0f,
                            std::numeric_limits<float>::max(),
                            std::numeric_limits<float>::lowest(),
                            std::numeric_limits<float>::min(),
                            std::numeric_limits<float>::denorm_min()};
  std::mt19937 rng{3};
  for (int i = 0; i < 2000; ++i) {
    float x;
    auto bits = static_cast<uint32_t>(rng());
    std::memcpy(&x, &bits, sizeof(x));
    if (std::isfinite(x))
      values.push_back(x);
  }
  EXPECT_TRUE(bits_equal(parse_real_array(real_array_literal(values)), values));
  // PostgreSQL's own spellings (shortest round-trip, exponents).
  EXPECT_TRUE(bits_equal(parse_real_array("{1e-05,-3.4028235e+38,0}"),
                         {1e-05f, -3.4028235e+38f, 0.0f}));
}

TEST(store_codec, bad_real_arrays_are_refused) {
  for (float bad : {std::numeric_limits<float>::quiet_NaN(),
                    std::numeric_limits<float>::infinity(),
                    -std::numeric_limits<float>::infinity()}) {
    try {
      real_array_literal({1.0f, bad});
      ADD_FAILURE() << "non-finite values have no exact literal here";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string{e.what()}.find("value 1"), std::string::npos);
    }
  }
  for (const char* text :
       {"", "{", "0.5", "{0.5,}", "{,0.5}", "{NULL}", "{0.5;1}", "{{1,2}}"})
    EXPECT_THROW(parse_real_array(text), std::invalid_argument) << text;
}

TEST(store_codec, json_for_headers_and_chunks) {
  EXPECT_EQ(bigint_array_literal({}), "{}");
  EXPECT_EQ(bigint_array_literal({1, -2, 9007199254740993}),
            "{1,-2,9007199254740993}");

  std::vector<std::pair<std::string, std::string>> headers{
      {"x-trace-id", "abc"}, {"quote\"d", "line\nbreak \\ \u00e9"}};
  auto json = headers_to_json(headers);
  EXPECT_EQ(headers_from_json(json), headers);
  EXPECT_EQ(headers_to_json({}), "{}");
  EXPECT_EQ(headers_from_json(R"({"n":1,"s":"x"})"),
            (decltype(headers){{"n", "1"}, {"s", "x"}}));

  EXPECT_EQ(chunks_to_json({{0, "a \"b\"", 2, "page 1"}, {1, "c", 1}}),
            R"([{"chunk_index":0,"text":"a \"b\"","token_count":2,)"
            R"("section":"page 1"},)"
            R"({"chunk_index":1,"text":"c","token_count":1,"section":""}])");
}
