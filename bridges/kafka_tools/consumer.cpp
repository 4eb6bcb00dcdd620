#include "bridges/kafka_tools/consumer.hpp"

#include <algorithm>
#include <cstring>
#include <optional>
#include <set>
#include <stdexcept>

#include <boost/json.hpp>

#include "bridges/kafka/fetched_record.hpp"
#include "bridges/kafka_tools/cluster.hpp"
#include "bridges/kafka_tools/format.hpp"
#include "bridges/kafka_tools/shutdown.hpp"
#include "runtime/logging/log.hpp"

namespace distiller::kafka::tools {

namespace {

using steady = std::chrono::steady_clock;

/// Records taken from librdkafka's queue per batch before committing.
constexpr int batch_limit = 500;

double seconds_between(steady::time_point a, steady::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

/// Run state the rebalance callback (a C function) reaches through the
/// configuration's opaque pointer.
struct run_state {
  const consume_options* o = nullptr;
  const consume_callbacks* cb = nullptr;
  consume_summary* summary = nullptr;
  std::map<std::string, std::set<int32_t>> owned;
  steady::time_point idle_since;
  /// Offsets stored since the last manual commit.
  int64_t uncommitted = 0;
};

std::map<std::string, std::vector<int32_t>>
by_topic(const rd_kafka_topic_partition_list_t* parts) {
  std::map<std::string, std::vector<int32_t>> result;
  for (int i = 0; parts != nullptr && i < parts->cnt; ++i)
    result[parts->elems[i].topic].push_back(parts->elems[i].partition);
  for (auto& [t, ps] : result)
    std::sort(ps.begin(), ps.end());
  return result;
}

/// Commits the stored offsets synchronously (manual mode).
void commit_stored(rd_kafka_t* rk, run_state& st) {
  if (st.uncommitted == 0)
    return;
  auto err = rd_kafka_commit(rk, nullptr, 0);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR ||
      err == RD_KAFKA_RESP_ERR__NO_OFFSET) {
    ++st.summary->commits;
    st.uncommitted = 0;
    return;
  }
  ++st.summary->failed_commits;
  log::warn("commit_failed",
            {{"group", st.o->group}, {"error", rd_kafka_err2str(err)}});
  if (st.cb->on_error)
    st.cb->on_error(std::string{"commit failed: "} + rd_kafka_err2str(err));
}

void call_and_log_error(rd_kafka_error_t* error, const char* what) {
  if (error == nullptr)
    return;
  log::warn("rebalance_failed",
            {{"step", what}, {"error", rd_kafka_error_string(error)}});
  rd_kafka_error_destroy(error);
}

void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                  rd_kafka_topic_partition_list_t* parts, void* opaque) {
  auto& st = *static_cast<run_state*>(opaque);
  bool cooperative =
      std::strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
  assignment_change change;
  change.partitions = by_topic(parts);
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    change.assigned = true;
    if (cooperative)
      call_and_log_error(rd_kafka_incremental_assign(rk, parts),
                         "incremental_assign");
    else
      rd_kafka_assign(rk, parts);
    if (!cooperative)
      st.owned.clear();
    for (auto& [t, ps] : change.partitions)
      st.owned[t].insert(ps.begin(), ps.end());
  } else {
    change.assigned = false;
    // What was processed on these partitions is committed before another
    // member takes them over (auto mode: librdkafka does the same).
    if (st.o->commit == commit_mode::manual)
      commit_stored(rk, st);
    if (err != RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
      log::warn("rebalance_error", {{"error", rd_kafka_err2str(err)}});
      if (st.cb->on_error)
        st.cb->on_error(std::string{"rebalance: "} + rd_kafka_err2str(err));
    }
    if (cooperative)
      call_and_log_error(rd_kafka_incremental_unassign(rk, parts),
                         "incremental_unassign");
    else
      rd_kafka_assign(rk, nullptr);
    if (!cooperative || err != RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS)
      st.owned.clear();
    else
      for (auto& [t, ps] : change.partitions)
        for (auto p : ps)
          st.owned[t].erase(p);
  }
  for (auto& [t, ps] : st.owned)
    if (!ps.empty())
      change.owned[t].assign(ps.begin(), ps.end());
  log::info(change.assigned ? "partitions_assigned" : "partitions_revoked",
            {{"group", st.o->group},
             {"member", st.o->id},
             {"count", parts != nullptr ? parts->cnt : 0},
             {"protocol", rd_kafka_rebalance_protocol(rk)}});
  st.idle_since = steady::now();
  if (st.cb->on_rebalance)
    st.cb->on_rebalance(change);
}

} // namespace

double consume_summary::messages_per_second() const noexcept {
  auto window = active_seconds > 0.001 ? active_seconds : seconds;
  return window > 0 ? static_cast<double>(processed) / window : 0;
}

std::map<std::string, std::string>
consumer_properties(const session& s, const consume_options& o) {
  auto props = s.client_properties("consumer");
  if (!o.id.empty())
    props["client.id"] = o.id;
  props["group.id"] = o.group;
  props["auto.offset.reset"] = o.from_beginning ? "earliest" : "latest";
  props["enable.auto.commit"] =
      o.commit == commit_mode::automatic ? "true" : "false";
  // Offsets are stored after processing, never when handed out.
  props["enable.auto.offset.store"] = "false";
  props["partition.assignment.strategy"] = to_string(o.strategy);
  props["session.timeout.ms"] = std::to_string(o.session_timeout.count());
  props["heartbeat.interval.ms"] =
      std::to_string(std::max<int64_t>(o.session_timeout.count() / 3, 100));
  // allow.auto.create.topics stays at librdkafka's default (false):
  // setting it explicitly makes librdkafka warn on every metadata refresh
  // against the mock, which ignores it anyway.
  for (auto& [k, v] : o.properties)
    props[k] = v;
  return props;
}

caf::expected<consume_summary> consumer_run(const session& s,
                                            const consume_options& o,
                                            const consume_callbacks& cb,
                                            const std::atomic<bool>* stop) {
  try {
    validate(o);
  } catch (const option_error& e) {
    return caf::make_error(errc::invalid_config, e.what());
  }
  consume_summary summary;
  run_state st;
  st.o = &o;
  st.cb = &cb;
  st.summary = &summary;
  auto conf = try_make_conf(consumer_properties(s, o));
  if (!conf)
    return std::move(conf.error());
  forward_logs(conf->get());
  rd_kafka_conf_set_rebalance_cb(conf->get(), on_rebalance);
  rd_kafka_conf_set_opaque(conf->get(), &st);
  auto client = try_make_client(RD_KAFKA_CONSUMER, std::move(*conf));
  if (!client)
    return std::move(client.error());
  auto rk = std::move(*client);
  rd_kafka_poll_set_consumer(rk.get());
  topic_partition_list_ptr topics{
      rd_kafka_topic_partition_list_new(static_cast<int>(o.topics.size()))};
  for (auto& t : o.topics)
    rd_kafka_topic_partition_list_add(topics.get(), t.c_str(),
                                      RD_KAFKA_PARTITION_UA);
  if (auto err = rd_kafka_subscribe(rk.get(), topics.get());
      err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    rd_kafka_consumer_close(rk.get());
    destroy_closed_consumer(std::move(rk));
    return rdkafka_error(err, "group " + o.group + " cannot subscribe");
  }
  if (cb.on_subscribed)
    cb.on_subscribed();
  log::info("consumer_started", {{"group", o.group},
                                 {"member", o.id},
                                 {"commit", to_string(o.commit)},
                                 {"assignment", to_string(o.strategy)}});
  auto t0 = steady::now();
  st.idle_since = t0;
  steady::time_point first_record{}, last_record{};
  // One record, refilled for every message: its strings keep their capacity.
  in_record rec;
  auto handle = [&](message_ptr msg) {
    if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
        return;
      ++summary.errors;
      std::string text = rd_kafka_message_errstr(msg.get());
      log::warn("consume_error", {{"group", o.group}, {"error", text}});
      if (cb.on_error)
        cb.on_error(text);
      return;
    }
    std::string topic = rd_kafka_topic_name(msg->rkt);
    fill_record(rec, topic, topic_hash(topic), msg.get());
    if (cb.on_record)
      cb.on_record(rec);
    ++summary.processed;
    ++summary.per_partition[rec.topic][rec.partition];
    summary.bytes += msg->len + msg->key_len;
    last_record = steady::now();
    if (summary.processed == 1)
      first_record = last_record;
    // Store processed+1 so the commit points at the next record to read.
    topic_partition_list_ptr done{rd_kafka_topic_partition_list_new(1)};
    rd_kafka_topic_partition_list_add(done.get(), rec.topic.c_str(),
                                      rec.partition)
        ->offset = rec.offset + 1;
    if (rd_kafka_offsets_store(rk.get(), done.get()) ==
        RD_KAFKA_RESP_ERR_NO_ERROR)
      ++st.uncommitted;
  };
  auto max_reached = [&] {
    return (o.max > 0 && summary.processed >= o.max) || (cb.done && cb.done());
  };
  for (;;) {
    if (stop != nullptr && stop->load()) {
      summary.reason = stop_reason::interrupted;
      break;
    }
    if (o.max > 0 && summary.processed >= o.max) {
      summary.reason = stop_reason::max_reached;
      break;
    }
    if (cb.done && cb.done()) {
      summary.reason = stop_reason::done;
      break;
    }
    if (o.idle_timeout.count() > 0 &&
        steady::now() - st.idle_since >= o.idle_timeout) {
      summary.reason = stop_reason::idle;
      break;
    }
    message_ptr msg{rd_kafka_consumer_poll(rk.get(), 100)};
    if (!msg)
      continue;
    handle(std::move(msg));
    // The rest of what librdkafka has fetched already forms the batch.
    for (int n = 1; n < batch_limit && !max_reached(); ++n) {
      message_ptr more{rd_kafka_consumer_poll(rk.get(), 0)};
      if (!more)
        break;
      handle(std::move(more));
    }
    if (o.commit == commit_mode::manual)
      commit_stored(rk.get(), st);
    st.idle_since = steady::now();
  }
  if (o.commit == commit_mode::manual)
    commit_stored(rk.get(), st);
  leave_group(rk.get(), [&] {
    return std::any_of(st.owned.begin(), st.owned.end(),
                       [](auto& kv) { return !kv.second.empty(); });
  });
  if (auto err = rd_kafka_consumer_close(rk.get());
      err != RD_KAFKA_RESP_ERR_NO_ERROR)
    log::warn("consumer_close_failed", {{"error", rd_kafka_err2str(err)}});
  destroy_closed_consumer(std::move(rk));
  summary.seconds = seconds_between(t0, steady::now());
  if (summary.processed > 1)
    summary.active_seconds = seconds_between(first_record, last_record);
  log::info("consumer_stopped", {{"group", o.group},
                                 {"member", o.id},
                                 {"processed", summary.processed},
                                 {"errors", summary.errors}});
  return summary;
}

std::vector<std::string> summarize_value(const std::string& value) {
  std::vector<std::string> lines;
  boost::system::error_code ec;
  auto doc = boost::json::parse(value, ec);
  if (!ec && doc.is_object()) {
    auto& obj = doc.as_object();
    auto text = [&](const char* key) -> std::optional<std::string> {
      auto v = obj.if_contains(key);
      if (v == nullptr)
        return std::nullopt;
      if (v->is_string())
        return std::string{v->as_string()};
      return boost::json::serialize(*v);
    };
    if (auto v = text("job_id"))
      lines.push_back("Job ID: " + *v);
    if (auto v = text("filename"))
      lines.push_back("Filename: " + *v);
    if (auto v = text("file_size"))
      lines.push_back("File size: " + *v + " bytes");
    if (!lines.empty())
      return lines;
  }
  std::string shown;
  for (char c : value.substr(0, 80))
    shown += (c >= 32 && c < 127) ? c : '.';
  lines.push_back("Value: " + shown + (value.size() > 80 ? "…" : "") + " (" +
                  std::to_string(value.size()) + " bytes)");
  return lines;
}

int run_consume(const session& s, const consume_options& o, std::ostream& out,
                const std::atomic<bool>* stop) {
  auto name = o.id.empty() ? std::string{"consumer"} : o.id;
  std::string upper;
  for (char c : name)
    upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string topics_text;
  for (auto& t : o.topics)
    topics_text += (topics_text.empty() ? "" : ", ") + t;
  out << ruler << "\nKAFKA CONSUMER TEST - " << upper << "\n"
      << ruler << "\n"
      << std::flush;
  consume_callbacks cb;
  // Said once the client exists and subscribed; what stops it is reported
  // instead, below.
  cb.on_subscribed = [&] {
    out << "✅ Kafka consumer '" << name << "' created (" << s.target.bootstrap
        << ")\n"
        << "  Consumer group: " << o.group << "\n"
        << "  Topic: " << topics_text << "\n"
        << "  Commit: " << to_string(o.commit)
        << ", assignment: " << to_string(o.strategy)
        << ", start: " << (o.from_beginning ? "earliest" : "latest")
        << " (where the group has no committed offset)\n"
        << "🔄 Starting consumer loop for '" << name << "'";
    std::string until;
    if (o.max > 0)
      until += "after " + std::to_string(o.max) + " records";
    if (o.idle_timeout.count() > 0)
      until += std::string{until.empty() ? "after " : " or "} +
               fixed(static_cast<double>(o.idle_timeout.count()) / 1000.0, 1) +
               " s without records";
    out << (until.empty() ? "" : " (stops " + until + ")") << "\n"
        << "Press Ctrl+C to stop\n"
        << ruler << "\n"
        << std::flush;
  };
  int64_t processed = 0, errors = 0;
  bool many_topics = o.topics.size() > 1;
  cb.on_rebalance = [&](const assignment_change& ch) {
    std::string parts, owned;
    for (auto& [t, ps] : ch.partitions)
      parts += (parts.empty() ? "" : " ") + partitions_text(t, ps);
    for (auto& [t, ps] : ch.owned)
      owned += (owned.empty() ? "" : " ") + partitions_text(t, ps);
    out << "🔄 " << name << ": partitions "
        << (ch.assigned ? "assigned" : "revoked") << ": "
        << (parts.empty() ? "none" : parts) << " (now owns "
        << (owned.empty() ? "nothing" : owned) << ")\n"
        << std::flush;
  };
  cb.on_record = [&](const in_record& r) {
    ++processed;
    if (o.print_records) {
      out << "📥 Received message:\n  ";
      if (many_topics)
        out << "Topic: " << r.topic << ", ";
      out << "Partition: " << r.partition << ", Offset: " << r.offset << "\n"
          << "  Key: " << (r.key ? *r.key : std::string{"(none)"}) << "\n";
      for (auto& line : summarize_value(r.value))
        out << "  " << line << "\n";
      if (!r.headers.empty()) {
        out << "  Headers:";
        for (auto& h : r.headers)
          out << " " << h.key << "=" << h.value;
        out << "\n";
      }
      out << "✅ Processed message from partition " << r.partition << ", offset "
          << r.offset << "\n";
    }
    if (o.print_records ||
        (o.stats_every > 0 && processed % o.stats_every == 0))
      out << "📊 Stats: Processed=" << processed << ", Errors=" << errors
          << "\n";
    if (o.print_records)
      out << std::string(70, '-') << "\n";
    out << std::flush;
  };
  cb.on_error = [&](const std::string& text) {
    ++errors;
    out << "❌ Error: " << text << "\n📊 Stats: Processed=" << processed
        << ", Errors=" << errors << "\n"
        << std::flush;
  };
  auto run = consumer_run(s, o, cb, stop);
  if (!run) {
    out << "❌ " << error_text(run.error()) << "\n"
        << ruler << "\n"
        << std::flush;
    return 1;
  }
  auto& sum = *run;
  out << ruler << "\n📊 Consumer summary for '" << name << "':\n"
      << "  Processed: " << sum.processed << ", Errors: " << sum.errors
      << "\n  Per partition:";
  for (auto& [t, ps] : sum.per_partition)
    for (auto& [p, n] : ps)
      out << " " << (many_topics ? t + "/" : "") << p << "=" << n;
  if (sum.per_partition.empty())
    out << " -";
  out << "\n  Duration: " << fixed(sum.seconds) << " seconds\n"
      << "  Throughput: " << fixed(sum.messages_per_second())
      << " messages/second\n  Offsets: ";
  switch (o.commit) {
  case commit_mode::automatic:
    out << "committed automatically (in the background and on close)";
    break;
  case commit_mode::manual:
    out << "committed after each batch (" << sum.commits << " commits, "
        << sum.failed_commits << " failed)";
    break;
  case commit_mode::none:
    out << "not committed (--commit none)";
    break;
  }
  out << "\n  Stopped: ";
  switch (sum.reason) {
  case stop_reason::max_reached:
    out << "reached --max " << o.max;
    break;
  case stop_reason::done:
    out << "done";
    break;
  case stop_reason::idle:
    out << "no records for "
        << fixed(static_cast<double>(o.idle_timeout.count()) / 1000.0, 1)
        << " s";
    break;
  case stop_reason::interrupted:
    out << "interrupted";
    break;
  }
  out << "\n" << ruler << "\n" << std::flush;
  return sum.errors + sum.failed_commits == 0 ? 0 : 1;
}

} // namespace distiller::kafka::tools
