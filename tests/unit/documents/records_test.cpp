// The document pipeline's Kafka records: every topic's JSON round-trips,
// vectors survive base64 bit for bit, and malformed records name what is
// wrong (the worker dead-letters them at once).

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "actors/documents/documents_config.hpp"
#include "actors/documents/records.hpp"

namespace {

using namespace distiller::documents;

template <class F>
std::string error_of(F f) {
  try {
    f();
  } catch (const record_error& e) {
    return e.what();
  }
  return "";
}

TEST(records, ingest_request_round_trips) {
  ingest_request x{"6f1c1c52-8f7e-4c55-9a63-0c7f2b0c8a11", "notes \"1\".md",
                   "text/markdown", 1234, "trace-1"};
  auto y = decode_ingest(encode(x));
  EXPECT_EQ(y.job_id, x.job_id);
  EXPECT_EQ(y.filename, x.filename);
  EXPECT_EQ(y.content_type, x.content_type);
  EXPECT_EQ(y.file_size, 1234);
  EXPECT_EQ(y.trace_id, "trace-1");
}

TEST(records, chunk_task_round_trips_unicode_text) {
  chunk_task x{"job", "chunk", 7, 9, "Grüße — 東京\nline two\t\"q\"", "t"};
  auto y = decode_chunk_task(encode(x));
  EXPECT_EQ(y.chunk_index, 7);
  EXPECT_EQ(y.total_chunks, 9);
  EXPECT_EQ(y.text, x.text);
  EXPECT_EQ(y.chunk_id, "chunk");
}

TEST(records, vectors_survive_base64_bit_for_bit) {
  for (size_t n : {0u, 1u, 2u, 3u, 5u, 384u}) {
    std::vector<float> v;
    for (size_t i = 0; i < n; ++i)
      v.push_back(std::sin(static_cast<float>(i) * 0.37f) / 3.0f);
    if (n > 2) {
      v[1] = std::numeric_limits<float>::denorm_min();
      v[2] = -0.0f;
    }
    auto back = decode_vector(encode_vector(v));
    ASSERT_EQ(back.size(), v.size()) << n;
    for (size_t i = 0; i < n; ++i)
      EXPECT_EQ(std::memcmp(&back[i], &v[i], 4), 0) << n << "/" << i;
  }
  // 1 float = 4 bytes = 8 base64 characters with two '=' of padding.
  EXPECT_EQ(encode_vector({1.0f}), "AACAPw==");
}

TEST(records, embedded_chunk_round_trips_and_checks_its_dimension) {
  embedded_chunk x{"job",
                   "chunk",
                   42,
                   "hashing-4-v1",
                   {0.5f, -0.5f, 0, 1},
                   "a chunk of text"};
  auto y = decode_embedded(encode(x));
  EXPECT_EQ(y.vector_id, 42);
  EXPECT_EQ(y.model, "hashing-4-v1");
  EXPECT_EQ(y.vector, x.vector);
  EXPECT_EQ(y.text, "a chunk of text");
  // Records written before the text travelled decode with none.
  auto old = encode(x);
  old.erase(old.find(",\"text\""));
  old += "}";
  EXPECT_EQ(decode_embedded(old).text, "");
  auto text = encode(x);
  auto wrong =
      text.replace(text.find("\"dimension\":4"), 13, "\"dimension\":5");
  EXPECT_NE(error_of([&] { decode_embedded(wrong); }).find("dimension 5"),
            std::string::npos);
}

TEST(records, job_updates_round_trip_with_and_without_error) {
  job_row j;
  j.job_id = "job";
  j.filename = "a.txt";
  j.status = job_status::embedding;
  j.progress = 55;
  j.total_chunks = 4;
  j.processed_chunks = 2;
  j.created_at = "2026-11-22T09:30:00.123Z";
  j.updated_at = "2026-11-22T09:30:01.456Z";
  j.trace_id = "t";
  j.file_size = 99;
  auto k = decode_job(encode_job(j));
  EXPECT_EQ(k.status, job_status::embedding);
  EXPECT_EQ(k.progress, 55);
  EXPECT_EQ(k.processed_chunks, 2);
  EXPECT_EQ(k.file_size, 99);
  EXPECT_FALSE(k.error.has_value());
  EXPECT_EQ(encode_job(j).find("\"error\""), std::string::npos);
  j.status = job_status::failed;
  j.error = "corrupt PDF";
  k = decode_job(encode_job(j));
  ASSERT_TRUE(k.error.has_value());
  EXPECT_EQ(*k.error, "corrupt PDF");
}

TEST(records, malformed_records_name_the_problem) {
  EXPECT_NE(error_of([] { decode_ingest("not json"); }).find("not JSON"),
            std::string::npos);
  EXPECT_NE(error_of([] { decode_ingest("[1,2]"); }).find("not a JSON object"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              decode_ingest(R"({"filename":"a","file_size":1})");
            }).find("missing field job_id"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              decode_chunk_task(
                  R"({"job_id":"j","chunk_id":"c","chunk_index":"x",)"
                  R"("total_chunks":1,"text":"t"})");
            }).find("chunk_index is not an integer"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              decode_job(R"({"job_id":"j","status":"done","progress":1,)"
                         R"("total_chunks":1,"processed_chunks":1})");
            }).find("unknown status done"),
            std::string::npos);
  EXPECT_NE(error_of([] { decode_vector("AAA"); }).find("multiple of 4"),
            std::string::npos);
  EXPECT_NE(error_of([] { decode_vector("AA*A"); }).find("invalid base64"),
            std::string::npos);
  EXPECT_NE(error_of([] { decode_vector("AAA="); }).find("multiple of 4"),
            std::string::npos);
}

TEST(records, job_status_order_finality_and_names) {
  EXPECT_LT(order(job_status::pending), order(job_status::processing));
  EXPECT_LT(order(job_status::chunking), order(job_status::embedding));
  EXPECT_LT(order(job_status::embedding), order(job_status::completed));
  EXPECT_TRUE(is_final(job_status::completed));
  EXPECT_TRUE(is_final(job_status::failed));
  EXPECT_FALSE(is_final(job_status::embedding));
  for (auto s : all_job_statuses)
    EXPECT_EQ(parse_job_status(to_string(s)), s) << to_string(s);
  EXPECT_EQ(parse_job_status("bogus"), std::nullopt);
  EXPECT_EQ(parse_job_status("Completed"), std::nullopt);
  EXPECT_EQ(parse_job_status(""), std::nullopt);
}

TEST(documents_config, validate_names_the_key) {
  documents_config c;
  EXPECT_NO_THROW(validate(c));
  c.chunk_overlap = c.chunk_size;
  try {
    validate(c);
    ADD_FAILURE() << "overlap == size accepted";
  } catch (const distiller::config::config_error& e) {
    EXPECT_EQ(e.key(), "documents.chunk_overlap");
  }
  c = {};
  c.embedder_kind = "http";
  try {
    validate(c);
    ADD_FAILURE() << "http embedder without url accepted";
  } catch (const distiller::config::config_error& e) {
    EXPECT_EQ(e.key(), "embedder.url");
  }
}

} // namespace
