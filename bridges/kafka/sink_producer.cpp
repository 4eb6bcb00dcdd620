// The sink's producer side (sink_state.hpp): the librdkafka properties of a
// sink_config, enqueueing one record, and the callbacks that hand delivery
// reports and fatal errors to the actor.

#include <stdexcept>
#include <utility>

#include "bridges/kafka/sink_state.hpp"
#include "runtime/logging/log.hpp"

namespace distiller::kafka {

// -- configuration ------------------------------------------------------------

namespace {

[[noreturn]] void bad_option(const std::string& option,
                             const std::string& why) {
  throw std::invalid_argument("sink." + option + ": " + why);
}

} // namespace

std::map<std::string, std::string> producer_properties(const sink_config& cfg) {
  if (cfg.brokers.empty())
    bad_option("brokers", "must not be empty");
  if (cfg.batch_size <= 0)
    bad_option("batch_size", "must be positive");
  if (cfg.linger.count() < 0)
    bad_option("linger", "must not be negative");
  if (cfg.delivery_timeout.count() <= 0)
    bad_option("delivery_timeout", "must be positive");
  if (cfg.shutdown_timeout.count() < 0)
    bad_option("shutdown_timeout", "must not be negative");
  std::map<std::string, std::string> props{
      {"bootstrap.servers", cfg.brokers},
      {"client.id", cfg.client_id},
      {"enable.idempotence", "true"},
      {"acks", "all"},
      {"compression.codec", to_string(cfg.codecs.fallback)},
      {"linger.ms", std::to_string(cfg.linger.count())},
      {"batch.size", std::to_string(cfg.batch_size)},
      {"delivery.timeout.ms", std::to_string(cfg.delivery_timeout.count())},
  };
  for (auto& [key, value] :
       partitioner_properties(cfg.partitioner, cfg.linger.count()))
    props[key] = value;
  for (auto& [key, value] : cfg.extra) {
    if ((key == "acks" || key == "request.required.acks") && value != "all" &&
        value != "-1")
      bad_option("extra." + key, "the sink always produces with acks=all");
    if (key == "enable.idempotence" && value != "true")
      bad_option("extra." + key, "the sink is always idempotent");
    if (key == "delivery.report.only.error" && value != "false")
      bad_option("extra." + key,
                 "the sink answers requests from delivery reports");
    if (key == "transactional.id")
      bad_option("extra." + key,
                 "use transactional_stage for transactional producing");
    props[key] = value;
  }
  return props;
}

// -- producing ----------------------------------------------------------------

rd_kafka_resp_err_t enqueue_record(rd_kafka_t* rk, const out_record& rec,
                                   void* msg_opaque, rd_kafka_topic_t* rkt) {
  auto with_trace = !rec.trace.value().empty();
  headers_ptr hdrs{rd_kafka_headers_new(rec.headers.size() + 1)};
  for (auto& h : rec.headers) {
    if (with_trace && h.key == trace_header)
      continue;
    rd_kafka_header_add(hdrs.get(), h.key.data(),
                        static_cast<ssize_t>(h.key.size()), h.value.data(),
                        static_cast<ssize_t>(h.value.size()));
  }
  if (with_trace)
    rd_kafka_header_add(hdrs.get(), trace_header, -1, rec.trace.value().data(),
                        static_cast<ssize_t>(rec.trace.value().size()));
  rd_kafka_vu_t vus[7];
  size_t n = 0;
  if (rkt != nullptr) {
    vus[n].vtype = RD_KAFKA_VTYPE_RKT;
    vus[n++].u.rkt = rkt;
  } else {
    vus[n].vtype = RD_KAFKA_VTYPE_TOPIC;
    vus[n++].u.cstr = rec.topic.c_str();
  }
  vus[n].vtype = RD_KAFKA_VTYPE_VALUE;
  vus[n].u.mem.ptr = const_cast<char*>(rec.value.data());
  vus[n++].u.mem.size = rec.value.size();
  if (rec.key) {
    vus[n].vtype = RD_KAFKA_VTYPE_KEY;
    vus[n].u.mem.ptr = const_cast<char*>(rec.key->data());
    vus[n++].u.mem.size = rec.key->size();
  }
  vus[n].vtype = RD_KAFKA_VTYPE_PARTITION;
  vus[n++].u.i32 = rec.partition.value_or(RD_KAFKA_PARTITION_UA);
  vus[n].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
  vus[n++].u.i = RD_KAFKA_MSG_F_COPY;
  vus[n].vtype = RD_KAFKA_VTYPE_OPAQUE;
  vus[n++].u.ptr = msg_opaque;
  vus[n].vtype = RD_KAFKA_VTYPE_HEADERS;
  vus[n++].u.headers = hdrs.get();
  auto* error = rd_kafka_produceva(rk, vus, n);
  if (error == nullptr) {
    // librdkafka owns the headers now.
    static_cast<void>(hdrs.release());
    return RD_KAFKA_RESP_ERR_NO_ERROR;
  }
  auto code = rd_kafka_error_code(error);
  rd_kafka_error_destroy(error);
  return code;
}

namespace sink_detail {

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* msg, void* opaque) {
  report r;
  r.id = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(msg->_private));
  r.err = msg->err;
  r.partition = msg->partition;
  r.offset = msg->offset;
  static_cast<inbox*>(opaque)->push(r);
}

void on_error(rd_kafka_t* rk, int code, const char* reason, void* opaque) {
  auto err = static_cast<rd_kafka_resp_err_t>(code);
  if (err == RD_KAFKA_RESP_ERR__FATAL) {
    char buf[512];
    auto orig = rd_kafka_fatal_error(rk, buf, sizeof(buf));
    static_cast<inbox*>(opaque)->set_fatal(
        std::string{rd_kafka_err2name(orig)} + ": " + buf);
    return;
  }
  // Transport errors repeat on every reconnect attempt and librdkafka logs
  // them itself; other client errors are worth a warning.
  auto lvl = err == RD_KAFKA_RESP_ERR__TRANSPORT ? log::level::debug
                                                 : log::level::warn;
  if (log::enabled(lvl))
    log::write(lvl, "kafka_client_error",
               {{"client", rd_kafka_name(rk)},
                {"error", rd_kafka_err2name(err)},
                {"reason", reason}});
}

} // namespace sink_detail

} // namespace distiller::kafka
