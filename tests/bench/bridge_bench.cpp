// The source bridge benchmark: in one process, on one embedded Kafka, with
// the same records, it measures
//   (a) a raw librdkafka consumer loop (poll, count, commit) — the ceiling;
//   (b) the source bridge in key mode, a pool of no-op workers, commits on;
//   (c) the same in partition and unordered mode;
// and prints records/s, the ratio bridge/raw and the bridge's latency from
// poll to ack (p50/p99). Not a test: numbers go to docs/benchmarks.md.
//
//   bridge_bench [--records N] [--size BYTES] [--partitions P] [--keys K]
//                [--pool W] [--runs R] [--modes key,partition,unordered]
//                [--max-in-flight N] [--max-batch N] [--detached]

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <sys/resource.h>
#include <unistd.h>

#include <caf/all.hpp>

#include "bridges/embedded/kafka_cluster.hpp"
#include "bridges/kafka/handles.hpp"
#include "bridges/kafka/record_worker.hpp"
#include "bridges/kafka/source_bridge.hpp"
#include "runtime/core/errc.hpp"
#include "runtime/inspect/registry.hpp"
#include "runtime/logging/log.hpp"
#include "runtime/metrics/metrics.hpp"
#include "tests/bench/bench_machine.hpp"

using namespace distiller;
using namespace distiller::kafka;
using namespace std::chrono_literals;
using distiller::bench::median;
using steady = std::chrono::steady_clock;

namespace {

struct options {
  int records = 1'000'000;
  int size = 100;
  int partitions = 48;
  int keys = 10'000;
  int pool = 4;
  int runs = 1;
  std::vector<std::string> modes{"key", "partition", "unordered"};
  size_t max_in_flight = 1000;
  size_t max_batch = 256;
  size_t max_buffered =
      distiller::kafka::source_binding{}.max_buffered_per_partition;
  size_t max_buffered_bridge = distiller::kafka::source_binding{}.max_buffered;
  bool detached = false;
  /// CAF scheduler: sharing (one queue, threads wake at once) or stealing
  /// (CAF's default; idle threads sleep up to 10 ms between polls).
  std::string scheduler = "sharing";
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "bridge_bench: %s\n"
               "usage: bridge_bench [--records N] [--size BYTES] "
               "[--partitions P] [--keys K] [--pool W] [--runs R] "
               "[--modes key,partition,unordered] [--max-in-flight N] "
               "[--max-batch N] [--max-buffered N] [--max-buffered-bridge N] "
               "[--detached] "
               "[--scheduler sharing|stealing]\n",
               why);
  std::exit(std::string{why} == "help" ? 0 : 2);
}

options parse(int argc, char** argv) {
  options o;
  bench::arguments args{argc, argv, [](const std::string& why) {
                          usage(why.c_str());
                        }};
  while (args.next()) {
    const std::string& a = args.option();
    if (a == "--help" || a == "-h")
      usage("help");
    else if (a == "--records")
      o.records = std::stoi(args.value());
    else if (a == "--size")
      o.size = std::stoi(args.value());
    else if (a == "--partitions")
      o.partitions = std::stoi(args.value());
    else if (a == "--keys")
      o.keys = std::stoi(args.value());
    else if (a == "--pool")
      o.pool = std::stoi(args.value());
    else if (a == "--runs")
      o.runs = std::stoi(args.value());
    else if (a == "--max-in-flight")
      o.max_in_flight = std::stoul(args.value());
    else if (a == "--max-buffered")
      o.max_buffered = std::stoul(args.value());
    else if (a == "--max-buffered-bridge")
      o.max_buffered_bridge = std::stoul(args.value());
    else if (a == "--max-batch")
      o.max_batch = std::stoul(args.value());
    else if (a == "--scheduler")
      o.scheduler = args.value();
    else if (a == "--detached")
      o.detached = true;
    else if (a == "--modes") {
      o.modes.clear();
      auto s = args.value();
      size_t pos = 0;
      while (pos <= s.size()) {
        auto comma = s.find(',', pos);
        auto m =
            s.substr(pos, comma == std::string::npos ? comma : comma - pos);
        if (!parse_ordering(m))
          usage(("unknown mode " + m).c_str());
        o.modes.push_back(m);
        if (comma == std::string::npos)
          break;
        pos = comma + 1;
      }
    } else
      usage(("unknown option " + a).c_str());
  }
  if (o.records < 1 || o.size < 1 || o.partitions < 1 || o.keys < 1 ||
      o.pool < 1 || o.runs < 1)
    usage("numbers must be positive");
  // The mock keeps ~5 MiB per partition and evicts older batches.
  auto per_partition = static_cast<double>(o.records) * (o.size + 60) /
                       o.partitions / (1024.0 * 1024.0);
  if (per_partition > 4.5)
    usage("more than ~4.5 MiB per partition: the mock cluster would evict "
          "records; add partitions or reduce records/size");
  return o;
}

double seconds_since(steady::time_point t0) {
  return std::chrono::duration<double>(steady::now() - t0).count();
}

// -- producing
// ------------------------------------------------------------------

void produce_all(const std::string& brokers, const std::string& topic,
                 const options& o) {
  auto conf = make_conf({{"bootstrap.servers", brokers},
                         {"client.id", "bench-producer"},
                         {"acks", "all"},
                         {"enable.idempotence", "true"},
                         {"linger.ms", "20"},
                         {"batch.num.messages", "10000"},
                         {"queue.buffering.max.messages", "2000000"},
                         {"queue.buffering.max.kbytes", "2000000"}});
  auto rk = make_client(RD_KAFKA_PRODUCER, std::move(conf));
  std::string value(static_cast<size_t>(o.size), 'v');
  auto t0 = steady::now();
  for (int i = 0; i < o.records; ++i) {
    auto key = "user-" + std::to_string(i % o.keys);
    // Stamp the record number into the value (the rest is padding).
    auto n = std::to_string(i);
    std::copy(n.begin(), n.end(), value.begin());
    rd_kafka_resp_err_t err;
    while ((err = rd_kafka_producev(
                rk.get(), RD_KAFKA_V_TOPIC(topic.c_str()),
                RD_KAFKA_V_KEY(key.data(), key.size()),
                RD_KAFKA_V_VALUE(value.data(), value.size()),
                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END)) ==
           RD_KAFKA_RESP_ERR__QUEUE_FULL)
      rd_kafka_poll(rk.get(), 5);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
      throw std::runtime_error(std::string{"produce: "} +
                               rd_kafka_err2str(err));
    rd_kafka_poll(rk.get(), 0);
  }
  if (rd_kafka_flush(rk.get(), 120'000) != RD_KAFKA_RESP_ERR_NO_ERROR)
    throw std::runtime_error("flush timed out");
  auto s = seconds_since(t0);
  std::printf("produced %d records of %d bytes over %d partitions (%d keys) "
              "in %.2f s (%.0f records/s)\n",
              o.records, o.size, o.partitions, o.keys, s, o.records / s);
}

// -- (a) raw consumer
// -------------------------------------------------------------

/// CPU seconds of each thread of this process, by thread id, with its name
/// (/proc/self/task/<tid>/stat; clock-tick resolution).
std::map<int, std::pair<std::string, double>> thread_times() {
  std::map<int, std::pair<std::string, double>> out;
  static const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  for (auto& entry : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream in{entry.path() / "stat"};
    std::string line;
    if (!std::getline(in, line))
      continue;
    // pid (comm) state ppid … utime(14) stime(15): comm may hold spaces.
    auto open = line.find('(');
    auto close = line.rfind(')');
    if (open == std::string::npos || close == std::string::npos)
      continue;
    auto comm = line.substr(open + 1, close - open - 1);
    std::istringstream rest{line.substr(close + 2)};
    std::string field;
    double utime = 0;
    double stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
      if (i == 14)
        utime = std::stod(field);
      if (i == 15)
        stime = std::stod(field);
    }
    out[std::stoi(entry.path().filename().string())] = {comm,
                                                        (utime + stime) / tick};
  }
  return out;
}

/// Where the CPU went between two thread_times() snapshots, in seconds:
/// CAF's scheduler threads (the bridge and its workers), the bridge's poll
/// thread, librdkafka's threads (brokers, mock cluster) and the rest.
struct cpu_split {
  double actors = 0;
  double poll = 0;
  double rdkafka = 0;
  double other = 0;
};

cpu_split split_since(const std::map<int, std::pair<std::string, double>>& t0) {
  cpu_split out;
  for (auto& [tid, now] : thread_times()) {
    auto i = t0.find(tid);
    auto d = now.second - (i != t0.end() ? i->second.second : 0.0);
    auto& name = now.first;
    if (name.rfind("caf", 0) == 0)
      out.actors += d;
    else if (name.rfind("poll:", 0) == 0)
      out.poll += d;
    else if (name.rfind("rdk:", 0) == 0)
      out.rdkafka += d;
    else
      out.other += d;
  }
  return out;
}

struct result {
  std::string name;
  double rate = 0;
  double p50_us = 0;
  double p99_us = 0;
  /// CPU cores the whole process used while the records flowed.
  double cores = 0;
  /// Records per batch sent to a worker (bridge runs only).
  double per_batch = 0;
  uint64_t pauses = 0;
  /// CPU microseconds per record by thread group.
  cpu_split us_per_record;
  /// records/s over the raw loop's of the same run.
  double ratio = 1;
  double us_total() const {
    return us_per_record.actors + us_per_record.poll + us_per_record.rdkafka +
           us_per_record.other;
  }
  double us_bridge() const { return us_per_record.actors + us_per_record.poll; }
};

/// Process CPU time (user + system) in seconds.
double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto tv = [](const timeval& t) {
    return t.tv_sec + t.tv_usec / 1e6;
  };
  return tv(ru.ru_utime) + tv(ru.ru_stime);
}

cpu_split per_record(cpu_split x, long records) {
  auto us = [&](double secs) {
    return secs * 1e6 / static_cast<double>(records);
  };
  return {us(x.actors), us(x.poll), us(x.rdkafka), us(x.other)};
}

result run_raw(const std::string& brokers, const std::string& topic,
               const options& o, int run) {
  auto conf = make_conf({{"bootstrap.servers", brokers},
                         {"client.id", "bench-raw"},
                         {"group.id", "bench-raw-" + std::to_string(run)},
                         {"auto.offset.reset", "earliest"},
                         {"enable.auto.commit", "false"},
                         // The bridge's consumer settings (consumer_loop.cpp),
                         // so that both read the same way.
                         {"queued.max.messages.kbytes", "65536"},
                         {"queued.min.messages", "10000000"},
                         {"fetch.wait.max.ms", "20"}});
  auto rk = make_client(RD_KAFKA_CONSUMER, std::move(conf));
  rd_kafka_poll_set_consumer(rk.get());
  queue_ptr q{rd_kafka_queue_get_consumer(rk.get())};
  topic_partition_list_ptr topics{rd_kafka_topic_partition_list_new(1)};
  rd_kafka_topic_partition_list_add(topics.get(), topic.c_str(),
                                    RD_KAFKA_PARTITION_UA);
  rd_kafka_subscribe(rk.get(), topics.get());
  std::vector<rd_kafka_message_t*> batch(2000);
  long count = 0;
  steady::time_point first;
  double cpu0 = 0;
  std::map<int, std::pair<std::string, double>> threads0;
  auto next_commit = steady::now() + 1s;
  auto deadline = steady::now() + 600s;
  while (count < o.records && steady::now() < deadline) {
    auto n =
        rd_kafka_consume_batch_queue(q.get(), 50, batch.data(), batch.size());
    for (ssize_t i = 0; i < n; ++i) {
      message_ptr m{batch[static_cast<size_t>(i)]};
      if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR)
        continue;
      if (count++ == 0) {
        first = steady::now();
        cpu0 = cpu_seconds();
        threads0 = thread_times();
      }
    }
    if (steady::now() >= next_commit) {
      // Commits what was consumed (the stored positions), asynchronously.
      rd_kafka_commit(rk.get(), nullptr, 1);
      next_commit = steady::now() + 1s;
    }
  }
  auto elapsed = std::chrono::duration<double>(steady::now() - first).count();
  auto cores = (cpu_seconds() - cpu0) / elapsed;
  auto split = per_record(split_since(threads0), count);
  rd_kafka_commit(rk.get(), nullptr, 0);
  q.reset();
  rd_kafka_consumer_close(rk.get());
  if (count < o.records)
    throw std::runtime_error("raw consumer read only " + std::to_string(count));
  return {"raw librdkafka", count / elapsed, 0, 0, cores, 0, 0, split};
}

// -- (b), (c) the bridge
// -------------------------------------------------------------

struct progress {
  std::atomic<long> done{0};
  std::atomic<int64_t> first_ns{0};
  std::atomic<int64_t> last_ns{0};
};

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             steady::now().time_since_epoch())
      .count();
}

result run_bridge(caf::actor_system& sys, inspect::registry& actors,
                  metrics::node_metrics& m, const std::string& brokers,
                  const std::string& topic, const options& o,
                  const std::string& mode, int run) {
  auto prog = std::make_shared<progress>();
  source_binding b;
  b.name = "bench-" + mode + "-" + std::to_string(run);
  b.topic = topic;
  b.group = b.name;
  b.mode = *parse_ordering(mode);
  b.pool_size = o.pool;
  b.max_in_flight = o.max_in_flight;
  b.max_batch = o.max_batch;
  b.max_buffered_per_partition = o.max_buffered;
  b.max_buffered = o.max_buffered_bridge;
  b.worker = record_worker_factory(
      [prog](const in_record&) -> caf::error {
        auto t = now_ns();
        int64_t zero = 0;
        prog->first_ns.compare_exchange_strong(zero, t);
        prog->last_ns.store(t, std::memory_order_relaxed);
        prog->done.fetch_add(1, std::memory_order_relaxed);
        return caf::none;
      },
      record_worker_options{o.detached});
  bridge_deps deps;
  deps.actors = &actors;
  deps.metrics = &m;
  auto bridge = spawn_source_bridge(sys, brokers, b, deps);
  caf::scoped_actor self{sys};
  auto deadline = steady::now() + 900s;
  while (prog->done.load() == 0 && steady::now() < deadline)
    std::this_thread::sleep_for(1ms);
  auto cpu0 = cpu_seconds();
  auto threads0 = thread_times();
  auto wall0 = steady::now();
  while (prog->done.load() < o.records && steady::now() < deadline)
    std::this_thread::sleep_for(5ms);
  auto cores = (cpu_seconds() - cpu0) / seconds_since(wall0);
  auto split = per_record(split_since(threads0), o.records);
  if (prog->done.load() < o.records)
    throw std::runtime_error(mode + ": only " +
                             std::to_string(prog->done.load()) + " processed");
  // The last ack follows the last worker call by one message.
  source_stats s;
  auto until = steady::now() + 30s;
  do {
    self->request(bridge, 10s, atoms::stats_atom_v)
        .receive([&](source_stats& x) { s = std::move(x); },
                 [](caf::error&) {});
  } while (s.processed < static_cast<uint64_t>(o.records) &&
           steady::now() < until);
  self->send_exit(bridge, caf::exit_reason::user_shutdown);
  self->wait_for(bridge);
  auto elapsed = static_cast<double>(prog->last_ns - prog->first_ns) / 1e9;
  return {"bridge " + mode,
          o.records / elapsed,
          static_cast<double>(s.ack_p50_ns) / 1e3,
          static_cast<double>(s.ack_p99_ns) / 1e3,
          cores,
          s.batches > 0 ? static_cast<double>(s.processed) /
                              static_cast<double>(s.batches)
                        : 0.0,
          s.pauses,
          split};
}

void print_split(const cpu_split& x) {
  std::printf("        cpu us/record by thread: actors %.2f  poll thread %.2f  "
              "librdkafka %.2f  other %.2f\n",
              x.actors, x.poll, x.rdkafka, x.other);
}

} // namespace

int main(int argc, char** argv) {
  auto o = parse(argc, argv);
  log::set_level(std::getenv("BENCH_LOG_INFO") ? log::level::info
                                               : log::level::warn);
  embedded::kafka_cluster cluster{1};
  const std::string topic = "bench-records";
  cluster.create_topic(topic, o.partitions, 1);
  produce_all(cluster.bootstrap(), topic, o);
  std::map<std::string, std::vector<result>> results;
  {
    caf::actor_system_config cfg;
    add_runtime_error_category(cfg);
    add_kafka_error_category(cfg);
    add_record_error_category(cfg);
    cfg.set("scheduler.policy", o.scheduler == "stealing"
                                    ? caf::atom("stealing")
                                    : caf::atom("sharing"));
    caf::actor_system sys{cfg};
    inspect::registry actors{"bench"};
    metrics::node_metrics m{"bench"};
    for (int run = 1; run <= o.runs; ++run) {
      auto raw = run_raw(cluster.bootstrap(), topic, o, run);
      std::printf("run %d: %-18s %10.0f records/s  cpu %.2f cores (%.2f "
                  "us/record)\n",
                  run, raw.name.c_str(), raw.rate, raw.cores,
                  raw.cores / raw.rate * 1e6);
      print_split(raw.us_per_record);
      std::fflush(stdout);
      results["raw"].push_back(raw);
      for (auto& mode : o.modes) {
        auto r = run_bridge(sys, actors, m, cluster.bootstrap(), topic, o, mode,
                            run);
        r.ratio = r.rate / raw.rate;
        std::printf("run %d: %-18s %10.0f records/s  ratio %.2f  ack p50 "
                    "%.0f us  p99 %.0f us  cpu %.2f cores (%.2f us/record)  "
                    "%.1f records/batch  %llu pauses\n",
                    run, r.name.c_str(), r.rate, r.rate / raw.rate, r.p50_us,
                    r.p99_us, r.cores, r.cores / r.rate * 1e6, r.per_batch,
                    static_cast<unsigned long long>(r.pauses));
        print_split(r.us_per_record);
        std::fflush(stdout);
        results[mode].push_back(r);
      }
    }
  }
  auto med = [&](const std::string& k, double result::*f) {
    std::vector<double> xs;
    for (auto& r : results[k])
      xs.push_back(r.*f);
    return median(xs);
  };
  auto raw_rate = med("raw", &result::rate);
  std::printf("\nmedians of %d run(s): %d records of %d bytes, %d partitions, "
              "%d keys, pool of %d %s no-op workers, max_in_flight %zu, "
              "max_batch %zu, CAF scheduler %s\n",
              o.runs, o.records, o.size, o.partitions, o.keys, o.pool,
              o.detached ? "detached" : "scheduled", o.max_in_flight,
              o.max_batch, o.scheduler.c_str());
  std::printf("| consumer | records/s | ratio to raw | ack p50 | ack p99 | CPU "
              "cores | CPU us/record | of which bridge (actors + poll "
              "thread) |\n");
  std::printf("|---|---:|---:|---:|---:|---:|---:|---:|\n");
  auto us = [&](const std::string& k, double (result::*f)() const) {
    std::vector<double> xs;
    for (auto& r : results[k])
      xs.push_back((r.*f)());
    return median(xs);
  };
  std::printf("| raw librdkafka loop | %.0f | 1.00 | – | – | %.2f | %.2f | – "
              "|\n",
              raw_rate, med("raw", &result::cores),
              us("raw", &result::us_total));
  for (auto& mode : o.modes)
    std::printf("| bridge, %s mode | %.0f | %.2f | %.2f ms | %.2f ms | %.2f | "
                "%.2f | %.2f |\n",
                mode.c_str(), med(mode, &result::rate),
                med(mode, &result::ratio), med(mode, &result::p50_us) / 1e3,
                med(mode, &result::p99_us) / 1e3, med(mode, &result::cores),
                us(mode, &result::us_total), us(mode, &result::us_bridge));
  std::printf("(ratio: median over runs of bridge/raw within a run)\n");
  return 0;
}
