#include "actors/load/kafka_workload.hpp"

#include <algorithm>
#include <cstring>
#include <thread>
#include <vector>

#include "bridges/kafka/handles.hpp"
#include "bridges/kafka_tools/admin.hpp"
#include "bridges/kafka_tools/shutdown.hpp"

namespace distiller::load {

namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

constexpr char magic[4] = {'D', 'L', 'K', '1'};
constexpr size_t header_size = 32;

struct header {
  bool counted = false;
  /// The record sent before the clock starts to warm both clients up.
  bool probe = false;
  uint64_t tag = 0;
  uint64_t seq = 0;
  int64_t planned_ns = 0;
};

void encode(char* out, const header& h) {
  std::memcpy(out, magic, 4);
  uint32_t flags = (h.counted ? 1 : 0) | (h.probe ? 2 : 0);
  std::memcpy(out + 4, &flags, 4);
  std::memcpy(out + 8, &h.tag, 8);
  std::memcpy(out + 16, &h.seq, 8);
  std::memcpy(out + 24, &h.planned_ns, 8);
}

bool decode(const void* payload, size_t len, header& h) {
  if (payload == nullptr || len < header_size)
    return false;
  auto* p = static_cast<const char*>(payload);
  if (std::memcmp(p, magic, 4) != 0)
    return false;
  uint32_t flags = 0;
  std::memcpy(&flags, p + 4, 4);
  h.counted = (flags & 1) != 0;
  h.probe = (flags & 2) != 0;
  std::memcpy(&h.tag, p + 8, 8);
  std::memcpy(&h.seq, p + 16, 8);
  std::memcpy(&h.planned_ns, p + 24, 8);
  return true;
}

steady::time_point planned_of(const header& h) {
  return steady::time_point{std::chrono::nanoseconds{h.planned_ns}};
}

/// Which sequence numbers were consumed, over a sliding window.
class seen_window {
 public:
  static constexpr uint64_t bits = uint64_t{1} << 20;

  /// 0: new, 1: a duplicate, 2: older than the window (not checked).
  int add(uint64_t s) {
    if (s < lo_)
      return 2;
    if (s >= lo_ + bits) {
      auto new_lo = s - bits + 1;
      for (auto x = lo_; x < new_lo && x < lo_ + bits; ++x)
        words_[(x % bits) / 64] &= ~(uint64_t{1} << (x % 64));
      lo_ = new_lo;
    }
    auto& w = words_[(s % bits) / 64];
    auto bit = uint64_t{1} << (s % 64);
    if (w & bit)
      return 1;
    w |= bit;
    return 0;
  }

 private:
  std::vector<uint64_t> words_ = std::vector<uint64_t>(bits / 64);
  uint64_t lo_ = 0;
};

error_class class_of(rd_kafka_resp_err_t err) {
  switch (err) {
  case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
  case RD_KAFKA_RESP_ERR__TIMED_OUT:
  case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
  case RD_KAFKA_RESP_ERR__PURGE_QUEUE:
  case RD_KAFKA_RESP_ERR__PURGE_INFLIGHT:
    return error_class::timeout;
  case RD_KAFKA_RESP_ERR__TRANSPORT:
  case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
  case RD_KAFKA_RESP_ERR__RESOLVE:
    return error_class::connect;
  default:
    return error_class::kafka;
  }
}

/// Shared by the producer's delivery reports (calling thread) and the
/// consumer thread.
struct shared {
  recorder& rec;
  uint64_t tag = 0;
  std::atomic<int64_t> in_flight{0};
  std::atomic<uint64_t> delivered{0};
  std::atomic<uint64_t> consumed{0};
  std::atomic<uint64_t> duplicates{0};
  std::atomic<uint64_t> too_old{0};
  std::atomic<uint64_t> foreign{0};
  std::atomic<uint64_t> consumer_errors{0};
  std::atomic<bool> stop_consumer{false};
  std::atomic<bool> probe_seen{false};
};

extern "C" void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m,
                            void* opaque) {
  auto& st = *static_cast<shared*>(opaque);
  auto now = steady::now();
  --st.in_flight;
  header h;
  if (!decode(m->payload, m->len, h) || !h.counted)
    return;
  if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    st.rec.error(class_of(m->err), now, 0, rd_kafka_err2name(m->err));
    return;
  }
  ++st.delivered;
  st.rec.ok(now);
  st.rec.latency(1, now - planned_of(h), now);
}

void consume_loop(rd_kafka_t* rk, shared& st) {
  seen_window seen;
  while (!st.stop_consumer.load()) {
    kafka::message_ptr m{rd_kafka_consumer_poll(rk, 100)};
    if (!m)
      continue;
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
        ++st.consumer_errors;
      continue;
    }
    auto now = steady::now();
    header h;
    if (!decode(m->payload, m->len, h) || h.tag != st.tag) {
      ++st.foreign;
      continue;
    }
    if (h.probe) {
      st.probe_seen = true;
      continue;
    }
    auto verdict = seen.add(h.seq);
    if (verdict == 1) {
      ++st.duplicates;
      continue;
    }
    if (verdict == 2)
      ++st.too_old;
    if (!h.counted)
      continue;
    ++st.consumed;
    st.rec.latency(0, now - planned_of(h), now);
  }
}

uint64_t tag_of(const std::string& run_id) {
  // FNV-1a of the run id: records of other runs in a reused topic differ.
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : run_id)
    h = (h ^ c) * 1099511628211ull;
  return h;
}

/// The topic, created or auto-created when missing; its partition count.
int prepare_topic(kafka::tools::session& s, const std::string& topic,
                  const kafka_load_options& o, bool& created) {
  created = false;
  if (s.info.find(topic) == nullptr) {
    if (s.admin_api()) {
      auto r = kafka::tools::create_topics(s.client->handle(),
                                           {{topic, o.partitions, 1, {}}}, 30s);
      if (!r.empty() && !r[0].ok() &&
          r[0].err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
        throw std::runtime_error("cannot create topic " + topic + ": " +
                                 r[0].message);
      created = true;
    } else {
      // The embedded cluster (librdkafka's mock) has no CreateTopics but
      // creates a topic a Metadata request names.
      kafka::topic_ptr rkt{
          rd_kafka_topic_new(s.client->handle(), topic.c_str(), nullptr)};
      const rd_kafka_metadata_t* raw = nullptr;
      if (rd_kafka_metadata(s.client->handle(), 0, rkt.get(), &raw, 5000) ==
          RD_KAFKA_RESP_ERR_NO_ERROR)
        kafka::metadata_ptr md{raw};
    }
  }
  auto until = steady::now() + 30s;
  while (steady::now() < until) {
    s.refresh(5s);
    if (auto* t = s.info.find(topic); t && t->partition_count() > 0) {
      bool leaders = std::all_of(t->partitions.begin(), t->partitions.end(),
                                 [](auto& p) { return p.leader >= 0; });
      if (leaders)
        return t->partition_count();
    }
    std::this_thread::sleep_for(200ms);
  }
  throw std::runtime_error("topic " + topic +
                           " did not appear in the cluster's metadata");
}

} // namespace

kafka_run run_kafka(kafka::tools::session& s, const kafka_load_options& o,
                    recorder& rec, const http_run_settings& settings) {
  kafka_run out;
  auto topic = o.topic.empty() ? "load-" + o.run_id : o.topic;
  bool created = false;
  int partitions = prepare_topic(s, topic, o, created);

  shared st{rec};
  st.tag = tag_of(o.run_id);

  // -- producer
  auto pprops = s.client_properties("load-producer");
  pprops["acks"] = o.acks;
  pprops["enable.idempotence"] = o.acks == "all" ? "true" : "false";
  pprops["linger.ms"] = "5";
  pprops["message.timeout.ms"] = std::to_string(std::max<int64_t>(
      1000,
      std::chrono::duration_cast<std::chrono::milliseconds>(settings.timeout)
          .count()));
  pprops["queue.buffering.max.messages"] = "1000000";
  auto pconf = kafka::make_conf(pprops);
  rd_kafka_conf_set_dr_msg_cb(pconf.get(), on_delivery);
  rd_kafka_conf_set_opaque(pconf.get(), &st);
  kafka::forward_logs(pconf.get(), true);
  auto producer = kafka::make_client(RD_KAFKA_PRODUCER, std::move(pconf));

  // -- consumer: every partition from its current end
  auto cprops = s.client_properties("load-consumer");
  cprops["group.id"] = "distiller-load-" + o.run_id;
  cprops["enable.auto.commit"] = "false";
  cprops["enable.partition.eof"] = "false";
  cprops["fetch.wait.max.ms"] = "10";
  cprops["auto.offset.reset"] = "earliest";
  auto cconf = kafka::make_conf(cprops);
  kafka::forward_logs(cconf.get(), true);
  auto consumer = kafka::make_client(RD_KAFKA_CONSUMER, std::move(cconf));
  rd_kafka_poll_set_consumer(consumer.get());
  kafka::topic_partition_list_ptr assignment{
      rd_kafka_topic_partition_list_new(partitions)};
  for (int p = 0; p < partitions; ++p) {
    auto wm = s.client->query_watermarks(topic, p, 10s);
    if (!wm)
      throw std::runtime_error("watermarks of " + topic + "/" +
                               std::to_string(p) + ": " +
                               kafka::error_text(wm.error()));
    rd_kafka_topic_partition_list_add(assignment.get(), topic.c_str(), p)
        ->offset = wm->high;
  }
  if (auto err = rd_kafka_assign(consumer.get(), assignment.get()))
    throw std::runtime_error(std::string{"assign: "} + rd_kafka_err2str(err));
  std::thread consumer_thread{[&] {
    consume_loop(consumer.get(), st);
  }};

  // One probe record through producer and consumer before the clock
  // starts: connecting, the idempotent producer's id and the first fetch
  // would otherwise be charged to the first second's records.
  {
    std::string probe(header_size, 'p');
    encode(probe.data(), header{false, true, st.tag, 0, 0});
    ++st.in_flight;
    if (rd_kafka_producev(producer.get(), RD_KAFKA_V_TOPIC(topic.c_str()),
                          RD_KAFKA_V_VALUE(probe.data(), probe.size()),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                          RD_KAFKA_V_END) != RD_KAFKA_RESP_ERR_NO_ERROR)
      --st.in_flight;
    auto until = steady::now() + 30s;
    while (!st.probe_seen && steady::now() < until &&
           !(settings.stop && settings.stop->load()))
      rd_kafka_poll(producer.get(), 10);
    if (!st.probe_seen) {
      st.stop_consumer = true;
      consumer_thread.join();
      throw std::runtime_error("a probe record produced to " + topic +
                               " was not consumed within 30 s");
    }
  }

  // -- the schedule
  auto start = steady::now();
  schedule sched{settings.sched, start};
  out.times.start = start;
  out.times.measure_start = sched.measure_start();
  rec.start(out.times.measure_start);
  progress view{settings.progress, settings.command,
                std::chrono::duration<double>(settings.sched.duration).count(),
                settings.sched.count};
  std::string value(std::max<uint64_t>(o.size, header_size), 'x');
  bool issuing = true;
  auto deadline = steady::time_point::max();
  steady::time_point last_counted{};
  bool any_counted = false;
  uint64_t warmup_sent = 0, queue_errors = 0;
  auto stop_issuing = [&](steady::time_point now, bool interrupted) {
    issuing = false;
    auto& so = settings.sched;
    if (interrupted) {
      out.times.interrupted = true;
      out.times.duration_s =
          std::chrono::duration<double>(now - out.times.measure_start).count();
      deadline = now + 2s;
      return;
    }
    if (so.duration.count() > 0 &&
        (so.count == 0 || sched.issued_counted() < so.count))
      out.times.duration_s = std::chrono::duration<double>(so.duration).count();
    else if (any_counted)
      out.times.duration_s =
          std::chrono::duration<double>(last_counted - out.times.measure_start)
              .count() +
          (so.closed ? 0.0 : 1.0 / so.rate);
    deadline = std::min(now, sched.measure_end()) + settings.drain;
  };
  auto last_tick = steady::time_point{};
  while (true) {
    auto now = steady::now();
    if (issuing && settings.stop && settings.stop->load())
      stop_issuing(now, true);
    if (issuing) {
      for (int burst = 0; burst < 10000; ++burst) {
        auto slot = sched.next_due(
            now, static_cast<int>(std::max<int64_t>(0, st.in_flight.load())));
        if (!slot)
          break;
        sched.issued(*slot);
        header h{slot->counted, false, st.tag, slot->index,
                 std::chrono::duration_cast<std::chrono::nanoseconds>(
                     slot->planned.time_since_epoch())
                     .count()};
        encode(value.data(), h);
        if (slot->counted) {
          rec.sent(now);
          last_counted = slot->planned;
          any_counted = true;
        } else {
          ++warmup_sent;
        }
        ++st.in_flight;
        auto err = rd_kafka_producev(
            producer.get(), RD_KAFKA_V_TOPIC(topic.c_str()),
            RD_KAFKA_V_VALUE(value.data(), value.size()),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
          --st.in_flight;
          ++queue_errors;
          if (slot->counted)
            rec.error(class_of(err), now, 0, rd_kafka_err2name(err));
        }
      }
      if (sched.exhausted(now))
        stop_issuing(now, false);
    }
    rd_kafka_poll(producer.get(), 0);
    if (now - last_tick >= 100ms) {
      last_tick = now;
      rec.tick(now);
      const char* phase = now < out.times.measure_start ? "warm-up"
                          : issuing                     ? "running"
                                                        : "draining";
      uint64_t waiting = 0;
      if (!issuing) {
        auto delivered = st.delivered.load();
        auto consumed = st.consumed.load();
        waiting = static_cast<uint64_t>(std::max<int64_t>(0, st.in_flight)) +
                  (delivered > consumed ? delivered - consumed : 0);
      }
      view.update(rec.snapshot(now), phase, waiting, now);
      if (!issuing && (waiting == 0 || now >= deadline))
        break;
    }
    // Sleep until the next planned record, serving delivery reports.
    auto next = issuing ? sched.next_time() : std::nullopt;
    auto until = now + 5ms;
    if (next && *next < until)
      until = *next;
    auto wait = until - steady::now();
    if (wait > 1ms)
      rd_kafka_poll(
          producer.get(),
          static_cast<int>(
              std::chrono::duration_cast<std::chrono::milliseconds>(wait)
                  .count()));
    else if (wait > 0ns)
      std::this_thread::sleep_for(wait);
  }
  // What is still queued or in flight counts as timed out.
  rd_kafka_purge(producer.get(),
                 RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  rd_kafka_poll(producer.get(), 100);
  st.stop_consumer = true;
  consumer_thread.join();
  auto end = steady::now();
  rec.finish(end);
  view.done();
  rd_kafka_assign(consumer.get(), nullptr);
  rd_kafka_consumer_close(consumer.get());
  kafka::tools::destroy_closed_consumer(std::move(consumer), 10s);
  producer.reset();

  bool deleted = false;
  if (created && !o.keep_topic && o.topic.empty() && s.admin_api()) {
    auto r = kafka::tools::delete_topics(s.client->handle(), {topic}, 30s);
    deleted = !r.empty() && r[0].ok();
  }

  out.times.warmup_sent = warmup_sent;
  auto delivered = st.delivered.load();
  auto consumed = st.consumed.load();
  double secs = out.times.duration_s;
  auto& f = out.fields;
  f["topic"] = topic;
  f["partitions"] = partitions;
  f["topic_created"] = created || o.topic.empty();
  f["topic_deleted"] = deleted;
  f["delivered"] = delivered;
  f["consumed"] = consumed;
  f["missing"] = delivered > consumed ? delivered - consumed : 0;
  f["duplicates"] = st.duplicates.load();
  f["unchecked_old"] = st.too_old.load();
  f["foreign_records"] = st.foreign.load();
  f["consumer_errors"] = st.consumer_errors.load();
  f["produce_refused"] = queue_errors;
  f["records_per_second"] =
      secs > 0 ? static_cast<double>(consumed) / secs : 0.0;
  f["mb_per_second"] = secs > 0
                           ? static_cast<double>(consumed) *
                                 static_cast<double>(value.size()) / secs / 1e6
                           : 0.0;
  auto& c = out.config;
  c["topic"] = topic;
  c["partitions"] = o.partitions;
  c["size"] = value.size();
  c["acks"] = o.acks;
  c["brokers"] = s.target.bootstrap;
  c["embedded"] = s.target.from_node;
  return out;
}

} // namespace distiller::load
