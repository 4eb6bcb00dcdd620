#include "actors/documents/document_store.hpp"

#include <algorithm>
#include <atomic>
#include <barrier>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <random>
#include <regex>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "actors/documents/index_snapshots.hpp"
#include "bridges/embedded/pg_cluster.hpp"
#include "bridges/postgres/connection.hpp"
#include "bridges/postgres/migrations.hpp"
#include "runtime/core/ids.hpp"
#include "tests/support/private_pg.hpp"
#include "tests/support/testing.hpp"

using namespace std::chrono_literals;
using namespace distiller::documents;
using distiller::embedded::pg_cluster;
namespace dt = distiller::testing;
namespace pg = distiller::postgres;

namespace {

// -- SQL used by the tests ----------------------------------------------------

constexpr const char* file_digest_sql =
    "SELECT encode(sha256, 'hex') FROM document_files WHERE job_id = $1";

constexpr const char* backends_sql =
    "SELECT count(*) FROM pg_stat_activity"
    " WHERE datname = current_database() AND pid <> pg_backend_pid()";

constexpr const char* job_completed_at_sql =
    "SELECT completed_at IS NOT NULL FROM document_jobs WHERE job_id = $1";

// SHA-256 of "abc" (FIPS 180-2, appendix B.1).
constexpr const char* abc_sha256 =
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

pg::pg_config config_in(const std::filesystem::path& dir) {
  return dt::private_pg_config(dir);
}

outbox_message ingest_event(const std::string& job_id,
                            const std::string& trace) {
  return outbox_message{"doc-ingest-requests",
                        job_id,
                        R"({"job_id":")" + job_id + R"("})",
                        {{"x-trace-id", trace}, {"x-kind", "upload"}}};
}

bool is_rfc3339_ms(const std::string& text) {
  static const std::regex re{R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)"};
  return std::regex_match(text, re);
}

std::vector<chunk_input> chunks_of(const std::vector<std::string>& texts) {
  std::vector<chunk_input> chunks;
  for (size_t i = 0; i < texts.size(); ++i)
    chunks.push_back({static_cast<int>(i), texts[i], 3});
  return chunks;
}

std::vector<std::string> ids_of(const std::vector<job_row>& jobs) {
  std::vector<std::string> ids;
  for (const auto& j : jobs)
    ids.push_back(j.job_id);
  return ids;
}

bool contains(const std::vector<std::string>& ids, const std::string& id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

} // namespace

// -- one private cluster for the suite, one database per test -----------------

class document_store_test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<dt::temp_dir>("distiller-store");
    cluster_ = std::make_unique<pg_cluster>(config_in(dir_->path()),
                                            pg_cluster::options{true});
    cluster_->start();
  }

  static void TearDownTestSuite() {
    if (cluster_)
      cluster_->stop();
    cluster_.reset();
    dir_.reset();
  }

  void SetUp() override {
    if (!cluster_->running())
      cluster_->start();
    static int next = 0;
    auto name = "store_" + std::to_string(++next);
    {
      auto admin = pg::connect(cluster_->admin_dsn(), 10s);
      pqxx::nontransaction tx{*admin};
      tx.exec0("DROP DATABASE IF EXISTS " + admin->quote_name(name));
      tx.exec0("CREATE DATABASE " + admin->quote_name(name));
    }
    dsn_ = cluster_->dsn();
    dsn_.replace(dsn_.find("dbname=distiller"), 16, "dbname=" + name);
    conn_ = pg::connect(dsn_, 10s);
    pg::migrate(*conn_);
  }

  std::unique_ptr<document_store>
  make_store(int pool_size = 4,
             std::chrono::milliseconds connect_timeout = 10s) {
    return std::make_unique<document_store>(
        store_config{dsn_, pool_size, connect_timeout});
  }

  job_row upload(document_store& store, const std::string& filename,
                 const std::string& content = "some text") {
    auto id = distiller::make_uuid();
    auto trace = distiller::make_trace_id().value();
    return store.create_upload({id, filename, "text/plain", content, trace},
                               ingest_event(id, trace));
  }

  /// Uploads a job and stores `texts` as its chunks.
  std::pair<job_row, std::vector<chunk_row>>
  job_with_chunks(document_store& store, const std::vector<std::string>& texts,
                  const std::string& filename = "doc.txt") {
    auto job = upload(store, filename);
    auto chunks = store.store_chunks(job.job_id, chunks_of(texts));
    return {job, chunks};
  }

  template <class... Args>
  pqxx::row query1(const char* sql, Args&&... args) {
    pqxx::work tx{*conn_};
    auto row = tx.exec_params1(sql, std::forward<Args>(args)...);
    tx.commit();
    return row;
  }

  static std::unique_ptr<dt::temp_dir> dir_;
  static std::unique_ptr<pg_cluster> cluster_;
  std::string dsn_;
  std::unique_ptr<pqxx::connection> conn_;
};

std::unique_ptr<dt::temp_dir> document_store_test::dir_;
std::unique_ptr<pg_cluster> document_store_test::cluster_;

// -- uploads and the API ------------------------------------------------------

TEST_F(document_store_test, upload_keeps_bytes_exactly_and_writes_outbox) {
  auto store = make_store();
  // Every byte value, NULs included.
  std::string binary;
  for (int round = 0; round < 4; ++round)
    for (int b = 0; b < 256; ++b)
      binary += static_cast<char>(b);
  binary += std::string(3, '\0');
  auto id = distiller::make_uuid();
  auto trace = distiller::make_trace_id().value();
  auto job =
      store->create_upload({id, "scan.pdf", "application/pdf", binary, trace},
                           ingest_event(id, trace));
  EXPECT_EQ(job.job_id, id);
  EXPECT_EQ(job.filename, "scan.pdf");
  EXPECT_EQ(job.content_type, "application/pdf");
  EXPECT_EQ(job.file_size, static_cast<int64_t>(binary.size()));
  EXPECT_EQ(job.status, job_status::pending);
  EXPECT_EQ(job.progress, 0);
  EXPECT_EQ(job.total_chunks, 0);
  EXPECT_EQ(job.processed_chunks, 0);
  EXPECT_FALSE(job.error);
  EXPECT_EQ(job.trace_id, trace);
  EXPECT_TRUE(is_rfc3339_ms(job.created_at)) << job.created_at;
  EXPECT_TRUE(is_rfc3339_ms(job.updated_at)) << job.updated_at;

  auto file = store->file(id);
  ASSERT_TRUE(file);
  EXPECT_EQ(file->filename, "scan.pdf");
  EXPECT_EQ(file->content_type, "application/pdf");
  EXPECT_EQ(file->content, binary);
  auto again = store->job(id);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->created_at, job.created_at);

  // A 5 MiB upload, and the server's SHA-256 of a known input.
  std::string big(5 << 20, '\0');
  std::mt19937 rng{42};
  for (auto& c : big)
    c = static_cast<char>(rng());
  auto big_job = upload(*store, "big.bin", big);
  EXPECT_EQ(big_job.file_size, 5 << 20);
  EXPECT_EQ(store->file(big_job.job_id)->content, big);
  auto abc = upload(*store, "abc.txt", "abc");
  EXPECT_EQ(query1(file_digest_sql, abc.job_id)[0].as<std::string>(),
            abc_sha256);

  // Each upload's outbox row: topic, key, payload and headers.
  EXPECT_EQ(store->outbox_backlog(), 3);
  auto rows = store->lease_outbox(10, 60s);
  ASSERT_EQ(rows.size(), 3u);
  const auto& msg = rows[0].message;
  EXPECT_EQ(msg.topic, "doc-ingest-requests");
  EXPECT_EQ(msg.key, id);
  EXPECT_EQ(msg.payload, R"({"job_id":")" + id + R"("})");
  auto headers = msg.headers;
  std::sort(headers.begin(), headers.end());
  decltype(headers) expected{{"x-kind", "upload"}, {"x-trace-id", trace}};
  EXPECT_EQ(headers, expected);
  EXPECT_EQ(rows[0].attempts, 0);

  // A second upload with the same id changes nothing: one transaction.
  try {
    store->create_upload({id, "other.txt", "text/plain", "x", trace},
                         ingest_event(id, trace));
    FAIL() << "a duplicate job id must be refused";
  } catch (const store_error& e) {
    EXPECT_FALSE(e.retryable());
    EXPECT_NE(std::string{e.what()}.find("document_store.create_upload"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(store->outbox_backlog(), 3);
  EXPECT_EQ(store->file(id)->content, binary);
}

TEST_F(document_store_test, list_jobs_pages_newest_first_with_filter) {
  auto store = make_store();
  std::vector<std::string> created;
  for (int i = 0; i < 5; ++i)
    created.push_back(upload(*store, "f" + std::to_string(i) + ".txt").job_id);
  std::vector<std::string> newest_first(created.rbegin(), created.rend());

  auto all = store->list_jobs(100, 0, std::nullopt);
  EXPECT_EQ(all.total, 5);
  EXPECT_EQ(ids_of(all.jobs), newest_first);

  std::vector<std::string> paged;
  for (int offset = 0; offset < 6; offset += 2) {
    auto page = store->list_jobs(2, offset, std::nullopt);
    EXPECT_EQ(page.total, 5);
    EXPECT_EQ(page.jobs.size(), offset < 4 ? 2u : 1u);
    for (const auto& j : page.jobs)
      paged.push_back(j.job_id);
  }
  EXPECT_EQ(paged, newest_first);
  auto beyond = store->list_jobs(2, 10, std::nullopt);
  EXPECT_TRUE(beyond.jobs.empty());
  EXPECT_EQ(beyond.total, 5);

  ASSERT_TRUE(store->advance(created[1], job_status::processing, 5));
  ASSERT_TRUE(store->advance(created[3], job_status::processing, 5));
  auto processing = store->list_jobs(1, 0, job_status::processing);
  EXPECT_EQ(processing.total, 2);
  ASSERT_EQ(processing.jobs.size(), 1u);
  EXPECT_EQ(processing.jobs[0].job_id, created[3]);
  EXPECT_EQ(processing.jobs[0].status, job_status::processing);
  EXPECT_EQ(store->list_jobs(10, 0, job_status::pending).total, 3);

  for (auto [limit, offset] : {std::pair{0, 0}, {1001, 0}, {10, -1}}) {
    try {
      store->list_jobs(limit, offset, std::nullopt);
      ADD_FAILURE() << "limit " << limit << " offset " << offset;
    } catch (const store_error& e) {
      EXPECT_FALSE(e.retryable());
    }
  }
}

TEST_F(document_store_test, unknown_and_malformed_ids_are_unknown) {
  auto store = make_store();
  auto known = upload(*store, "known.txt");
  for (std::string id :
       {distiller::make_uuid(), std::string{"not-a-uuid"},
        std::string{"'; DROP TABLE document_jobs; --"}, std::string{}}) {
    SCOPED_TRACE(id);
    EXPECT_FALSE(store->job(id));
    EXPECT_FALSE(store->file(id));
    EXPECT_FALSE(store->advance(id, job_status::processing, 5));
    EXPECT_FALSE(store->fail(id, "boom"));
    EXPECT_TRUE(store->pending_chunks(id).empty());
    EXPECT_NO_THROW(store->touch(id));
    try {
      store->store_chunks(id, chunks_of({"text"}));
      ADD_FAILURE() << "chunks for an unknown job";
    } catch (const store_error& e) {
      EXPECT_FALSE(e.retryable());
      EXPECT_NE(std::string{e.what()}.find("store_chunks"), std::string::npos);
    }
    try {
      store->store_embedding(id, {1.0f}, "m");
      ADD_FAILURE() << "embedding of an unknown chunk";
    } catch (const store_error& e) {
      EXPECT_FALSE(e.retryable());
      EXPECT_NE(std::string{e.what()}.find("store_embedding"),
                std::string::npos);
    }
  }
  try {
    store->store_chunks(known.job_id, {});
    ADD_FAILURE() << "an empty chunk list";
  } catch (const store_error& e) {
    EXPECT_FALSE(e.retryable());
  }
  EXPECT_THROW(store->advance(known.job_id, job_status::completed, 100),
               store_error);
  EXPECT_EQ(store->list_jobs(10, 0, std::nullopt).total, 1);
  EXPECT_EQ(store->job(known.job_id)->status, job_status::pending);
}

// -- job states ---------------------------------------------------------------

TEST_F(document_store_test, jobs_move_forward_only_and_stay_final) {
  auto store = make_store();
  auto job = upload(*store, "a.txt");
  const auto& id = job.job_id;

  auto processing = store->advance(id, job_status::processing, 5);
  ASSERT_TRUE(processing);
  EXPECT_EQ(processing->status, job_status::processing);
  EXPECT_EQ(processing->progress, 5);
  EXPECT_FALSE(store->advance(id, job_status::processing, 7)); // already there
  auto embedding =
      store->advance(id, job_status::embedding, 10); // may skip a state
  ASSERT_TRUE(embedding);
  EXPECT_EQ(embedding->status, job_status::embedding);
  EXPECT_FALSE(store->advance(id, job_status::chunking, 10)); // back
  EXPECT_FALSE(store->advance(id, job_status::processing, 5));
  EXPECT_EQ(store->job(id)->status, job_status::embedding);

  auto failed = store->fail(id, "parser crashed");
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->status, job_status::failed);
  EXPECT_EQ(failed->error, "parser crashed");
  EXPECT_EQ(failed->progress, 10);
  EXPECT_FALSE(store->fail(id, "again"));
  EXPECT_FALSE(store->advance(id, job_status::embedding, 50));
  // store_chunks keeps a failed job failed.
  store->store_chunks(id, chunks_of({"late"}));
  auto now = store->job(id);
  EXPECT_EQ(now->status, job_status::failed);
  EXPECT_EQ(now->error, "parser crashed");
  EXPECT_EQ(now->total_chunks, 0);

  // A completed job cannot fail or move.
  auto [done, chunks] = job_with_chunks(*store, {"only chunk"});
  auto outcome = store->store_embedding(chunks[0].chunk_id, {0.5f}, "m");
  EXPECT_EQ(outcome.job.status, job_status::completed);
  EXPECT_FALSE(store->fail(done.job_id, "too late"));
  EXPECT_FALSE(store->advance(done.job_id, job_status::embedding, 10));
  EXPECT_EQ(store->job(done.job_id)->status, job_status::completed);
}

// -- chunks and embeddings ----------------------------------------------------

TEST_F(document_store_test, store_chunks_is_idempotent) {
  auto store = make_store();
  auto job = upload(*store, "chunks.txt");
  ASSERT_TRUE(store->advance(job.job_id, job_status::chunking, 10));
  std::vector<std::string> texts{"first part", "second part", "third part"};
  auto first = store->store_chunks(job.job_id, chunks_of(texts));
  ASSERT_EQ(first.size(), 3u);
  std::set<std::string> ids;
  for (size_t i = 0; i < first.size(); ++i) {
    EXPECT_EQ(first[i].chunk_index, static_cast<int>(i));
    EXPECT_EQ(first[i].text, texts[i]);
    EXPECT_FALSE(first[i].embedded);
    ids.insert(first[i].chunk_id);
    if (i > 0) {
      EXPECT_LT(first[i - 1].vector_id, first[i].vector_id);
    }
  }
  EXPECT_EQ(ids.size(), 3u);
  auto after = store->job(job.job_id);
  EXPECT_EQ(after->status, job_status::embedding);
  EXPECT_EQ(after->progress, 10);
  EXPECT_EQ(after->total_chunks, 3);

  // A redelivery: same rows and ids, totals unchanged, even after progress.
  store->store_embedding(first[1].chunk_id, {1.0f, 2.0f}, "m");
  auto second = store->store_chunks(job.job_id, chunks_of(texts));
  ASSERT_EQ(second.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(second[i].chunk_id, first[i].chunk_id);
    EXPECT_EQ(second[i].vector_id, first[i].vector_id);
    EXPECT_EQ(second[i].embedded, i == 1);
  }
  after = store->job(job.job_id);
  EXPECT_EQ(after->total_chunks, 3);
  EXPECT_EQ(after->processed_chunks, 1);
  EXPECT_EQ(after->progress, 40);
  auto pending = store->pending_chunks(job.job_id);
  ASSERT_EQ(pending.size(), 2u);
  EXPECT_EQ(pending[0].chunk_id, first[0].chunk_id);
  EXPECT_EQ(pending[1].chunk_id, first[2].chunk_id);
}

TEST_F(document_store_test, fan_in_counts_each_chunk_once_across_threads) {
  constexpr int n = 30;
  constexpr int threads = 8;
  auto store = make_store(4);
  std::vector<std::string> texts;
  for (int i = 0; i < n; ++i)
    texts.push_back("chunk number " + std::to_string(i));
  auto [job, chunks] = job_with_chunks(*store, texts);
  ASSERT_EQ(chunks.size(), static_cast<size_t>(n));

  // Every chunk twice (a redelivery), in a shuffled order.
  std::vector<size_t> work;
  for (int round = 0; round < 2; ++round)
    for (size_t i = 0; i < chunks.size(); ++i)
      work.push_back(i);
  std::shuffle(work.begin(), work.end(), std::mt19937{7});
  std::atomic<size_t> next{0};
  std::mutex mtx;
  std::vector<embed_outcome> outcomes;
  std::vector<std::string> errors;
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&] {
      for (size_t k; (k = next++) < work.size();) {
        auto i = work[k];
        try {
          auto out = store->store_embedding(
              chunks[i].chunk_id, {static_cast<float>(i), 0.5f}, "test-model");
          std::lock_guard guard{mtx};
          outcomes.push_back(std::move(out));
        } catch (const std::exception& e) {
          std::lock_guard guard{mtx};
          errors.push_back(e.what());
        }
      }
    });
  for (auto& t : pool)
    t.join();
  ASSERT_TRUE(errors.empty()) << errors.front();
  ASSERT_EQ(outcomes.size(), work.size());

  // Counted exactly once per chunk; the counted updates saw 1..n in turn.
  std::vector<int> seen;
  int completed_by = 0;
  for (const auto& out : outcomes) {
    if (out.counted) {
      seen.push_back(out.job.processed_chunks);
      if (out.job.status == job_status::completed)
        ++completed_by;
    }
    EXPECT_EQ(out.job.job_id, job.job_id);
  }
  std::sort(seen.begin(), seen.end());
  std::vector<int> one_to_n(n);
  for (int i = 0; i < n; ++i)
    one_to_n[i] = i + 1;
  EXPECT_EQ(seen, one_to_n);
  EXPECT_EQ(completed_by, 1);

  auto final_job = store->job(job.job_id);
  EXPECT_EQ(final_job->status, job_status::completed);
  EXPECT_EQ(final_job->processed_chunks, n);
  EXPECT_EQ(final_job->total_chunks, n);
  EXPECT_EQ(final_job->progress, 100);
  EXPECT_TRUE(query1(job_completed_at_sql, job.job_id)[0].as<bool>());
  EXPECT_TRUE(store->pending_chunks(job.job_id).empty());
  auto indexed = store->embedded_chunks_after(0, 1000);
  ASSERT_EQ(indexed.size(), static_cast<size_t>(n));
  for (const auto& c : indexed) {
    auto it = std::find_if(chunks.begin(), chunks.end(), [&](const auto& ch) {
      return ch.chunk_id == c.chunk_id;
    });
    ASSERT_NE(it, chunks.end());
    EXPECT_EQ(c.vector_id, it->vector_id);
    auto i = static_cast<float>(it - chunks.begin());
    EXPECT_EQ(c.embedding, (std::vector<float>{i, 0.5f}));
  }
}

TEST_F(document_store_test, embeddings_roundtrip_bit_exact) {
  auto store = make_store();
  std::vector<float> special{0.1f,
                             -0.0f,
                             0.0f,
                             1.0f / 3.0f,
                             std::numeric_limits<float>::max(),
                             std::numeric_limits<float>::lowest(),
                             std::numeric_limits<float>::min(),
                             std::numeric_limits<float>::denorm_min(),
                             std::numeric_limits<float>::epsilon(),
                             -123456.789f};
  std::mt19937 rng{1};
  std::uniform_real_distribution<float> unit{-1.0f, 1.0f};
  std::vector<float> random(384);
  for (auto& x : random)
    x = unit(rng) * std::pow(10.0f, static_cast<float>(rng() % 20) - 10.0f);
  auto [job, chunks] = job_with_chunks(*store, {"a", "b", "c"});
  store->store_embedding(chunks[0].chunk_id, special, "m");
  store->store_embedding(chunks[2].chunk_id, random, "m");

  auto bits_equal = [](const std::vector<float>& a,
                       const std::vector<float>& b) {
    return a.size() == b.size() &&
           std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
  };
  auto all = store->embedded_chunks_after(0, 10);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].chunk_id, chunks[0].chunk_id);
  EXPECT_EQ(all[0].job_id, job.job_id);
  EXPECT_TRUE(bits_equal(all[0].embedding, special));
  EXPECT_EQ(all[1].chunk_id, chunks[2].chunk_id);
  EXPECT_TRUE(bits_equal(all[1].embedding, random));
  // Paging by vector id.
  auto page = store->embedded_chunks_after(all[0].vector_id, 1);
  ASSERT_EQ(page.size(), 1u);
  EXPECT_EQ(page[0].vector_id, all[1].vector_id);
  EXPECT_TRUE(store->embedded_chunks_after(all[1].vector_id, 10).empty());

  // A second embedding of a chunk is not stored: the first one stays.
  auto again = store->store_embedding(chunks[0].chunk_id, {9.0f}, "m");
  EXPECT_FALSE(again.counted);
  EXPECT_EQ(again.vector_id, chunks[0].vector_id);
  EXPECT_TRUE(
      bits_equal(store->embedded_chunks_after(0, 1)[0].embedding, special));

  for (float bad : {std::numeric_limits<float>::quiet_NaN(),
                    std::numeric_limits<float>::infinity()}) {
    try {
      store->store_embedding(chunks[1].chunk_id, {1.0f, bad}, "m");
      ADD_FAILURE() << "a non-finite embedding must be refused";
    } catch (const store_error& e) {
      EXPECT_FALSE(e.retryable());
    }
  }
  EXPECT_THROW(store->store_embedding(chunks[1].chunk_id, {}, "m"),
               store_error);
  EXPECT_EQ(store->pending_chunks(job.job_id).size(), 1u);
}

// -- queries ------------------------------------------------------------------

TEST_F(document_store_test, chunks_by_vector_ids_skips_unknown_ids) {
  auto store = make_store();
  auto [job, chunks] = job_with_chunks(
      *store,
      {"Bananas are yellow fruit rich in potassium.",
       "Kafka consumers commit offsets; a consumer group shares partitions "
       "and each consumer commits its offsets.",
       "A short note that mentions a consumer once."},
      "kafka-notes.md");
  auto by_ids = store->chunks_by_vector_ids(
      {chunks[2].vector_id, 999999, chunks[0].vector_id});
  ASSERT_EQ(by_ids.size(), 2u);
  std::sort(by_ids.begin(), by_ids.end(), [](const auto& a, const auto& b) {
    return a.vector_id < b.vector_id;
  });
  EXPECT_EQ(by_ids[0].chunk_id, chunks[0].chunk_id);
  EXPECT_EQ(by_ids[0].text, "Bananas are yellow fruit rich in potassium.");
  EXPECT_EQ(by_ids[0].filename, "kafka-notes.md");
  EXPECT_EQ(by_ids[1].chunk_id, chunks[2].chunk_id);
  EXPECT_TRUE(store->chunks_by_vector_ids({}).empty());
}

// -- index snapshots ----------------------------------------------------------

TEST_F(document_store_test, the_index_mark_waits_for_open_embedding_work) {
  auto store = make_store();
  auto [job, chunks] = job_with_chunks(*store, {"zero", "one", "two"});
  store->store_embedding(chunks[0].chunk_id, {1.0f, 0.0f}, "m");
  auto stamp = [&](const std::string& chunk_id) {
    return query1("SELECT (extract(epoch FROM embedded_at) * 1000000)::bigint"
                  " FROM document_chunks WHERE chunk_id = $1",
                  chunk_id)[0]
        .as<int64_t>();
  };
  // Nothing open: the mark is the clock's reading less the margin.
  auto quiet = store->read_clock();
  EXPECT_FALSE(quiet.oldest_open.has_value());
  EXPECT_GE(quiet.now, stamp(chunks[0].chunk_id));
  auto ids = store->embedded_ids_since(quiet.now - 60'000'000);
  EXPECT_EQ(ids, std::vector<int64_t>{chunks[0].vector_id});
  EXPECT_TRUE(store->embedded_ids_since(quiet.now + 1'000'000).empty());

  // An embedding transaction that began before the reading and commits
  // after it: its row is stamped before the reading's time. The mark goes
  // back to that transaction's start, so a read from the mark finds it.
  pqxx::work open{*conn_};
  open.exec_params0("UPDATE document_chunks SET status = 'embedded',"
                    " embedding = '{0,1}', embedding_model = 'm',"
                    " embedded_at = now() WHERE chunk_id = $1",
                    chunks[1].chunk_id);
  auto busy = store->read_clock();
  ASSERT_TRUE(busy.oldest_open.has_value());
  EXPECT_LE(*busy.oldest_open, busy.now);
  auto mark = mark_after_read(busy.now, busy.oldest_open, 0us);
  auto before_commit = store->embedded_ids_since(mark);
  EXPECT_TRUE(std::find(before_commit.begin(), before_commit.end(),
                        chunks[1].vector_id) == before_commit.end());
  open.commit();
  auto stamped = stamp(chunks[1].chunk_id);
  // Without the open transaction's start the mark would have passed it.
  EXPECT_LT(stamped, mark_after_read(busy.now, std::nullopt, 0us));
  EXPECT_GE(stamped, mark);
  auto after_commit = store->embedded_ids_since(mark);
  EXPECT_TRUE(std::find(after_commit.begin(), after_commit.end(),
                        chunks[1].vector_id) != after_commit.end());

  // The rows themselves, in vector id order; unknown and unembedded ids
  // are skipped.
  auto rows = store->embedded_chunks_by_ids(
      {chunks[1].vector_id, 999999, chunks[2].vector_id, chunks[0].vector_id});
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].chunk_id, chunks[0].chunk_id);
  EXPECT_EQ(rows[0].embedding, (std::vector<float>{1.0f, 0.0f}));
  EXPECT_EQ(rows[1].chunk_id, chunks[1].chunk_id);
  EXPECT_EQ(rows[1].text, "one");
  EXPECT_TRUE(store->embedded_chunks_by_ids({}).empty());

  // The database's identity: a UUID, the same at every call.
  auto id = store->database_id();
  EXPECT_EQ(id.size(), 36u);
  EXPECT_EQ(store->database_id(), id);
}

TEST_F(document_store_test, stuck_jobs_are_oldest_first_and_touch_hides_one) {
  auto store = make_store();
  auto a = upload(*store, "a.txt");
  auto b = upload(*store, "b.txt");
  auto c = upload(*store, "c.txt");
  ASSERT_TRUE(store->fail(c.job_id, "broken"));
  EXPECT_TRUE(store->stuck_jobs(1h, 10).empty());

  constexpr auto age = 1s;
  ASSERT_TRUE(dt::wait_until(
      [&] { return store->stuck_jobs(age, 10).size() == 2; }, 10s, 50ms));
  auto stuck = ids_of(store->stuck_jobs(age, 10));
  EXPECT_EQ(stuck, (std::vector<std::string>{a.job_id, b.job_id}));
  EXPECT_EQ(ids_of(store->stuck_jobs(age, 1)),
            std::vector<std::string>{a.job_id});

  store->touch(a.job_id);
  auto touched = store->job(a.job_id);
  EXPECT_GT(touched->updated_at, a.updated_at);
  EXPECT_EQ(touched->status, job_status::pending);
  stuck = ids_of(store->stuck_jobs(age, 10));
  EXPECT_FALSE(contains(stuck, a.job_id));
  EXPECT_TRUE(contains(stuck, b.job_id));
  // It comes back once it is old again, now after b.
  ASSERT_TRUE(dt::wait_until(
      [&] { return store->stuck_jobs(age, 10).size() == 2; }, 10s, 50ms));
  EXPECT_EQ(ids_of(store->stuck_jobs(age, 10)),
            (std::vector<std::string>{b.job_id, a.job_id}));
}

// -- the outbox ---------------------------------------------------------------

TEST_F(document_store_test, outbox_leases_are_disjoint_and_retried) {
  auto store = make_store(4);
  std::vector<outbox_message> messages;
  for (int i = 0; i < 40; ++i)
    messages.push_back(
        {"job-updates",
         i % 2 ? std::optional<std::string>{} : "k" + std::to_string(i),
         std::string{"payload\0", 8} + std::to_string(i),
         {{"x-trace-id", "t" + std::to_string(i)}}});
  store->enqueue(messages);
  store->enqueue({});
  EXPECT_EQ(store->outbox_backlog(), 40);

  // Four relays lease at the same moment, repeatedly, until all are out.
  std::mutex mtx;
  std::vector<outbox_row> leased;
  std::vector<std::thread> relays;
  std::barrier start{4};
  for (int r = 0; r < 4; ++r)
    relays.emplace_back([&] {
      for (int round = 0; round < 3; ++round) {
        start.arrive_and_wait();
        auto rows = store->lease_outbox(4, 60s);
        EXPECT_TRUE(std::is_sorted(
            rows.begin(), rows.end(),
            [](const auto& x, const auto& y) { return x.id < y.id; }));
        std::lock_guard guard{mtx};
        leased.insert(leased.end(), rows.begin(), rows.end());
      }
    });
  for (auto& t : relays)
    t.join();
  ASSERT_EQ(leased.size(), 40u);
  std::set<int64_t> ids;
  for (const auto& row : leased)
    ids.insert(row.id);
  EXPECT_EQ(ids.size(), 40u) << "a row was leased twice";
  EXPECT_TRUE(store->lease_outbox(10, 60s).empty()); // all leased

  std::sort(leased.begin(), leased.end(),
            [](const auto& x, const auto& y) { return x.id < y.id; });
  for (int i = 0; i < 40; ++i) {
    const auto& msg = leased[i].message;
    EXPECT_EQ(msg.topic, "job-updates");
    EXPECT_EQ(msg.key, messages[i].key);
    EXPECT_EQ(msg.payload, messages[i].payload);
    EXPECT_EQ(msg.headers, messages[i].headers);
  }

  // Sent rows leave the backlog; a failed row comes back after retry_in.
  std::vector<int64_t> sent;
  for (int i = 0; i < 38; ++i)
    sent.push_back(leased[i].id);
  store->mark_sent(sent);
  store->mark_sent(sent); // idempotent
  EXPECT_EQ(store->outbox_backlog(), 2);
  store->mark_failed(leased[38].id, "broker down", 0ms);
  store->mark_failed(leased[39].id, "broker down", 1h);
  auto retry = store->lease_outbox(10, 0ms);
  ASSERT_EQ(retry.size(), 1u);
  EXPECT_EQ(retry[0].id, leased[38].id);
  EXPECT_EQ(retry[0].attempts, 1);
  // A lease of 0 ms makes it due again at once.
  ASSERT_TRUE(
      dt::wait_until([&] { return store->lease_outbox(10, 60s).size() == 1; }));
  store->mark_sent({leased[38].id});
  EXPECT_EQ(store->outbox_backlog(), 1);
  EXPECT_TRUE(store->lease_outbox(10, 60s).empty());
}

// -- the pool -----------------------------------------------------------------

TEST_F(document_store_test, small_pool_serves_many_threads) {
  auto store = make_store(2);
  std::atomic<bool> done{false};
  std::atomic<int64_t> most_backends{0};
  std::thread monitor{[&] {
    auto conn = pg::connect(dsn_, 10s);
    while (!done) {
      pqxx::read_transaction tx{*conn};
      auto n = tx.exec1(backends_sql)[0].as<int64_t>();
      auto seen = most_backends.load();
      while (n > seen && !most_backends.compare_exchange_weak(seen, n)) {
      }
    }
  }};
  std::atomic<int> failures{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < 8; ++t)
    workers.emplace_back([&, t] {
      for (int i = 0; i < 15; ++i) {
        try {
          auto job = upload(*store, "t" + std::to_string(t) + ".txt");
          if (!store->job(job.job_id) ||
              !store->advance(job.job_id, job_status::processing, 5))
            ++failures;
        } catch (const std::exception& e) {
          ADD_FAILURE() << e.what();
          ++failures;
        }
      }
    });
  for (auto& w : workers)
    w.join();
  done = true;
  monitor.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(store->list_jobs(1, 0, job_status::processing).total, 120);
  // The monitor saw the pool's connections and conn_, never more.
  EXPECT_GE(most_backends, 2);
  EXPECT_LE(most_backends, 3) << "the pool opened more than 2 connections";
  // The pool keeps its two; the monitor's backend exits asynchronously.
  EXPECT_TRUE(dt::wait_until([&] {
    pqxx::read_transaction tx{*conn_};
    return tx.exec1(backends_sql)[0].as<int64_t>() == 2;
  }));
}

TEST_F(document_store_test, lost_connection_is_replaced_after_a_restart) {
  auto store = make_store(1, 500ms);
  auto job = upload(*store, "survivor.txt");
  conn_.reset();
  cluster_->stop();

  // The pooled connection is dead: the call fails, retryable, and names
  // itself; while the server is down, connecting fails the same way.
  for (int attempt = 0; attempt < 2; ++attempt) {
    try {
      store->job(job.job_id);
      ADD_FAILURE() << "no server, yet the call succeeded";
    } catch (const store_error& e) {
      EXPECT_TRUE(e.retryable()) << e.what();
      EXPECT_NE(std::string{e.what()}.find("document_store.job"),
                std::string::npos)
          << e.what();
    }
  }
  cluster_->start();
  // The pool is down until its next probe (at most every 500 ms) connects.
  std::optional<job_row> back;
  ASSERT_TRUE(dt::wait_until(
      [&] {
        try {
          back = store->job(job.job_id);
          return true;
        } catch (const store_error& e) {
          EXPECT_TRUE(e.retryable()) << e.what();
          return false;
        }
      },
      10s, 50ms));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->filename, "survivor.txt");
  EXPECT_TRUE(store->advance(job.job_id, job_status::processing, 5));
  EXPECT_EQ(store->outbox_backlog(), 1);
}
