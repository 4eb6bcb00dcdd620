// Unit tests of the BM25 sparse index (Xapian): stemmed matches, stop
// words, ids added once, the matched share that relevance uses, questions
// that are text, not query syntax; and the persistent form (a glass
// database): reopened with the same rankings and metadata, a killed
// process's adds after the last commit gone, a damaged database refused.

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "actors/documents/search/hybrid.hpp"
#include "actors/documents/search/sparse_index.hpp"
#include "tests/support/testing.hpp"

namespace dt = distiller::testing;

using namespace distiller::documents::search;

namespace {

/// Three chunks on two subjects (the index is neither copyable nor
/// movable, so tests fill their own).
void three_chunks(sparse_index& ix) {
  ix.add(10, "Kafka consumers commit their offsets after processing.");
  ix.add(20, "A consumer group spreads the partitions over its members.");
  ix.add(30, "Bananas are yellow fruit rich in potassium.");
}

std::vector<int64_t> ids(const sparse_result& r) {
  std::vector<int64_t> out;
  for (auto& h : r.hits)
    out.push_back(h.id);
  return out;
}

} // namespace

TEST(sparse_index, stemmed_terms_match_other_forms) {
  sparse_index ix;
  three_chunks(ix);
  // "committing" and "offset" meet "commit" and "offsets".
  auto r = ix.search("Who is committing the offset?", 10);
  ASSERT_FALSE(r.hits.empty());
  EXPECT_EQ(r.hits.front().id, 10);
  EXPECT_GT(r.hits.front().score, 0);
  EXPECT_EQ(ids(ix.search("partition", 10)), std::vector<int64_t>{20});
}

TEST(sparse_index, ranks_by_bm25_and_bounds_the_list) {
  sparse_index ix;
  ix.add(1, "consumer");
  ix.add(2, "consumer consumer offsets lag");
  ix.add(3, "producer");
  auto r = ix.search("consumer offsets", 10);
  EXPECT_EQ(ids(r), (std::vector<int64_t>{2, 1}));
  EXPECT_GT(r.hits[0].score, r.hits[1].score);
  EXPECT_EQ(ix.search("consumer offsets", 1).hits.size(), 1u);
  EXPECT_TRUE(ix.search("consumer", 0).hits.empty());
}

TEST(sparse_index, stop_words_neither_match_nor_count) {
  sparse_index ix;
  three_chunks(ix);
  auto r = ix.search("what is the of and to", 10);
  EXPECT_EQ(r.terms, 0u);
  EXPECT_TRUE(r.hits.empty());
  EXPECT_EQ(r.matched_share, 0);
  EXPECT_EQ(ix.search("the bananas", 10).terms, 1u);
}

TEST(sparse_index, matched_share_says_how_much_of_the_question_matched) {
  sparse_index ix;
  three_chunks(ix);
  auto full = ix.search("yellow bananas potassium", 10);
  ASSERT_EQ(ids(full), std::vector<int64_t>{30});
  EXPECT_NEAR(full.matched_share, 1.0, 1e-9);
  // One word of four, and a common one: a small share.
  auto part = ix.search("consumer florp vindex qualtrane", 10);
  ASSERT_FALSE(part.hits.empty());
  EXPECT_LT(part.matched_share, 0.3);
  auto none = ix.search("florp vindex", 10);
  EXPECT_TRUE(none.hits.empty());
  EXPECT_EQ(none.matched_share, 0);
  EXPECT_EQ(none.terms, 2u);
}

TEST(sparse_index, a_question_is_text_not_query_syntax) {
  sparse_index ix;
  three_chunks(ix);
  // "-" would negate, AND/OR/NEAR and quotes would be operators.
  EXPECT_EQ(ids(ix.search("bananas -yellow", 10)), std::vector<int64_t>{30});
  EXPECT_FALSE(ix.search("consumer AND NOT offsets", 10).hits.empty());
  EXPECT_NO_THROW(ix.search("\"unterminated (paren [bracket", 10));
  EXPECT_NO_THROW(ix.search("", 10));
  EXPECT_NO_THROW(ix.search(std::string(3000, '('), 10));
}

TEST(sparse_index, ids_are_added_once) {
  sparse_index ix;
  three_chunks(ix);
  EXPECT_EQ(ix.size(), 3u);
  EXPECT_FALSE(ix.add(10, "something else entirely"));
  EXPECT_EQ(ix.size(), 3u);
  EXPECT_TRUE(ix.contains(20));
  EXPECT_FALSE(ix.contains(40));
  EXPECT_EQ(ix.add_batch({{40, "alpha"}, {40, "beta"}, {10, "gamma"}}), 1u);
  EXPECT_EQ(ix.size(), 4u);
  EXPECT_EQ(ids(ix.search("alpha", 10)), std::vector<int64_t>{40});
  EXPECT_TRUE(ix.search("beta gamma", 10).hits.empty());
}

TEST(sparse_index, searches_and_adds_from_several_threads) {
  sparse_index ix;
  std::thread writer{[&] {
    for (int i = 1; i <= 2000; ++i)
      ix.add(i, "chunk number " + std::to_string(i) + " about offsets");
  }};
  size_t found = 0;
  for (int i = 0; i < 200; ++i)
    found += ix.search("offsets", 5).hits.size();
  writer.join();
  EXPECT_EQ(ix.size(), 2000u);
  EXPECT_EQ(ix.search("offsets", 5).hits.size(), 5u);
  EXPECT_LE(found, 200u * 5u);
}

TEST(sparse_index, a_persistent_index_reopens_with_its_chunks_and_metadata) {
  dt::temp_dir dir{"distiller-sparse"};
  auto path = dir / "nested" / "sparse";
  sparse_index memory;
  three_chunks(memory);
  {
    sparse_index ix{{}, path};
    EXPECT_EQ(ix.dir(), path);
    EXPECT_EQ(ix.meta(), "");
    three_chunks(ix);
    // Adds are searchable before any commit.
    EXPECT_EQ(ids(ix.search("bananas", 10)), std::vector<int64_t>{30});
    ix.commit("format=1\nmark=42\n");
  }
  sparse_index ix{{}, path};
  EXPECT_EQ(ix.size(), 3u);
  EXPECT_TRUE(ix.contains(20));
  EXPECT_EQ(ix.meta(), "format=1\nmark=42\n");
  // The same statistics as the in-memory index: the same ranking and
  // scores.
  for (auto* q : {"Who is committing the offset?", "consumer partitions",
                  "yellow fruit"}) {
    auto a = ix.search(q, 10);
    auto b = memory.search(q, 10);
    EXPECT_EQ(ids(a), ids(b)) << q;
    ASSERT_EQ(a.hits.size(), b.hits.size());
    for (size_t i = 0; i < a.hits.size(); ++i)
      EXPECT_NEAR(a.hits[i].score, b.hits[i].score, 1e-9) << q;
    EXPECT_NEAR(a.matched_share, b.matched_share, 1e-9) << q;
  }
  EXPECT_FALSE(ix.add(10, "again"));
  EXPECT_TRUE(ix.add(40, "a fourth chunk"));
  EXPECT_EQ(ix.size(), 4u);
}

TEST(sparse_index, a_killed_process_leaves_the_last_commit) {
  dt::temp_dir dir{"distiller-sparse"};
  auto path = dir / "sparse";
  // A child process commits two chunks, adds a third and dies by SIGKILL:
  // no destructor runs, so nothing commits the third.
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    try {
      auto* ix = new sparse_index{{}, path};
      ix->add(1, "committed chunk about lanterns");
      ix->add(2, "committed chunk about harbors");
      ix->commit("first");
      ix->add(3, "lost chunk about glaciers");
    } catch (...) {
      ::_exit(3);
    }
    ::raise(SIGKILL);
    ::_exit(4);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exit " << WEXITSTATUS(status);
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
  sparse_index ix{{}, path};
  EXPECT_EQ(ix.meta(), "first");
  EXPECT_EQ(ix.size(), 2u);
  EXPECT_TRUE(ix.contains(2));
  EXPECT_FALSE(ix.contains(3));
  EXPECT_EQ(ids(ix.search("lanterns", 10)), std::vector<int64_t>{1});
}

TEST(sparse_index, a_damaged_database_is_refused_and_can_be_removed) {
  dt::temp_dir dir{"distiller-sparse"};
  auto path = dir / "sparse";
  {
    sparse_index ix{{}, path};
    three_chunks(ix);
    ix.commit("meta");
  }
  // Every file of the database overwritten with text.
  for (auto& f : std::filesystem::directory_iterator{path})
    dt::write_file(f.path(), "this is not a Xapian table");
  EXPECT_THROW((sparse_index{{}, path}), sparse_index_error);
  sparse_index::remove_files(path);
  EXPECT_FALSE(std::filesystem::exists(path));
  sparse_index::remove_files(path); // missing: no error
  sparse_index fresh{{}, path};
  EXPECT_EQ(fresh.size(), 0u);
  EXPECT_EQ(fresh.meta(), "");
}

TEST(sparse_index, an_index_in_memory_keeps_its_metadata) {
  sparse_index ix;
  EXPECT_TRUE(ix.dir().empty());
  ix.commit("m");
  EXPECT_EQ(ix.meta(), "m");
}

TEST(hybrid, weighted_fusion_and_passage_keys) {
  // Dense weight 0: the sparse order alone; ids only dense come after.
  auto f = fuse({1, 2, 3}, {3, 4}, 5, 0.0, 1.0);
  ASSERT_GE(f.size(), 2u);
  EXPECT_EQ(f[0].id, 3);
  EXPECT_EQ(f[1].id, 4);
  // Two firsts: the heavier half's wins.
  EXPECT_EQ(fuse({1}, {2}, 5, 3.0, 1.0)[0].id, 1);
  EXPECT_EQ(fuse({1}, {2}, 5, 0.5, 1.0)[0].id, 2);
  EXPECT_THROW(fuse({1}, {2}, 5, -1.0, 1.0), std::invalid_argument);
  EXPECT_EQ(passage_key("  The Same\r\n\ttext  "), "the same text");
  EXPECT_EQ(passage_key("The same text"), passage_key("the  same\ntext"));
  EXPECT_NE(passage_key("the same text"), passage_key("the same texts"));
}
