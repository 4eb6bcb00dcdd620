// libFuzzer target for the document pipeline's Kafka record decoders
// (actors/documents/records.hpp): the input's first byte picks the topic —
// doc-ingest-requests, chunk-processing, chunk-embedded, job-updates, or
// the base64 vector of chunk-embedded on its own — and the rest is the
// record's value as a consumer would receive it.
//
// Invariants besides "no crash, no sanitizer report": the only exception
// is record_error (the worker dead-letters it; anything else would stop
// the worker), and a decoded record survives a round trip: encoding it and
// decoding the result gives the same record (for vectors: the same bits).
#include <cstdint>
#include <cstring>
#include <string_view>

#include "actors/documents/records.hpp"
#include "tests/fuzz/support/check.hpp"

using namespace distiller::documents;
using distiller::fuzzing::fuzz_input;

namespace {

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * 4) == 0);
}

void ingest(std::string_view v) {
  auto x = decode_ingest(v);
  auto y = decode_ingest(encode(x));
  FUZZ_CHECK(x.job_id == y.job_id && x.filename == y.filename &&
                 x.content_type == y.content_type &&
                 x.file_size == y.file_size && x.trace_id == y.trace_id,
             "an ingest request survives a round trip");
}

void chunk(std::string_view v) {
  auto x = decode_chunk_task(v);
  auto y = decode_chunk_task(encode(x));
  FUZZ_CHECK(x.job_id == y.job_id && x.chunk_id == y.chunk_id &&
                 x.chunk_index == y.chunk_index &&
                 x.total_chunks == y.total_chunks && x.text == y.text &&
                 x.trace_id == y.trace_id,
             "a chunk task survives a round trip");
}

void embedded(std::string_view v) {
  auto x = decode_embedded(v);
  auto y = decode_embedded(encode(x));
  FUZZ_CHECK(x.job_id == y.job_id && x.chunk_id == y.chunk_id &&
                 x.vector_id == y.vector_id && x.model == y.model &&
                 same_bits(x.vector, y.vector) && x.text == y.text,
             "an embedded chunk survives a round trip");
}

void job(std::string_view v) {
  auto x = decode_job(v);
  FUZZ_CHECK(parse_job_status(to_string(x.status)) == x.status,
             "a decoded job has a known status");
  auto y = decode_job(encode_job(x));
  FUZZ_CHECK(x.job_id == y.job_id && x.filename == y.filename &&
                 x.content_type == y.content_type &&
                 x.file_size == y.file_size && x.status == y.status &&
                 x.progress == y.progress && x.total_chunks == y.total_chunks &&
                 x.processed_chunks == y.processed_chunks &&
                 x.error == y.error && x.trace_id == y.trace_id &&
                 x.created_at == y.created_at && x.updated_at == y.updated_at,
             "a job update survives a round trip");
}

void vector(std::string_view v) {
  auto x = decode_vector(v);
  FUZZ_CHECK(same_bits(x, decode_vector(encode_vector(x))),
             "a vector survives a round trip");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz_input in({reinterpret_cast<const char*>(data), size});
  auto pick = in.byte() % 5;
  auto value = in.rest();
  try {
    switch (pick) {
    case 0:
      ingest(value);
      break;
    case 1:
      chunk(value);
      break;
    case 2:
      embedded(value);
      break;
    case 3:
      job(value);
      break;
    default:
      vector(value);
      break;
    }
  } catch (const record_error&) {
    // Dead-lettered at once: the record can never succeed.
  }
  return 0;
}
