#include "actors/documents/search/vector_index.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/testing.hpp"

namespace dt = distiller::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
using namespace distiller::documents::search;

namespace {

constexpr size_t dim = 16;

std::vector<float> unit_vector(std::mt19937& rng, size_t d = dim) {
  std::normal_distribution<float> normal;
  std::vector<float> v(d);
  double sum = 0;
  for (auto& x : v) {
    x = normal(rng);
    sum += static_cast<double>(x) * x;
  }
  for (auto& x : v)
    x = static_cast<float>(x / std::sqrt(sum));
  return v;
}

vector_index_config config_for(index_kind kind, size_t d = dim) {
  vector_index_config cfg;
  cfg.dimension = d;
  cfg.kind = kind;
  cfg.hnsw_m = 16;
  cfg.hnsw_ef_search = 64;
  return cfg;
}

void expect_message_has(const std::exception& e,
                        const std::vector<std::string>& parts) {
  std::string what = e.what();
  for (const auto& p : parts)
    EXPECT_NE(what.find(p), std::string::npos) << what << " lacks " << p;
}

} // namespace

class vector_index_kinds : public ::testing::TestWithParam<index_kind> {};

INSTANTIATE_TEST_SUITE_P(kinds, vector_index_kinds,
                         ::testing::Values(index_kind::flat, index_kind::hnsw),
                         [](const auto& info) {
                           return to_string(info.param);
                         });

TEST_P(vector_index_kinds, finds_each_vector_first_with_its_own_score) {
  std::mt19937 rng{7};
  vector_index index{config_for(GetParam())};
  std::vector<std::vector<float>> vectors;
  for (int64_t id = 100; id < 400; ++id) {
    vectors.push_back(unit_vector(rng));
    ASSERT_TRUE(index.add(id, vectors.back()));
  }
  EXPECT_EQ(index.size(), 300u);
  for (int64_t id = 100; id < 400; id += 7) {
    auto hits = index.search(vectors[static_cast<size_t>(id - 100)], 5);
    ASSERT_EQ(hits.size(), 5u);
    EXPECT_EQ(hits[0].id, id);
    EXPECT_NEAR(hits[0].score, 1.0f, 1e-4);
    for (size_t i = 1; i < hits.size(); ++i)
      EXPECT_GE(hits[i - 1].score, hits[i].score);
  }
}

TEST_P(vector_index_kinds, k_larger_than_the_index_and_empty_index) {
  std::mt19937 rng{1};
  vector_index index{config_for(GetParam())};
  auto q = unit_vector(rng);
  EXPECT_TRUE(index.search(q, 10).empty());
  EXPECT_FALSE(index.max_id().has_value());
  index.add(5, unit_vector(rng));
  index.add(3, unit_vector(rng));
  auto hits = index.search(q, 10);
  EXPECT_EQ(hits.size(), 2u);
  EXPECT_TRUE(index.search(q, 0).empty());
}

TEST_P(vector_index_kinds, ignores_ids_already_present) {
  std::mt19937 rng{2};
  vector_index index{config_for(GetParam())};
  auto first = unit_vector(rng);
  auto second = unit_vector(rng);
  EXPECT_TRUE(index.add(42, first));
  EXPECT_FALSE(index.add(42, second)); // a redelivered record
  EXPECT_EQ(index.size(), 1u);
  auto hits = index.search(first, 3);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].id, 42);
  EXPECT_NEAR(hits[0].score, 1.0f, 1e-4); // the first vector stayed

  std::vector<std::pair<int64_t, std::vector<float>>> batch{
      {42, second},
      {7, unit_vector(rng)},
      {9, unit_vector(rng)},
      {7, unit_vector(rng)}};
  EXPECT_EQ(index.add_batch(batch), 2u);
  EXPECT_EQ(index.size(), 3u);
  EXPECT_TRUE(index.contains(7));
  EXPECT_TRUE(index.contains(9));
  EXPECT_FALSE(index.contains(8));
  EXPECT_EQ(index.add_batch(batch), 0u);
  EXPECT_EQ(index.max_id(), 42);
}

TEST_P(vector_index_kinds, max_id_is_the_highest_id_added) {
  std::mt19937 rng{3};
  vector_index index{config_for(GetParam())};
  index.add(10, unit_vector(rng));
  index.add(-4, unit_vector(rng));
  EXPECT_EQ(index.max_id(), 10);
  index.add(11, unit_vector(rng));
  EXPECT_EQ(index.max_id(), 11);
}

TEST_P(vector_index_kinds, wrong_dimensions_are_refused_naming_both) {
  std::mt19937 rng{4};
  vector_index index{config_for(GetParam(), 8)};
  std::vector<float> three(3, 0.5f);
  try {
    index.add(1, three);
    FAIL() << "no error";
  } catch (const std::invalid_argument& e) {
    expect_message_has(e, {"3", "8"});
  }
  try {
    index.search(three, 1);
    FAIL() << "no error";
  } catch (const std::invalid_argument& e) {
    expect_message_has(e, {"3", "8"});
  }
  std::vector<std::pair<int64_t, std::vector<float>>> batch{
      {1, unit_vector(rng, 8)}, {2, three}};
  EXPECT_THROW(index.add_batch(batch), std::invalid_argument);
  EXPECT_EQ(index.size(), 0u); // nothing of a bad batch was added
  vector_index_config zero;
  zero.dimension = 0;
  EXPECT_THROW(vector_index{zero}, std::invalid_argument);
}

TEST_P(vector_index_kinds, snapshot_round_trip) {
  dt::temp_dir dir{"distiller-vidx"};
  std::mt19937 rng{5};
  vector_index index{config_for(GetParam())};
  std::vector<std::vector<float>> vectors;
  for (int64_t id = 1; id <= 200; ++id) {
    vectors.push_back(unit_vector(rng));
    index.add(id * 3, vectors.back());
  }
  auto path = dir / "index.snapshot";
  index.save(path);
  EXPECT_TRUE(fs::exists(path));
  EXPECT_FALSE(fs::exists(dir / "index.snapshot.tmp"));

  auto loaded = vector_index::load(path);
  EXPECT_EQ(loaded->config().kind, GetParam());
  EXPECT_EQ(loaded->dimension(), dim);
  EXPECT_EQ(loaded->size(), 200u);
  EXPECT_EQ(loaded->max_id(), 600);
  EXPECT_TRUE(loaded->contains(300));
  EXPECT_FALSE(loaded->contains(301));
  for (size_t i = 0; i < vectors.size(); i += 13) {
    auto a = index.search(vectors[i], 4);
    auto b = loaded->search(vectors[i], 4);
    ASSERT_EQ(a.size(), b.size());
    for (size_t j = 0; j < a.size(); ++j) {
      EXPECT_EQ(a[j].id, b[j].id);
      EXPECT_FLOAT_EQ(a[j].score, b[j].score);
    }
  }
  // The loaded index keeps ignoring known ids and takes new ones.
  EXPECT_FALSE(loaded->add(3, unit_vector(rng)));
  EXPECT_TRUE(loaded->add(1000, unit_vector(rng)));
  EXPECT_EQ(loaded->max_id(), 1000);

  // Saving over an existing snapshot replaces it.
  loaded->save(path);
  EXPECT_EQ(vector_index::load(path)->size(), 201u);
}

TEST_P(vector_index_kinds, empty_index_round_trip) {
  dt::temp_dir dir{"distiller-vidx"};
  vector_index index{config_for(GetParam())};
  index.save(dir / "empty");
  auto loaded = vector_index::load(dir / "empty");
  EXPECT_EQ(loaded->size(), 0u);
  EXPECT_FALSE(loaded->max_id().has_value());
}

TEST_P(vector_index_kinds, snapshot_metadata_round_trips_under_the_checksum) {
  dt::temp_dir dir{"distiller-vidx"};
  std::mt19937 rng{9};
  vector_index index{config_for(GetParam())};
  for (int64_t id = 0; id < 10; ++id)
    index.add(id, unit_vector(rng));
  auto path = dir / "snap";
  const std::string meta = "format=1\nmark=1234567\n";
  index.save(path, meta);
  std::string got;
  auto loaded = vector_index::load(path, std::nullopt, &got);
  EXPECT_EQ(got, meta);
  EXPECT_EQ(loaded->size(), 10u);
  // The metadata is covered by the checksum: one changed byte is refused.
  auto bytes = dt::read_file(path);
  auto at = bytes.find("1234567");
  ASSERT_NE(at, std::string::npos);
  bytes[at] = '9';
  dt::write_file(dir / "changed", bytes);
  EXPECT_THROW(vector_index::load(dir / "changed"), vector_index_error);
  // Without metadata the snapshot says so with an empty string.
  index.save(path);
  vector_index::load(path, std::nullopt, &got);
  EXPECT_EQ(got, "");
}

TEST_P(vector_index_kinds, corrupt_snapshots_are_refused) {
  dt::temp_dir dir{"distiller-vidx"};
  std::mt19937 rng{6};
  vector_index index{config_for(GetParam())};
  for (int64_t id = 0; id < 20; ++id)
    index.add(id, unit_vector(rng));
  auto path = dir / "snap";
  index.save(path);
  auto bytes = dt::read_file(path);

  dt::write_file(dir / "truncated", bytes.substr(0, bytes.size() - 10));
  EXPECT_THROW(vector_index::load(dir / "truncated"), vector_index_error);

  auto flipped = bytes;
  flipped[flipped.size() - 5] ^= 0x40;
  dt::write_file(dir / "flipped", flipped);
  EXPECT_THROW(vector_index::load(dir / "flipped"), vector_index_error);

  dt::write_file(dir / "garbage", "not an index at all, just text");
  EXPECT_THROW(vector_index::load(dir / "garbage"), vector_index_error);

  EXPECT_THROW(vector_index::load(dir / "missing"), vector_index_error);
}

TEST_P(vector_index_kinds, concurrent_searches_while_adding) {
  std::mt19937 rng{8};
  vector_index index{config_for(GetParam())};
  constexpr int64_t total = 1500;
  std::vector<std::vector<float>> vectors;
  for (int64_t i = 0; i < total; ++i)
    vectors.push_back(unit_vector(rng));
  std::atomic<bool> done{false};
  std::atomic<int> searches{0};
  std::atomic<int> bad{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&, t] {
      std::mt19937 local{static_cast<unsigned>(100 + t)};
      while (!done.load()) {
        auto q = unit_vector(local);
        auto hits = index.search(q, 5);
        for (size_t i = 0; i < hits.size(); ++i) {
          bool sorted = i == 0 || hits[i - 1].score >= hits[i].score;
          bool known = hits[i].id >= 0 && hits[i].id < total;
          if (!sorted || !known)
            ++bad;
        }
        ++searches;
      }
    });
  }
  // Adds singles and one-element batches while the readers search; a
  // writer starved by the readers would miss the deadline.
  std::atomic<bool> written{false};
  std::thread writer{[&] {
    for (int64_t id = 0; id < total; ++id) {
      if (id % 2 == 0) {
        index.add(id, vectors[static_cast<size_t>(id)]);
      } else {
        std::vector<std::pair<int64_t, std::vector<float>>> one{
            {id, vectors[static_cast<size_t>(id)]}};
        index.add_batch(one);
      }
    }
    written = true;
  }};
  EXPECT_TRUE(dt::wait_until([&] { return written.load(); }, 60s));
  // Let the readers see the full index at least a few times.
  int seen = searches.load();
  EXPECT_TRUE(dt::wait_until([&] { return searches.load() > seen + 30; }));
  done = true;
  writer.join();
  for (auto& r : readers)
    r.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(index.size(), static_cast<size_t>(total));
  EXPECT_EQ(index.max_id(), total - 1);
  auto hits = index.search(vectors[777], 1);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].id, 777);
}

TEST(vector_index, hnsw_recall_against_exact_search) {
  std::mt19937 rng{9};
  vector_index flat{config_for(index_kind::flat, 32)};
  vector_index hnsw{config_for(index_kind::hnsw, 32)};
  std::vector<std::pair<int64_t, std::vector<float>>> items;
  for (int64_t id = 0; id < 2000; ++id)
    items.emplace_back(id, unit_vector(rng, 32));
  flat.add_batch(items);
  hnsw.add_batch(items);
  int agree = 0;
  constexpr int queries = 100;
  for (int i = 0; i < queries; ++i) {
    auto q = unit_vector(rng, 32);
    auto exact = flat.search(q, 10);
    auto approx = hnsw.search(q, 10);
    for (const auto& e : exact)
      for (const auto& a : approx)
        if (a.id == e.id)
          ++agree;
  }
  // recall@10 of HNSW (M 16, efSearch 64) on random 32-d data.
  EXPECT_GE(agree, queries * 10 * 9 / 10);
}

TEST(vector_index, kind_names) {
  EXPECT_EQ(parse_index_kind("flat"), index_kind::flat);
  EXPECT_EQ(parse_index_kind("hnsw"), index_kind::hnsw);
  EXPECT_FALSE(parse_index_kind("ivf").has_value());
  EXPECT_EQ(to_string(index_kind::hnsw), "hnsw");
}
