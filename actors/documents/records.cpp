#include "actors/documents/records.hpp"

#include <array>
#include <cstring>

#include <boost/json.hpp>

namespace distiller::documents {

namespace json = boost::json;

namespace {

json::object parse_object(std::string_view text, const char* topic) {
  boost::system::error_code ec;
  auto v = json::parse(json::string_view{text.data(), text.size()}, ec);
  if (ec)
    throw record_error(std::string{topic} + ": not JSON: " + ec.message());
  if (!v.is_object())
    throw record_error(std::string{topic} + ": not a JSON object");
  return std::move(v.as_object());
}

std::string str(const json::object& o, const char* key, const char* topic,
                bool required = true) {
  auto* v = o.if_contains(key);
  if (!v || v->is_null()) {
    if (required)
      throw record_error(std::string{topic} + ": missing field " + key);
    return {};
  }
  if (!v->is_string())
    throw record_error(std::string{topic} + ": field " + key +
                       " is not a string");
  return std::string{v->as_string()};
}

int64_t num(const json::object& o, const char* key, const char* topic) {
  auto* v = o.if_contains(key);
  if (!v)
    throw record_error(std::string{topic} + ": missing field " + key);
  if (v->is_int64())
    return v->as_int64();
  if (v->is_uint64())
    return static_cast<int64_t>(v->as_uint64());
  throw record_error(std::string{topic} + ": field " + key +
                     " is not an integer");
}

constexpr char b64_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

} // namespace

// -- vectors ------------------------------------------------------------------

std::string encode_vector(const std::vector<float>& v) {
  std::string bytes(v.size() * 4, '\0');
  for (size_t i = 0; i < v.size(); ++i) {
    uint32_t bits;
    std::memcpy(&bits, &v[i], 4);
    for (int b = 0; b < 4; ++b)
      bytes[i * 4 + b] = static_cast<char>((bits >> (8 * b)) & 0xff);
  }
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t n = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) |
                 uint8_t(bytes[i + 2]);
    out += b64_chars[(n >> 18) & 63];
    out += b64_chars[(n >> 12) & 63];
    out += b64_chars[(n >> 6) & 63];
    out += b64_chars[n & 63];
  }
  size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t n = uint8_t(bytes[i]) << 16;
    if (rest == 2)
      n |= uint8_t(bytes[i + 1]) << 8;
    out += b64_chars[(n >> 18) & 63];
    out += b64_chars[(n >> 12) & 63];
    out += rest == 2 ? b64_chars[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::vector<float> decode_vector(std::string_view b64) {
  static const auto table = [] {
    std::array<int8_t, 256> t{};
    t.fill(-1);
    for (int i = 0; i < 64; ++i)
      t[static_cast<uint8_t>(b64_chars[i])] = static_cast<int8_t>(i);
    return t;
  }();
  if (b64.size() % 4 != 0)
    throw record_error("vector: base64 length is not a multiple of 4");
  std::string bytes;
  bytes.reserve(b64.size() / 4 * 3);
  for (size_t i = 0; i < b64.size(); i += 4) {
    uint32_t n = 0;
    int pad = 0;
    for (int j = 0; j < 4; ++j) {
      char c = b64[i + j];
      if (c == '=' && i + 4 == b64.size() && j >= 2) {
        ++pad;
        n <<= 6;
        continue;
      }
      auto d = table[static_cast<uint8_t>(c)];
      if (d < 0 || pad > 0)
        throw record_error("vector: invalid base64");
      n = (n << 6) | static_cast<uint32_t>(d);
    }
    bytes += static_cast<char>((n >> 16) & 0xff);
    if (pad < 2)
      bytes += static_cast<char>((n >> 8) & 0xff);
    if (pad < 1)
      bytes += static_cast<char>(n & 0xff);
  }
  if (bytes.size() % 4 != 0)
    throw record_error("vector: byte length is not a multiple of 4");
  std::vector<float> v(bytes.size() / 4);
  for (size_t i = 0; i < v.size(); ++i) {
    uint32_t bits = 0;
    for (int b = 0; b < 4; ++b)
      bits |= uint32_t(uint8_t(bytes[i * 4 + b])) << (8 * b);
    std::memcpy(&v[i], &bits, 4);
  }
  return v;
}

// -- records ------------------------------------------------------------------

std::string encode(const ingest_request& x) {
  return json::serialize(json::object{{"job_id", x.job_id},
                                      {"filename", x.filename},
                                      {"content_type", x.content_type},
                                      {"file_size", x.file_size},
                                      {"trace_id", x.trace_id}});
}

std::string encode(const chunk_task& x) {
  return json::serialize(json::object{{"job_id", x.job_id},
                                      {"chunk_id", x.chunk_id},
                                      {"chunk_index", x.chunk_index},
                                      {"total_chunks", x.total_chunks},
                                      {"text", x.text},
                                      {"trace_id", x.trace_id}});
}

std::string encode(const embedded_chunk& x) {
  return json::serialize(
      json::object{{"job_id", x.job_id},
                   {"chunk_id", x.chunk_id},
                   {"vector_id", x.vector_id},
                   {"model", x.model},
                   {"dimension", static_cast<int64_t>(x.vector.size())},
                   {"vector", encode_vector(x.vector)},
                   {"text", x.text}});
}

ingest_request decode_ingest(std::string_view text) {
  auto o = parse_object(text, topics::ingest);
  ingest_request x;
  x.job_id = str(o, "job_id", topics::ingest);
  x.filename = str(o, "filename", topics::ingest);
  x.content_type = str(o, "content_type", topics::ingest, false);
  x.file_size = num(o, "file_size", topics::ingest);
  x.trace_id = str(o, "trace_id", topics::ingest, false);
  return x;
}

chunk_task decode_chunk_task(std::string_view text) {
  auto o = parse_object(text, topics::chunks);
  chunk_task x;
  x.job_id = str(o, "job_id", topics::chunks);
  x.chunk_id = str(o, "chunk_id", topics::chunks);
  x.chunk_index = static_cast<int>(num(o, "chunk_index", topics::chunks));
  x.total_chunks = static_cast<int>(num(o, "total_chunks", topics::chunks));
  x.text = str(o, "text", topics::chunks);
  x.trace_id = str(o, "trace_id", topics::chunks, false);
  return x;
}

embedded_chunk decode_embedded(std::string_view text) {
  auto o = parse_object(text, topics::embedded);
  embedded_chunk x;
  x.job_id = str(o, "job_id", topics::embedded);
  x.chunk_id = str(o, "chunk_id", topics::embedded);
  x.vector_id = num(o, "vector_id", topics::embedded);
  x.model = str(o, "model", topics::embedded, false);
  auto dim = num(o, "dimension", topics::embedded);
  x.vector = decode_vector(str(o, "vector", topics::embedded));
  x.text = str(o, "text", topics::embedded, false);
  if (static_cast<int64_t>(x.vector.size()) != dim)
    throw record_error(std::string{topics::embedded} + ": dimension " +
                       std::to_string(dim) + " but the vector has " +
                       std::to_string(x.vector.size()) + " values");
  return x;
}

// -- jobs ---------------------------------------------------------------------

json::object job_json(const job_row& job) {
  json::object o{{"job_id", job.job_id},
                 {"filename", job.filename},
                 {"status", to_string(job.status)},
                 {"progress", job.progress},
                 {"total_chunks", job.total_chunks},
                 {"processed_chunks", job.processed_chunks},
                 {"created_at", job.created_at},
                 {"updated_at", job.updated_at}};
  if (job.error)
    o["error"] = *job.error;
  return o;
}

std::string encode_job(const job_row& job) {
  auto o = job_json(job);
  o["file_size"] = job.file_size;
  o["content_type"] = job.content_type;
  o["trace_id"] = job.trace_id;
  return json::serialize(o);
}

job_row decode_job(std::string_view text) {
  auto o = parse_object(text, topics::job_updates);
  job_row j;
  const char* t = topics::job_updates;
  j.job_id = str(o, "job_id", t);
  j.filename = str(o, "filename", t, false);
  auto status = str(o, "status", t);
  auto parsed = parse_job_status(status);
  if (!parsed)
    throw record_error(std::string{t} + ": unknown status " + status);
  j.status = *parsed;
  j.progress = static_cast<int>(num(o, "progress", t));
  j.total_chunks = static_cast<int>(num(o, "total_chunks", t));
  j.processed_chunks = static_cast<int>(num(o, "processed_chunks", t));
  j.created_at = str(o, "created_at", t, false);
  j.updated_at = str(o, "updated_at", t, false);
  auto err = str(o, "error", t, false);
  if (!err.empty())
    j.error = err;
  j.content_type = str(o, "content_type", t, false);
  j.trace_id = str(o, "trace_id", t, false);
  if (auto* fs = o.if_contains("file_size"); fs && fs->is_int64())
    j.file_size = fs->as_int64();
  return j;
}

} // namespace distiller::documents
