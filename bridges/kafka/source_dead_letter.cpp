#include "bridges/kafka/source_dead_letter.hpp"

#include <pthread.h>

#include <algorithm>
#include <array>
#include <string_view>

#include "runtime/logging/log.hpp"

namespace distiller::kafka {

dead_letter make_dead_letter(const in_record& rec, const std::string& topic,
                             const failure_info& why) {
  using namespace dlq_headers;
  static constexpr std::array<std::string_view, 9> ours{
      error,         attempts,         origin_topic,     origin_partition,
      origin_offset, origin_timestamp, first_failure_ts, last_failure_ts,
      bridge};
  dead_letter out;
  out.topic = topic;
  out.key = rec.key;
  out.value = rec.value;
  bool has_trace = false;
  for (auto& h : rec.headers) {
    if (std::find(ours.begin(), ours.end(), h.key) != ours.end())
      continue;
    has_trace = has_trace || h.key == trace_header;
    out.headers.push_back(h);
  }
  auto add = [&](const char* k, std::string v) {
    out.headers.push_back({k, std::move(v)});
  };
  add(error, why.error);
  add(attempts, std::to_string(why.attempts));
  add(origin_topic, rec.topic);
  add(origin_partition, std::to_string(rec.partition));
  add(origin_offset, std::to_string(rec.offset));
  add(origin_timestamp, std::to_string(rec.timestamp_ms));
  add(first_failure_ts, std::to_string(why.first_failure_ms));
  add(last_failure_ts, std::to_string(why.last_failure_ms));
  add(bridge, why.bridge);
  if (!has_trace)
    add(trace_header, rec.trace.value());
  return out;
}

// -- dead_letter_producer
// -----------------------------------------------------------

dead_letter_producer::dead_letter_producer(
    const std::string& brokers, const std::string& client_id,
    const std::map<std::string, std::string>& extra, delivery_fn on_delivery,
    std::chrono::milliseconds flush_timeout, compression_plan codecs)
    : on_delivery_(std::move(on_delivery)), flush_timeout_(flush_timeout),
      codecs_(std::move(codecs)) {
  std::map<std::string, std::string> props{
      {"bootstrap.servers", brokers},
      {"client.id", client_id},
      {"enable.idempotence", "true"},
      {"acks", "all"},
      {"linger.ms", "5"},
      {"compression.codec", to_string(codecs_.plan().fallback)},
  };
  for (auto& [k, v] : extra)
    props[k] = v;
  auto conf = make_conf(props);
  forward_logs(conf.get());
  rd_kafka_conf_set_opaque(conf.get(), this);
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &dead_letter_producer::on_dr);
  rk_ = make_client(RD_KAFKA_PRODUCER, std::move(conf));
  poller_ = std::thread{[this, client_id] {
    pthread_setname_np(pthread_self(), client_id.substr(0, 15).c_str());
    while (!stop_)
      rd_kafka_poll(rk_.get(), 100);
  }};
}

dead_letter_producer::~dead_letter_producer() {
  stop_ = true;
  poller_.join();
  auto err =
      rd_kafka_flush(rk_.get(), static_cast<int>(flush_timeout_.count()));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    log::warn("dead_letters_dropped",
              {{"pending", rd_kafka_outq_len(rk_.get())},
               {"reason", rd_kafka_err2str(err)}});
}

caf::error dead_letter_producer::write(uint64_t token,
                                       const dead_letter& letter) {
  headers_ptr hdrs{rd_kafka_headers_new(letter.headers.size())};
  for (auto& h : letter.headers)
    rd_kafka_header_add(hdrs.get(), h.key.data(),
                        static_cast<ssize_t>(h.key.size()), h.value.data(),
                        static_cast<ssize_t>(h.value.size()));
  rd_kafka_topic_t* rkt = nullptr;
  try {
    rkt = codecs_.handle(rk_.get(), letter.topic);
  } catch (const std::exception& e) {
    return caf::make_error(errc::produce_failed,
                           "dead letter to " + letter.topic + ": " + e.what());
  }
  rd_kafka_vu_t vus[6];
  size_t n = 0;
  // By handle when the topic has a codec of its own, else by name.
  if (rkt != nullptr) {
    vus[n].vtype = RD_KAFKA_VTYPE_RKT;
    vus[n++].u.rkt = rkt;
  } else {
    vus[n].vtype = RD_KAFKA_VTYPE_TOPIC;
    vus[n++].u.cstr = letter.topic.c_str();
  }
  if (letter.key) {
    vus[n].vtype = RD_KAFKA_VTYPE_KEY;
    vus[n].u.mem.ptr = const_cast<char*>(letter.key->data());
    vus[n++].u.mem.size = letter.key->size();
  }
  vus[n].vtype = RD_KAFKA_VTYPE_VALUE;
  vus[n].u.mem.ptr = const_cast<char*>(letter.value.data());
  vus[n++].u.mem.size = letter.value.size();
  vus[n].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
  vus[n++].u.i = RD_KAFKA_MSG_F_COPY;
  vus[n].vtype = RD_KAFKA_VTYPE_HEADERS;
  vus[n++].u.headers = hdrs.get();
  vus[n].vtype = RD_KAFKA_VTYPE_OPAQUE;
  vus[n++].u.ptr = reinterpret_cast<void*>(token);
  auto err = RD_KAFKA_RESP_ERR_NO_ERROR;
  if (auto* error = rd_kafka_produceva(rk_.get(), vus, n)) {
    err = rd_kafka_error_code(error);
    rd_kafka_error_destroy(error);
  }
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    return from_rdkafka(err, "produce dead letter to " + letter.topic);
  // librdkafka owns the headers once the message is enqueued.
  (void)hdrs.release();
  return caf::none;
}

void dead_letter_producer::on_dr(rd_kafka_t*, const rd_kafka_message_t* msg,
                                 void* opaque) {
  auto* self = static_cast<dead_letter_producer*>(opaque);
  auto token = reinterpret_cast<uint64_t>(msg->_private);
  self->on_delivery_(token, from_rdkafka(msg->err, "dead letter delivery"));
}

} // namespace distiller::kafka
