#include "actors/documents/hashing_embedder.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <thread>
#include <vector>

#include "actors/documents/search/text_terms.hpp"
#include "tests/support/testing.hpp"

namespace dt = distiller::testing;
using distiller::documents::hashing_embedder;
using distiller::documents::hashing_embedder_config;
namespace search = distiller::documents::search;

namespace {

double dot(const std::vector<float>& a, const std::vector<float>& b) {
  double sum = 0;
  for (size_t i = 0; i < a.size(); ++i)
    sum += static_cast<double>(a[i]) * b[i];
  return sum;
}

double norm(const std::vector<float>& v) {
  return std::sqrt(dot(v, v));
}

bool all_zero(const std::vector<float>& v) {
  for (float x : v)
    if (x != 0.0f)
      return false;
  return true;
}

} // namespace

// -- words -------------------------------------------------------------------

TEST(text_terms, tokenize_lowercases_and_splits_on_punctuation) {
  auto tokens = search::tokenize("Kafka's LOG, compacted: 3 times!");
  std::vector<std::string> want{"kafkas", "log", "compacted", "3", "times"};
  EXPECT_EQ(tokens, want);
}

TEST(text_terms, tokenize_keeps_non_ascii_bytes_inside_words) {
  auto tokens = search::tokenize("Crème brûlée, naïve café");
  std::vector<std::string> want{"crème", "brûlée", "naïve", "café"};
  EXPECT_EQ(tokens, want);
}

TEST(text_terms, stop_words_are_function_words_only) {
  for (auto w : {"the", "of", "what", "is", "which", "and"})
    EXPECT_TRUE(search::is_stop_word(w)) << w;
  for (auto w : {"volcano", "kafka", "bee", "log", "honey"})
    EXPECT_FALSE(search::is_stop_word(w)) << w;
}

TEST(text_terms, light_stemming) {
  EXPECT_EQ(search::stem("volcanoes"), "volcano");
  EXPECT_EQ(search::stem("boxes"), "box");
  EXPECT_EQ(search::stem("shoes"), "shoe");
  EXPECT_EQ(search::stem("churches"), "church");
  EXPECT_EQ(search::stem("colonies"), "colony");
  EXPECT_EQ(search::stem("glasses"), "glass");
  EXPECT_EQ(search::stem("bees"), "bee");
  EXPECT_EQ(search::stem("running"), "run");
  EXPECT_EQ(search::stem("stopped"), "stop");
  EXPECT_EQ(search::stem("falling"), "fall");
  EXPECT_EQ(search::stem("partitions"), "partition");
  // Left alone: short words, -ss/-us/-is endings, stems without a vowel.
  EXPECT_EQ(search::stem("gas"), "gas");
  EXPECT_EQ(search::stem("class"), "class");
  EXPECT_EQ(search::stem("virus"), "virus");
  EXPECT_EQ(search::stem("analysis"), "analysis");
  EXPECT_EQ(search::stem("bring"), "bring");
  EXPECT_EQ(search::stem("café"), "café");
}

TEST(text_terms, content_terms_drop_stop_words_and_stem) {
  auto terms = search::content_terms("What are the colonies of bees doing?");
  std::vector<std::string> want{"colony", "bee"};
  EXPECT_EQ(terms, want);
}

// -- the embedder
// --------------------------------------------------------------

TEST(hashing_embedder, model_and_dimension) {
  hashing_embedder def;
  EXPECT_EQ(def.dimension(), 384u);
  EXPECT_EQ(def.model(), "hashing-384-v1");
  hashing_embedder small{hashing_embedder_config{64, true, true}};
  EXPECT_EQ(small.dimension(), 64u);
  EXPECT_EQ(small.model(), "hashing-64-v1");
  hashing_embedder plain{hashing_embedder_config{128, false, false}};
  EXPECT_EQ(plain.model(), "hashing-128-v1-nostem-nochar");
  auto v = small.embed({"one text", "another text", ""});
  ASSERT_EQ(v.size(), 3u);
  for (auto& x : v)
    EXPECT_EQ(x.size(), 64u);
  EXPECT_THROW(hashing_embedder(hashing_embedder_config{0, true, true}),
               std::invalid_argument);
}

TEST(hashing_embedder, feature_hash_is_fixed) {
  // Changing these values changes every stored vector: that needs a new
  // model version ("-v2"), not an edit of this test.
  EXPECT_EQ(hashing_embedder::feature_hash('u', "kafka"),
            hashing_embedder::feature_hash('u', "kafka"));
  EXPECT_NE(hashing_embedder::feature_hash('u', "log"),
            hashing_embedder::feature_hash('c', "log"));
  EXPECT_EQ(hashing_embedder::feature_hash('u', ""), 0xc43cd7728426a6c0ull);
  EXPECT_EQ(hashing_embedder::feature_hash('u', "kafka"),
            0x119e3112f2295aa6ull);
}

TEST(hashing_embedder, deterministic_across_instances_and_calls) {
  std::string text = "Honey bees store nectar in wax combs and fan it dry.";
  hashing_embedder a;
  hashing_embedder b;
  auto va = a.embed({text})[0];
  auto vb = b.embed({text})[0];
  auto vc = a.embed_one(text);
  EXPECT_EQ(va, vb);
  EXPECT_EQ(va, vc);
  EXPECT_FALSE(all_zero(va));
}

TEST(hashing_embedder, vectors_are_unit_length) {
  hashing_embedder e;
  for (auto text : {"a volcano", "Lava flows downhill from the crater.",
                    "Partitions of a Kafka topic are ordered logs; consumers "
                    "track offsets per partition.",
                    "x"}) {
    auto v = e.embed_one(text);
    EXPECT_NEAR(norm(v), 1.0, 1e-5) << text;
  }
}

TEST(hashing_embedder, featureless_text_gives_the_zero_vector) {
  hashing_embedder e;
  for (auto text : {"", "   ", "?!., --", "the of and is it"}) {
    auto v = e.embed_one(text);
    ASSERT_EQ(v.size(), 384u);
    EXPECT_TRUE(all_zero(v)) << "'" << text << "'";
  }
}

TEST(hashing_embedder, similar_texts_are_closer_than_unrelated_ones) {
  hashing_embedder e;
  auto bees1 = e.embed_one(
      "The beekeeper opened the hive to check the queen bee and the honey "
      "stored in the comb.");
  auto bees2 = e.embed_one(
      "Beekeepers inspect hives for the queen and look at how much honey the "
      "combs hold.");
  auto lava = e.embed_one(
      "Magma rises through the volcano and erupts as lava from the crater.");
  auto kafka = e.embed_one(
      "A consumer group divides the partitions of a topic among its members.");
  EXPECT_GT(dot(bees1, bees2), dot(bees1, lava) + 0.2);
  EXPECT_GT(dot(bees1, bees2), dot(bees1, kafka) + 0.2);
  // Morphological variants meet through stems and character n-grams.
  EXPECT_GT(
      dot(e.embed_one("volcanic eruptions"), e.embed_one("volcano erupted")),
      dot(e.embed_one("volcanic eruptions"), e.embed_one("queen honey")));
  // Word order matters only through bigrams: a permutation stays very close.
  EXPECT_GT(dot(e.embed_one("log compaction keeps the latest value"),
                e.embed_one("the latest value log compaction keeps")),
            0.8);
}

TEST(hashing_embedder, order_of_texts_does_not_change_vectors) {
  hashing_embedder e;
  auto forward = e.embed({"alpha beta", "gamma delta", "epsilon"});
  auto backward = e.embed({"epsilon", "gamma delta", "alpha beta"});
  EXPECT_EQ(forward[0], backward[2]);
  EXPECT_EQ(forward[1], backward[1]);
  EXPECT_EQ(forward[2], backward[0]);
}

TEST(hashing_embedder, concurrent_embedding_gives_the_same_vectors) {
  hashing_embedder e;
  std::vector<std::string> texts;
  for (int i = 0; i < 50; ++i)
    texts.push_back("document number " + std::to_string(i) +
                    " about tide pools, sea stars and anemones");
  auto expected = e.embed(texts);
  std::vector<std::vector<std::vector<float>>> got(4);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < got.size(); ++t)
    threads.emplace_back([&, t] { got[t] = e.embed(texts); });
  for (auto& th : threads)
    th.join();
  for (auto& g : got)
    EXPECT_EQ(g, expected);
}
