#include "bridges/kafka_tools/e2e.hpp"

#include <map>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include <boost/json.hpp>

#include "bridges/embedded/kafka_cluster.hpp"
#include "bridges/kafka_tools/admin.hpp"
#include "bridges/kafka_tools/consumer.hpp"
#include "bridges/kafka_tools/format.hpp"
#include "bridges/kafka_tools/groups.hpp"
#include "bridges/kafka_tools/offsets.hpp"
#include "bridges/kafka_tools/producer.hpp"
#include "bridges/kafka_tools/topics.hpp"
#include "runtime/logging/log.hpp"

namespace distiller::kafka::tools {

namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

std::string random_suffix() {
  std::random_device rd;
  char buf[9];
  std::snprintf(buf, sizeof(buf), "%08x", rd());
  return buf;
}

/// The "sequence" field of a value made by make_value, or -1.
int64_t sequence_of(const std::string& value) {
  boost::system::error_code ec;
  auto doc = boost::json::parse(value, ec);
  if (ec || !doc.is_object())
    return -1;
  auto v = doc.as_object().if_contains("sequence");
  return v != nullptr && v->is_int64() ? v->as_int64() : -1;
}

std::string per_partition_text(const std::map<int32_t, int64_t>& counts) {
  std::string text;
  for (auto& [p, n] : counts)
    text += (text.empty() ? "" : ", ") + std::to_string(p) + ": " +
            std::to_string(n);
  return text.empty() ? "-" : text;
}

/// Refreshes `s` until `topic` has `min_partitions` partitions with leaders
/// (a real cluster creates topics asynchronously) or `timeout` passes.
const topic_info* wait_for_topic(session& s, const std::string& topic,
                                 int min_partitions,
                                 std::chrono::milliseconds timeout) {
  auto deadline = steady::now() + timeout;
  for (;;) {
    if (!s.refresh())
      if (auto t = s.info.find(topic);
          t != nullptr && t->error.empty() &&
          t->partition_count() >= min_partitions &&
          std::all_of(t->partitions.begin(), t->partitions.end(),
                      [](auto& p) { return p.leader >= 0; }))
        return t;
    if (steady::now() >= deadline)
      return nullptr;
    std::this_thread::sleep_for(200ms);
  }
}

/// Makes a mock reached over the network create `topic` (it auto-creates
/// topics named in Metadata requests).
void auto_create(session& s, const std::string& topic) {
  topic_ptr rkt{rd_kafka_topic_new(s.client->handle(), topic.c_str(), nullptr)};
  const rd_kafka_metadata_t* raw = nullptr;
  if (rd_kafka_metadata(s.client->handle(), 0, rkt.get(), &raw, 5000) ==
      RD_KAFKA_RESP_ERR_NO_ERROR)
    metadata_ptr md{raw};
}

} // namespace

int run_e2e(const kafka_config& cfg, const std::string& data_dir,
            const e2e_options& o, std::ostream& out,
            const std::atomic<bool>* stop) {
  auto t0 = steady::now();
  std::vector<std::string> failures;
  out << ruler << "\nKAFKA END-TO-END TEST\n" << ruler << "\n" << std::flush;

  // -- 1. the cluster
  // ------------------------------------------------------------
  std::unique_ptr<embedded::kafka_cluster> local;
  cluster_target target;
  if (!cfg.brokers.empty()) {
    target = {cfg.brokers, "kafka.brokers", false};
  } else if (o.use_node) {
    auto where = locate_cluster(cfg, data_dir);
    if (!where) {
      out << "❌ " << error_text(where.error()) << "\n";
      return 1;
    }
    target = std::move(*where);
  } else {
    local = std::make_unique<embedded::kafka_cluster>(cfg.embedded_brokers);
    target = {local->bootstrap(), "in-process", false};
    out << "📦 Started an in-process embedded Kafka (librdkafka mock, "
        << cfg.embedded_brokers << " brokers) at " << target.bootstrap
        << " for this run\n";
  }
  auto how = settings_of(cfg);
  how.stop = stop;
  auto opened = open_session(target, cfg, how);
  if (!opened) {
    out << "❌ " << error_text(opened.error()) << "\n";
    return 1;
  }
  auto& s = **opened;
  out << "✅ Connected to " << target.bootstrap << " (" << target.source << "; "
      << s.info.brokers.size() << " brokers)\n"
      << std::flush;

  // -- 2. the topic
  // -------------------------------------------------------------- Keys carry
  // this run's id, so records of earlier runs in a reused topic are told apart
  // (and skipped) while consuming.
  auto run_id = random_suffix();
  auto topic = o.topic.empty() ? "distiller-e2e-" + run_id : o.topic;
  bool exact = true;
  std::string how_made;
  if (s.info.find(topic) != nullptr) {
    how_made = "exists";
  } else if (local) {
    local->create_topic(topic, o.partitions, 1);
    how_made = "created";
  } else if (s.admin_api()) {
    auto r =
        create_topics(s.client->handle(), {{topic, o.partitions, 1, {}}}, 30s);
    if (!r.empty() && !r[0].ok() &&
        r[0].err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
      out << "❌ Cannot create topic " << topic << ": " << r[0].message << "\n";
      return 1;
    }
    how_made = "created";
  } else {
    auto_create(s, topic);
    how_made = "auto-created";
    exact = false;
  }
  auto t = wait_for_topic(s, topic, 1, 30s);
  if (t == nullptr) {
    out << "❌ Topic " << topic << " did not appear in the cluster's metadata\n";
    return 1;
  }
  int partitions = t->partition_count();
  if (how_made == "created") {
    if (partitions == o.partitions)
      out << "✅ Topic created with " << partitions << " partitions: " << topic
          << "\n";
    else {
      out << "❌ Topic " << topic << " has " << partitions
          << " partitions, asked for " << o.partitions << "\n";
      failures.push_back("partition count");
    }
  } else if (how_made == "exists") {
    out << "ℹ️  Topic exists with " << partitions
        << " partitions: " << topic
        << (partitions == o.partitions ? "" : " (used as it is)") << "\n";
  } else if (!exact) {
    out << "⚠️  Topic auto-created with " << partitions
        << " partitions: " << topic
        << " — this cluster (a librdkafka mock) has no CreateTopics, so "
           "--partitions "
        << o.partitions << " could not be honoured\n";
  }
  out << std::flush;

  // -- 3. produce
  // --------------------------------------------------------------
  produce_options po;
  po.topic = topic;
  po.count = o.messages;
  po.key_pattern = "e2e-" + run_id + "-{i}";
  po.value_size = 128;
  po.codec = default_codec(cfg, topic);
  std::vector<delivery> deliveries(static_cast<size_t>(o.messages));
  auto run = producer_run(
      s, po,
      [&](const delivery& d) {
        if (d.seq >= 1 && d.seq <= o.messages)
          deliveries[static_cast<size_t>(d.seq - 1)] = d;
      },
      stop);
  if (!run) {
    out << "❌ Cannot produce to " << topic << ": " << error_text(run.error())
        << "\n";
    return 1;
  }
  auto& produced = *run;
  if (produced.failed > 0 || produced.delivered != o.messages) {
    out << "❌ " << produced.delivered << " of " << o.messages
        << " messages produced (first error: " << produced.first_error << ")\n";
    failures.push_back("produce");
  } else {
    out << "✅ " << o.messages << " messages produced in "
        << fixed(produced.seconds) << " s (per partition "
        << per_partition_text(produced.per_partition) << ")\n";
  }
  out << std::flush;

  // -- 4. consume in a fresh group
  // ---------------------------------------------
  consume_options co;
  co.topics = {topic};
  co.group = "distiller-e2e-" + random_suffix();
  co.id = "e2e-consumer";
  co.from_beginning = true;
  co.idle_timeout = o.consume_timeout;
  co.commit = commit_mode::manual;
  co.print_records = false;
  std::vector<int> seen(static_cast<size_t>(o.messages), 0);
  int64_t misplaced = 0, foreign = 0, older = 0, distinct = 0;
  auto key_prefix = "e2e-" + run_id + "-";
  std::map<int32_t, int64_t> consumed_per_partition;
  size_t assigned = 0;
  consume_callbacks cb;
  cb.on_record = [&](const in_record& r) {
    if (!r.key || r.key->rfind(key_prefix, 0) != 0) {
      ++older;
      return;
    }
    auto seq = sequence_of(r.value);
    if (seq < 1 || seq > o.messages ||
        *r.key != key_prefix + std::to_string(seq)) {
      ++foreign;
      return;
    }
    auto& d = deliveries[static_cast<size_t>(seq - 1)];
    if (seen[static_cast<size_t>(seq - 1)]++ == 0)
      ++distinct;
    ++consumed_per_partition[r.partition];
    if (d.partition != r.partition || d.offset != r.offset)
      ++misplaced;
  };
  cb.on_rebalance = [&](const assignment_change& ch) {
    if (ch.assigned)
      for (auto& [tp, ps] : ch.owned)
        assigned = std::max(assigned, ps.size());
  };
  // Stops once every record of this run arrived, or after the timeout
  // without records; duplicates would arrive before or among them.
  cb.done = [&] {
    return distinct == o.messages;
  };
  auto consuming = consumer_run(s, co, cb, stop);
  if (!consuming) {
    out << "❌ Cannot consume " << topic << ": " << error_text(consuming.error())
        << "\n";
    return 1;
  }
  auto& consumed = *consuming;
  int64_t missing = 0, duplicated = 0;
  for (auto n : seen) {
    if (n == 0)
      ++missing;
    if (n > 1)
      duplicated += n - 1;
  }
  bool counts_match = consumed_per_partition == produced.per_partition;
  if (missing == 0 && duplicated == 0 && misplaced == 0 && foreign == 0 &&
      counts_match && consumed.errors == 0) {
    out << "✅ " << o.messages << " messages produced and consumed (each "
        << "exactly once; per partition "
        << per_partition_text(consumed_per_partition) << ")\n";
    if (older > 0)
      out << "ℹ️  Skipped " << older
          << " records of earlier runs in the same topic\n";
  } else {
    out << "❌ Consumed " << distinct << " of " << o.messages
        << " messages: missing " << missing << ", duplicated " << duplicated
        << ", at another partition/offset " << misplaced << ", unexpected "
        << foreign << ", errors " << consumed.errors
        << (counts_match ? ""
                         : "; per-partition counts differ (produced " +
                               per_partition_text(produced.per_partition) +
                               ", consumed " +
                               per_partition_text(consumed_per_partition) + ")")
        << "\n";
    failures.push_back("consume");
  }
  if (assigned == static_cast<size_t>(partitions))
    out << "✅ Consumer group coordination working (group " << co.group
        << " assigned " << assigned << " partitions to " << co.id << ")\n";
  else {
    out << "❌ Consumer group " << co.group << " assigned " << assigned << " of "
        << partitions << " partitions\n";
    failures.push_back("group");
  }
  out << std::flush;

  // -- 5. committed offsets
  // -----------------------------------------------------
  auto lag = fetch_lag(s, co.group, {topic});
  if (!lag) {
    out << "❌ Cannot read committed offsets: " << error_text(lag.error())
        << "\n";
    failures.push_back("commit");
  } else {
    auto& report = *lag;
    std::map<int32_t, int64_t> committed;
    bool all = !report.partitions.empty();
    for (auto& p : report.partitions) {
      committed[p.partition] = p.committed;
      // Partitions that got no records have nothing to commit.
      if (p.high > p.low && p.committed != p.high)
        all = false;
    }
    if (all && report.total_lag() == 0)
      out << "✅ Offsets committed successfully (group " << co.group << ": "
          << per_partition_text(committed) << "; lag 0)\n";
    else {
      out << "❌ Committed offsets do not cover the topic (total lag "
          << report.total_lag() << ")\n";
      print_lag(report, out);
      failures.push_back("commit");
    }
  }
  out << std::flush;

  // -- 6. cleanup
  // ----------------------------------------------------------------
  if (local) {
    out << "✅ Topic cleanup: the in-process cluster and " << topic
        << " are discarded at exit\n";
  } else if (!o.cleanup) {
    out << "ℹ️  Topic kept: " << topic
        << " (pass --cleanup to delete it)\n";
  } else if (!s.admin_api()) {
    out << "⚠️  Topic cleanup skipped: " << mock_cannot_delete << "\n";
  } else {
    auto r = delete_topics(s.client->handle(), {topic}, 30s);
    if (!r.empty() && r[0].ok())
      out << "✅ Topic cleanup: deleted " << topic << "\n";
    else {
      out << "❌ Topic cleanup failed: "
          << (r.empty() ? std::string{"no answer"} : r[0].message) << "\n";
      failures.push_back("cleanup");
    }
  }

  auto seconds = std::chrono::duration<double>(steady::now() - t0).count();
  out << ruler << "\n";
  if (failures.empty())
    out << "✅ END-TO-END TEST PASSED (" << fixed(seconds) << " s)\n";
  else {
    out << "❌ END-TO-END TEST FAILED:";
    for (auto& f : failures)
      out << " " << f;
    out << " (" << fixed(seconds) << " s)\n";
  }
  out << ruler << "\n" << std::flush;
  log::info("e2e_finished", {{"topic", topic},
                             {"messages", o.messages},
                             {"passed", failures.empty()},
                             {"duration_ms", seconds * 1000}});
  return failures.empty() ? 0 : 1;
}

} // namespace distiller::kafka::tools
