#include "bridges/kafka_tools/producer.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <stdexcept>
#include <thread>

#include <boost/json.hpp>

#include "bridges/kafka/catalog.hpp"
#include "bridges/kafka_tools/format.hpp"
#include "runtime/core/ids.hpp"
#include "runtime/logging/log.hpp"

namespace distiller::kafka::tools {

namespace {

using steady = std::chrono::steady_clock;

double ms_between(steady::time_point a, steady::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

std::string utc_now_iso() {
  auto now = std::chrono::system_clock::now();
  auto t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

/// Per-run state the delivery callback (a C function) reaches through the
/// configuration's opaque pointer.
struct run_state {
  const std::function<void(const delivery&)>* on_delivery = nullptr;
  std::vector<steady::time_point> sent_at;
  std::vector<std::string> job_ids;
  std::vector<double> latencies;
  produce_summary* summary = nullptr;
  steady::time_point last_delivery;
};

void on_delivery_report(rd_kafka_t*, const rd_kafka_message_t* msg,
                        void* opaque) {
  auto* st = static_cast<run_state*>(opaque);
  auto now = steady::now();
  st->last_delivery = now;
  auto seq = static_cast<int64_t>(reinterpret_cast<intptr_t>(msg->_private));
  delivery d;
  d.seq = seq;
  auto idx = static_cast<size_t>(seq - 1);
  if (idx < st->job_ids.size())
    d.job_id = st->job_ids[idx];
  d.partition = msg->partition;
  d.offset = msg->offset;
  d.err = msg->err;
  if (idx < st->sent_at.size())
    d.latency_ms = ms_between(st->sent_at[idx], now);
  if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    ++st->summary->delivered;
    ++st->summary->per_partition[msg->partition];
    st->latencies.push_back(d.latency_ms);
  } else {
    ++st->summary->failed;
    if (st->summary->first_error.empty())
      st->summary->first_error = rd_kafka_err2str(msg->err);
  }
  if (*st->on_delivery)
    (*st->on_delivery)(d);
}

} // namespace

double produce_summary::messages_per_second() const noexcept {
  return seconds > 0 ? static_cast<double>(delivered) / seconds : 0;
}

double produce_summary::megabytes_per_second() const noexcept {
  return seconds > 0 ? static_cast<double>(bytes) / (1024.0 * 1024.0) / seconds
                     : 0;
}

std::string make_value(int64_t seq, const std::string& job_id, size_t size) {
  boost::json::object doc{
      {"job_id", job_id},
      {"filename", "test_document_" + std::to_string(seq) + ".pdf"},
      {"file_size", 1024 * seq},
      {"status", "pending"},
      {"sequence", seq},
      {"created_at", utc_now_iso()},
  };
  auto text = boost::json::serialize(doc);
  // ,"padding":"" adds 13 characters before any padding itself.
  constexpr size_t overhead = 13;
  if (text.size() + overhead < size) {
    doc["padding"] = std::string(size - text.size() - overhead, 'x');
    text = boost::json::serialize(doc);
  }
  return text;
}

double percentile(std::vector<double> samples, double p) {
  if (samples.empty())
    return 0;
  std::sort(samples.begin(), samples.end());
  auto rank = static_cast<size_t>(std::ceil(
      std::clamp(p, 0.0, 100.0) / 100.0 * static_cast<double>(samples.size())));
  return samples[std::clamp<size_t>(rank, 1, samples.size()) - 1];
}

compression default_codec(const kafka_config& cfg, const std::string& topic) {
  auto fallback = default_compression(cfg);
  std::error_code ec;
  if (cfg.catalog.empty() || !std::filesystem::exists(cfg.catalog, ec))
    return fallback;
  try {
    return plan_from_catalog(load_catalog(cfg.catalog), fallback)
        .codec_of(topic);
  } catch (const std::exception& e) {
    // A tool may produce anywhere; a broken catalog is `topics verify`'s
    // business, not a reason to refuse test records.
    log::warn("catalog_unreadable",
              {{"catalog", cfg.catalog}, {"error", e.what()}});
    return fallback;
  }
}

std::map<std::string, std::string>
producer_properties(const session& s, const produce_options& o) {
  auto props = s.client_properties("producer");
  props["acks"] = to_rdkafka(o.required_acks);
  props["enable.idempotence"] = o.idempotence() ? "true" : "false";
  props["compression.codec"] = to_string(o.codec);
  props["linger.ms"] = "5";
  props["message.timeout.ms"] = std::to_string(o.delivery_timeout.count());
  switch (o.partitioning) {
  case partitioner::murmur2_random:
  case partitioner::sticky:
    // Keyed records hash like the Java client; keyless ones (all of them
    // with sticky) stay on one partition per linger window.
    props["partitioner"] = "murmur2_random";
    props["sticky.partitioning.linger.ms"] = "5";
    break;
  case partitioner::random:
    props["partitioner"] = "random";
    break;
  case partitioner::round_robin:
    // Partitions are chosen explicitly.
    break;
  default:
    // Not offered by --partitioner; librdkafka's own of that name.
    for (auto& [k, v] : partitioner_properties(o.partitioning, 5))
      props[k] = v;
    break;
  }
  for (auto& [k, v] : o.properties)
    props[k] = v;
  return props;
}

caf::expected<produce_summary>
producer_run(session& s, const produce_options& o,
             const std::function<void(const delivery&)>& on_delivery,
             const std::atomic<bool>* stop,
             const std::function<void()>& on_created) {
  try {
    validate(o);
  } catch (const option_error& e) {
    return caf::make_error(errc::invalid_config, e.what());
  }
  key_pattern keys{o.key_pattern};
  int partitions = 0;
  if (auto t = s.info.find(o.topic))
    partitions = t->partition_count();
  if (o.partitioning == partitioner::round_robin && partitions < 1)
    return caf::make_error(errc::unknown_topic,
                           "--partitioner round-robin needs the partition "
                           "count of " +
                               o.topic +
                               ", which is not in the cluster; create it "
                               "first (distiller topics apply)");
  auto conf = try_make_conf(producer_properties(s, o));
  if (!conf)
    return std::move(conf.error());
  produce_summary summary;
  summary.requested = o.count;
  run_state st;
  st.on_delivery = &on_delivery;
  st.summary = &summary;
  st.sent_at.resize(static_cast<size_t>(o.count));
  st.job_ids.resize(static_cast<size_t>(o.count));
  st.latencies.reserve(static_cast<size_t>(o.count));

  forward_logs(conf->get());
  rd_kafka_conf_set_dr_msg_cb(conf->get(), on_delivery_report);
  rd_kafka_conf_set_opaque(conf->get(), &st);
  auto client = try_make_client(RD_KAFKA_PRODUCER, std::move(*conf));
  if (!client)
    return std::move(client.error());
  auto rk = std::move(*client);
  if (on_created)
    on_created();

  bool keyed = !keys.empty() && o.partitioning != partitioner::sticky;
  auto t0 = steady::now();
  st.last_delivery = t0;
  for (int64_t seq = 1; seq <= o.count; ++seq) {
    if (stop != nullptr && stop->load()) {
      summary.interrupted = true;
      break;
    }
    if (o.rate > 0) {
      auto due = t0 + std::chrono::duration_cast<steady::duration>(
                          std::chrono::duration<double>(
                              static_cast<double>(seq - 1) / o.rate));
      // Serve delivery reports while waiting for the record's slot.
      for (auto now = steady::now(); now < due; now = steady::now()) {
        auto wait =
            std::chrono::duration_cast<std::chrono::milliseconds>(due - now);
        if (wait.count() >= 1)
          rd_kafka_poll(rk.get(),
                        static_cast<int>(std::min<int64_t>(wait.count(), 100)));
        else
          std::this_thread::sleep_until(due);
      }
    }
    auto idx = static_cast<size_t>(seq - 1);
    auto key = keys.empty() ? std::string{} : keys.expand(seq, o.count);
    auto job_id = key.empty() ? "job-" + std::to_string(seq) : key;
    auto value = make_value(seq, job_id, o.value_size);
    auto trace = make_trace_id();
    st.job_ids[idx] = job_id;
    int32_t partition = RD_KAFKA_PARTITION_UA;
    if (o.partitioning == partitioner::round_robin)
      partition = static_cast<int32_t>((seq - 1) % partitions);
    for (;;) {
      st.sent_at[idx] = steady::now();
      auto err = rd_kafka_producev(
          rk.get(), RD_KAFKA_V_TOPIC(o.topic.c_str()),
          RD_KAFKA_V_PARTITION(partition),
          RD_KAFKA_V_KEY(keyed ? key.data() : nullptr, keyed ? key.size() : 0),
          RD_KAFKA_V_VALUE(value.data(), value.size()),
          RD_KAFKA_V_HEADER(trace_header, trace.value().data(),
                            static_cast<ssize_t>(trace.value().size())),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_OPAQUE(
              reinterpret_cast<void*>(static_cast<intptr_t>(seq))),
          RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        // Back-pressure: let deliveries drain the local queue.
        rd_kafka_poll(rk.get(), 50);
        continue;
      }
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        ++summary.failed;
        if (summary.first_error.empty())
          summary.first_error = rd_kafka_err2str(err);
        delivery d;
        d.seq = seq;
        d.job_id = job_id;
        d.err = err;
        if (on_delivery)
          on_delivery(d);
      } else {
        ++summary.sent;
        summary.bytes += (keyed ? key.size() : 0) + value.size();
      }
      break;
    }
    rd_kafka_poll(rk.get(), 0);
  }
  // Every record either arrives or times out (message.timeout.ms), so this
  // ends; the margin covers the last timeouts being reported.
  auto deadline = steady::now() + o.delivery_timeout + std::chrono::seconds{10};
  while (rd_kafka_outq_len(rk.get()) > 0 && steady::now() < deadline)
    rd_kafka_flush(rk.get(), 100);
  auto pending = rd_kafka_outq_len(rk.get());
  if (pending > 0) {
    summary.failed += pending;
    if (summary.first_error.empty())
      summary.first_error = "records still queued after the delivery timeout";
  }
  summary.seconds =
      std::max(ms_between(t0, std::max(st.last_delivery, t0)), 0.001) / 1000.0;
  summary.p50_ms = percentile(st.latencies, 50);
  summary.p99_ms = percentile(st.latencies, 99);
  log::info("produce_finished", {{"topic", o.topic},
                                 {"requested", summary.requested},
                                 {"delivered", summary.delivered},
                                 {"failed", summary.failed},
                                 {"duration_ms", summary.seconds * 1000}});
  // The client goes before the summary is handed out: nothing it might
  // still report can land in a summary that was already copied.
  rk.reset();
  return summary;
}

int run_produce(session& s, const produce_options& o, std::ostream& out,
                const std::atomic<bool>* stop) {
  bool per_message = o.verbose || o.count <= produce_options::verbose_limit;
  int failure_lines = 0;
  if (!o.json)
    out << ruler << "\nKAFKA PRODUCER TEST\n" << ruler << "\n";
  // Said once the client exists; a configuration it rejects is reported
  // instead, below.
  auto created = [&] {
    if (o.json)
      return;
    out << "✅ Kafka producer created (" << s.target.bootstrap
        << "; acks=" << to_string(o.required_acks)
        << ", idempotence=" << (o.idempotence() ? "on" : "off")
        << ", compression=" << to_string(o.codec)
        << ", partitioner=" << cli_name(o.partitioning) << ")\n";
    if (s.info.find(o.topic) == nullptr)
      out << "ℹ️  Topic " << o.topic
          << " does not exist yet; producing relies on the cluster's "
             "auto-creation (the embedded mock creates it with 4 "
             "partitions)\n";
    out << "📤 Sending " << o.count << " message" << (o.count == 1 ? "" : "s")
        << " to topic: " << o.topic;
    if (o.rate > 0)
      out << " at " << fixed(o.rate) << " messages/second";
    out << "\n" << std::flush;
  };
  // Per-message lines come out in record order, like the seed's
  // synchronous sends, even though partitions deliver independently: a line
  // waits until every earlier record has been reported.
  std::map<int64_t, std::string> waiting;
  int64_t next_line = 1;
  auto line_of = [&](const delivery& d) {
    bool ok = d.err == RD_KAFKA_RESP_ERR_NO_ERROR;
    if (o.json) {
      boost::json::object line{{"event", ok ? "delivered" : "failed"},
                               {"seq", d.seq},
                               {"count", o.count},
                               {"job_id", d.job_id},
                               {"partition", d.partition},
                               {"offset", d.offset},
                               {"latency_ms", d.latency_ms}};
      if (!ok)
        line["error"] = rd_kafka_err2str(d.err);
      return boost::json::serialize(line) + "\n";
    }
    if (ok)
      return "✅ Message " + std::to_string(d.seq) + "/" +
             std::to_string(o.count) + " sent: job_id=" + d.job_id +
             ", partition=" + std::to_string(d.partition) +
             ", offset=" + std::to_string(d.offset) + "\n";
    return "❌ Message " + std::to_string(d.seq) + "/" +
           std::to_string(o.count) + " failed: job_id=" + d.job_id +
           ", error=" + rd_kafka_err2str(d.err) + "\n";
  };
  auto on_delivery = [&](const delivery& d) {
    bool ok = d.err == RD_KAFKA_RESP_ERR_NO_ERROR;
    if (!per_message) {
      // Only failures, and only the first few.
      if (!ok && failure_lines++ < 20)
        out << line_of(d) << std::flush;
      return;
    }
    waiting[d.seq] = line_of(d);
    for (auto i = waiting.find(next_line); i != waiting.end();
         i = waiting.find(next_line)) {
      out << i->second;
      waiting.erase(i);
      ++next_line;
    }
    out << std::flush;
  };
  auto run = producer_run(s, o, on_delivery, stop, created);
  if (!run) {
    if (o.json)
      out << boost::json::serialize(
                 boost::json::object{{"event", "error"},
                                     {"topic", o.topic},
                                     {"error", error_text(run.error())}})
          << "\n";
    else
      out << "❌ " << error_text(run.error()) << "\n" << ruler << "\n";
    out << std::flush;
    return 1;
  }
  auto& sum = *run;
  // Records never sent (interrupted) leave gaps; print what is left.
  for (auto& [seq, line] : waiting)
    out << line;
  if (o.json) {
    boost::json::object parts;
    for (auto& [p, n] : sum.per_partition)
      parts[std::to_string(p)] = n;
    boost::json::object line{{"event", "summary"},
                             {"topic", o.topic},
                             {"requested", sum.requested},
                             {"sent", sum.sent},
                             {"delivered", sum.delivered},
                             {"failed", sum.failed},
                             {"duration_s", sum.seconds},
                             {"messages_per_second", sum.messages_per_second()},
                             {"mb_per_second", sum.megabytes_per_second()},
                             {"latency_p50_ms", sum.p50_ms},
                             {"latency_p99_ms", sum.p99_ms},
                             {"per_partition", parts},
                             {"interrupted", sum.interrupted}};
    out << boost::json::serialize(line) << "\n";
  } else {
    out << "✅ Performance Results:\n"
        << "  Total messages: " << sum.requested << "\n"
        << "  Delivered: " << sum.delivered << ", Failed: " << sum.failed
        << "\n"
        << "  Duration: " << fixed(sum.seconds) << " seconds\n"
        << "  Throughput: " << fixed(sum.messages_per_second())
        << " messages/second (" << fixed(sum.megabytes_per_second(), 3)
        << " MB/s)\n"
        << "  Delivery latency: p50=" << fixed(sum.p50_ms)
        << " ms, p99=" << fixed(sum.p99_ms) << " ms\n";
    out << "  Per partition:";
    for (auto& [p, n] : sum.per_partition)
      out << " " << p << "=" << n;
    out << "\n" << ruler << "\n";
    if (sum.interrupted)
      out << "⚠️  Interrupted after " << sum.sent << " of " << sum.requested
          << " messages\n";
    if (sum.failed > 0)
      out << "❌ " << sum.failed << " of " << sum.requested
          << " messages failed (first error: " << sum.first_error << ")\n";
    else if (!sum.interrupted)
      out << "✅ KAFKA PRODUCER TEST COMPLETE\n";
    out << ruler << "\n";
  }
  if (sum.failed > 0)
    return 1;
  return sum.interrupted ? 130 : 0;
}

} // namespace distiller::kafka::tools
