#include "bridges/kafka/fetched_record.hpp"

#include "bridges/kafka/flat_map.hpp"

namespace distiller::kafka {

namespace {

/// Writes the trace id of a record that carries none into `out`: 32 hex
/// digits derived from its topic, partition and offset.
void derive_trace(uint64_t hash, int32_t partition, int64_t offset,
                  std::string& out) {
  static constexpr char digits[] = "0123456789abcdef";
  auto hi = mix64(hash ^ (static_cast<uint64_t>(partition) << 32));
  auto lo = mix64(hi ^ static_cast<uint64_t>(offset));
  out.resize(32);
  for (int i = 0; i < 16; ++i) {
    out[15 - i] = digits[(hi >> (4 * i)) & 0xf];
    out[31 - i] = digits[(lo >> (4 * i)) & 0xf];
  }
}

} // namespace

uint64_t topic_hash(std::string_view topic) noexcept {
  // FNV-1a.
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : topic)
    h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

void fill_record(in_record& r, const std::string& topic, uint64_t hash,
                 const rd_kafka_message_t* m) {
  r.topic = topic;
  r.partition = m->partition;
  r.offset = m->offset;
  r.attempt = 1;
  if (m->key == nullptr)
    r.key.reset();
  else if (r.key)
    r.key->assign(static_cast<const char*>(m->key), m->key_len);
  else
    r.key.emplace(static_cast<const char*>(m->key), m->key_len);
  if (m->payload != nullptr)
    r.value.assign(static_cast<const char*>(m->payload), m->len);
  else
    r.value.clear();
  rd_kafka_timestamp_type_t tstype;
  r.timestamp_ms = rd_kafka_message_timestamp(m, &tstype);
  auto& trace = r.trace.value();
  trace.clear();
  size_t count = 0;
  rd_kafka_headers_t* hdrs = nullptr;
  if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char* name = nullptr;
    const void* val = nullptr;
    size_t size = 0;
    for (; rd_kafka_header_get_all(hdrs, count, &name, &val, &size) ==
           RD_KAFKA_RESP_ERR_NO_ERROR;
         ++count) {
      if (count == r.headers.size())
        r.headers.emplace_back();
      auto& h = r.headers[count];
      h.key.assign(name);
      if (val != nullptr)
        h.value.assign(static_cast<const char*>(val), size);
      else
        h.value.clear();
      if (trace.empty() && h.key == trace_header && !h.value.empty())
        trace.assign(h.value);
    }
  }
  r.headers.resize(count);
  if (trace.empty())
    derive_trace(hash, r.partition, r.offset, trace);
}

} // namespace distiller::kafka
