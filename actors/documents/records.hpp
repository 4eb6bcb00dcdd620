#pragma once

/// The document pipeline's Kafka records (docs/document-pipeline.md, "Topics
/// and records"): JSON encoders and decoders for doc-ingest-requests,
/// chunk-processing, chunk-embedded and job-updates, and the job JSON the
/// API and the job-updates topic share.
///
/// Pure functions, thread-safe. Decoders throw `record_error` naming the
/// topic and the missing or malformed field; a worker turns that into a
/// dead letter at once (the record can never succeed).

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "actors/documents/document_store.hpp"

namespace distiller::documents {

namespace topics {
inline constexpr const char* ingest = "doc-ingest-requests";
inline constexpr const char* chunks = "chunk-processing";
inline constexpr const char* embedded = "chunk-embedded";
inline constexpr const char* job_updates = "job-updates";
} // namespace topics

class record_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ingest_request {
  std::string job_id;
  std::string filename;
  std::string content_type;
  int64_t file_size = 0;
  std::string trace_id;
};

struct chunk_task {
  std::string job_id;
  std::string chunk_id;
  int chunk_index = 0;
  int total_chunks = 0;
  std::string text;
  std::string trace_id;
};

struct embedded_chunk {
  std::string job_id;
  std::string chunk_id;
  int64_t vector_id = 0;
  std::string model;
  std::vector<float> vector;
  /// The chunk's text, for the sparse index; empty in records written before
  /// it was carried (the indexer then reads it from PostgreSQL).
  std::string text = {};
};

std::string encode(const ingest_request& x);
std::string encode(const chunk_task& x);
std::string encode(const embedded_chunk& x);

ingest_request decode_ingest(std::string_view json);
chunk_task decode_chunk_task(std::string_view json);
embedded_chunk decode_embedded(std::string_view json);

/// A job as the API shows it: {job_id, filename, status, progress,
/// total_chunks, processed_chunks, created_at, updated_at, error?} (error
/// only when set). Shared by the routes, the event streams and job-updates.
boost::json::object job_json(const job_row& job);

/// The job-updates record: the job as the API shows it (job_id, filename,
/// status, progress, total_chunks, processed_chunks, created_at, updated_at,
/// `error` only when set) plus file_size, content_type and trace_id.
std::string encode_job(const job_row& job);
job_row decode_job(std::string_view json);

/// Base64 (RFC 4648, with padding) of little-endian float32 values.
std::string encode_vector(const std::vector<float>& v);
std::vector<float> decode_vector(std::string_view b64);

} // namespace distiller::documents
