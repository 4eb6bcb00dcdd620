#include <gtest/gtest.h>

#include <vector>

#include "actors/documents/search/hybrid.hpp"
#include "tests/support/testing.hpp"

namespace dt = distiller::testing;
using namespace distiller::documents::search;

namespace {

std::vector<int64_t> ids_of(const std::vector<fused_hit>& hits) {
  std::vector<int64_t> out;
  for (const auto& h : hits)
    out.push_back(h.id);
  return out;
}

} // namespace

TEST(fusion, agreement_beats_a_single_first_place) {
  // 3 is second in both lists; 1 is first in dense only, 4 first in sparse.
  auto hits = fuse({1, 3, 2}, {4, 3});
  ASSERT_EQ(hits.size(), 4u);
  EXPECT_EQ(hits[0].id, 3);
  EXPECT_DOUBLE_EQ(hits[0].score, 2.0 / 62);
  EXPECT_EQ(hits[0].dense_rank, 2);
  EXPECT_EQ(hits[0].sparse_rank, 2);
  // 1 and 4 tie at 1/61: the dense list's first place goes first.
  EXPECT_EQ(hits[1].id, 1);
  EXPECT_EQ(hits[2].id, 4);
  EXPECT_DOUBLE_EQ(hits[1].score, hits[2].score);
  EXPECT_EQ(hits[2].dense_rank, 0);
  EXPECT_EQ(hits[2].sparse_rank, 1);
  EXPECT_EQ(hits[3].id, 2);
  EXPECT_DOUBLE_EQ(hits[3].score, 1.0 / 63);
}

TEST(fusion, scores_follow_the_formula_for_any_k) {
  auto hits = fuse({10, 20}, {20, 30}, 1);
  // 20: 1/(1+2) + 1/(1+1); 10: 1/2; 30: 1/3.
  ASSERT_EQ(ids_of(hits), (std::vector<int64_t>{20, 10, 30}));
  EXPECT_DOUBLE_EQ(hits[0].score, 1.0 / 3 + 1.0 / 2);
  EXPECT_DOUBLE_EQ(hits[1].score, 1.0 / 2);
  EXPECT_DOUBLE_EQ(hits[2].score, 1.0 / 3);
}

TEST(fusion, equal_scores_and_best_ranks_follow_the_dense_order) {
  // 7 and 5 both: rank 1 in one list, rank 2 in the other.
  auto hits = fuse({7, 5}, {5, 7});
  EXPECT_DOUBLE_EQ(hits[0].score, hits[1].score);
  // Same best rank (1); dense ranks 7 higher.
  EXPECT_EQ(ids_of(hits), (std::vector<int64_t>{7, 5}));
  EXPECT_TRUE(fuse({}, {}).empty());
  auto only_sparse = fuse({}, {9, 8});
  EXPECT_EQ(ids_of(only_sparse), (std::vector<int64_t>{9, 8}));
}

TEST(fusion, a_repeated_id_counts_once_at_its_best_rank) {
  auto hits = fuse({1, 2, 1, 1}, {});
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0].id, 1);
  EXPECT_DOUBLE_EQ(hits[0].score, 1.0 / 61);
  EXPECT_EQ(hits[0].dense_rank, 1);
  EXPECT_EQ(hits[1].dense_rank, 2);
}

TEST(fusion, every_input_id_appears_once) {
  std::vector<int64_t> dense;
  std::vector<int64_t> sparse;
  for (int64_t i = 0; i < 50; ++i) {
    dense.push_back(i);
    sparse.push_back(49 + i);
  }
  auto hits = fuse(dense, sparse);
  EXPECT_EQ(hits.size(), 50u + 50u - 1u); // 49 is in both
  for (size_t i = 1; i < hits.size(); ++i)
    EXPECT_GE(hits[i - 1].score, hits[i].score);
}

TEST(fusion, k_must_be_positive) {
  EXPECT_THROW(fuse({1}, {2}, 0), std::invalid_argument);
}
