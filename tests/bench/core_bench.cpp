// The source core benchmark: the source bridge's decisions alone
// (bridges/kafka/source_core.hpp) — no actors, no librdkafka, one thread.
// Polls chunks of records the way the bridge's poll thread hands them over
// (runs of one partition), answers every batch at once as the no-op workers
// of bridge_bench do, commits once per 100,000 records, and prints the CPU
// nanoseconds per record of this thread, against a baseline measured in the
// same run: filling the same chunks and reading every record once, which
// is what any consumer pays before the core decides anything.
//
//   core_bench [--records N] [--partitions P] [--keys K] [--runs R]
//              [--chunk N] [--modes key,partition,unordered]
//
// Not a test: numbers go to docs/benchmarks.md ("Source core alone").

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "bridges/kafka/record_chunk.hpp"
#include "bridges/kafka/source_binding.hpp"
#include "bridges/kafka/source_core.hpp"
#include "bridges/kafka/source_metrics.hpp"
#include "runtime/inspect/registry.hpp"
#include "runtime/logging/log.hpp"
#include "runtime/metrics/metrics.hpp"
#include "tests/bench/bench_machine.hpp"

using namespace distiller;
using namespace distiller::kafka;
using namespace std::chrono_literals;
using distiller::bench::median;

namespace {

struct options {
  long records = 2'000'000;
  int partitions = 48;
  int keys = 10'000;
  int runs = 5;
  size_t chunk = 2000;
  std::vector<std::string> modes{"key", "partition", "unordered"};
};

[[noreturn]] void usage(const std::string& why) {
  const char* text = "usage: core_bench [--records N] [--partitions P] "
                     "[--keys K] [--runs R] [--chunk N] "
                     "[--modes key,partition,unordered]\n";
  if (why == "help") {
    std::fputs(text, stdout);
    std::exit(0);
  }
  std::fprintf(stderr, "core_bench: %s\n%s", why.c_str(), text);
  std::exit(2);
}

options parse(int argc, char** argv) {
  options o;
  bench::arguments args{argc, argv, usage};
  while (args.next()) {
    const std::string& a = args.option();
    auto number = [&](long min) {
      auto text = args.value();
      char* end = nullptr;
      auto v = std::strtol(text.c_str(), &end, 10);
      if (end == text.c_str() || *end != '\0' || v < min)
        usage(a + " takes a number of at least " + std::to_string(min) +
              ", not '" + text + "'");
      return v;
    };
    if (a == "--help" || a == "-h")
      usage("help");
    else if (a == "--records")
      o.records = number(1);
    else if (a == "--partitions")
      o.partitions = static_cast<int>(number(1));
    else if (a == "--keys")
      o.keys = static_cast<int>(number(1));
    else if (a == "--runs")
      o.runs = static_cast<int>(number(1));
    else if (a == "--chunk")
      o.chunk = static_cast<size_t>(number(1));
    else if (a == "--modes") {
      o.modes.clear();
      auto s = args.value();
      size_t pos = 0;
      for (;;) {
        auto comma = s.find(',', pos);
        auto m = s.substr(pos, comma == std::string::npos ? std::string::npos
                                                          : comma - pos);
        if (!parse_ordering(m))
          usage("unknown mode '" + m + "'");
        o.modes.push_back(m);
        if (comma == std::string::npos)
          break;
        pos = comma + 1;
      }
    } else
      usage("unknown option " + a);
  }
  return o;
}

/// This thread's CPU time in nanoseconds: what the machine's other load
/// does not add to.
int64_t thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

/// Records as the producer of bridge_bench writes them: key "user-<i %
/// keys>", each key on one partition (by its hash), 100-byte values.
class record_source {
 public:
  explicit record_source(const options& o) : o_(o), next_(o.partitions, 0) {
    for (int k = 0; k < o.keys; ++k) {
      auto key = "user-" + std::to_string(k);
      by_partition_[static_cast<int32_t>(std::hash<std::string>{}(key) %
                                         static_cast<size_t>(o.partitions))]
          .push_back(key);
    }
  }

  /// Fills `c` with up to o.chunk records: runs of ~chunk/8 records of
  /// one partition after another, round robin, as a fetch answer brings.
  void fill(record_chunk& c) {
    auto run = std::max<size_t>(1, o_.chunk / 8);
    while (c.size < o_.chunk) {
      auto p =
          static_cast<int32_t>(turn_++ % static_cast<size_t>(o_.partitions));
      auto& keys = by_partition_[p];
      for (size_t k = 0; k < run && c.size < o_.chunk; ++k) {
        auto& r = c.append();
        r.topic = "bench-records";
        r.partition = p;
        r.offset = next_[static_cast<size_t>(p)]++;
        if (keys.empty())
          r.key.reset();
        else
          r.key = keys[static_cast<size_t>(r.offset) % keys.size()];
        r.value.assign(100, 'v');
        r.attempt = 1;
      }
    }
  }

 private:
  const options& o_;
  std::vector<int64_t> next_;
  std::map<int32_t, std::vector<std::string>> by_partition_;
  size_t turn_ = 0;
};

struct result {
  double ns_per_record = 0;
  double per_batch = 0;
};

/// The floor: fill the chunks, read every record once.
result run_baseline(const options& o) {
  record_source src{o};
  auto pool = std::make_shared<record_chunk_pool>();
  uint64_t sum = 0;
  auto t0 = thread_cpu_ns();
  for (long done = 0; done < o.records;) {
    auto c = pool->take();
    src.fill(*c);
    for (size_t k = 0; k < c->size; ++k)
      sum += static_cast<uint64_t>((*c)[k].offset) + (*c)[k].key->size();
    done += static_cast<long>(c->size);
  }
  auto ns = thread_cpu_ns() - t0;
  if (sum == 42)
    std::printf(" "); // keeps the reads
  return {static_cast<double>(ns) / static_cast<double>(o.records), 0};
}

result run_core(const options& o, ordering mode) {
  metrics::node_metrics node{"bench"};
  source_metrics m{&node, "bench"};
  detail::source_core_config cfg;
  cfg.name = "bench";
  cfg.topic = "bench-records";
  cfg.dlq_topic = "bench-records.dlq";
  cfg.entry_name = "bench-source";
  cfg.mode = mode;
  cfg.seed = 1;
  source_binding defaults;
  cfg.max_in_flight = defaults.max_in_flight;
  cfg.max_in_flight_per_partition = defaults.max_in_flight_per_partition;
  cfg.partition_buffer_limit = defaults.partition_buffer_limit();
  cfg.max_batch = defaults.max_batch;
  cfg.max_batches_per_worker = defaults.max_batches_per_worker;
  const size_t workers = 4;
  int64_t clock_ns = 1;
  detail::source_core core{cfg,
                           m,
                           std::make_shared<inspect::actor_entry>(
                               "bench-source", "bridge", "bench", ""),
                           nullptr,
                           {[&clock_ns] { return clock_ns; },
                            [] {
                              return int64_t{1'700'000'000'000};
                            }}};
  core.start_pool(workers);
  core.set_pool_alive(true);
  std::deque<detail::source_effects::send> at_workers;
  auto absorb = [&](detail::source_effects fx) {
    for (auto& s : fx.sends)
      at_workers.push_back(std::move(s));
  };
  for (size_t i = 0; i < workers; ++i)
    absorb(core.on_worker_found(detail::worker_name("bench", i), 100 + i));
  std::vector<int32_t> parts(static_cast<size_t>(o.partitions));
  for (int p = 0; p < o.partitions; ++p)
    parts[static_cast<size_t>(p)] = p;
  core.on_assigned(parts);

  record_source src{o};
  auto pool = std::make_shared<record_chunk_pool>();
  // What the bridge lets its poll thread hold (the flow gate).
  auto max_held = defaults.max_buffered;
  long polled = 0;
  uint64_t answered = 0;
  uint64_t batches = 0;
  long next_commit = 100'000;
  auto t0 = thread_cpu_ns();
  while (answered < static_cast<uint64_t>(o.records)) {
    if (polled < o.records && core.held() + o.chunk <= max_held) {
      auto c = pool->take();
      src.fill(*c);
      polled += static_cast<long>(c->size);
      absorb(core.on_records(c, clock_ns));
    }
    // The workers answer what they hold, oldest first.
    auto n = at_workers.size();
    if (n == 0 && core.held() + o.chunk > max_held) {
      std::fprintf(stderr,
                   "core_bench: the core holds %zu records and sends "
                   "nothing\n",
                   core.held());
      std::exit(1);
    }
    for (size_t k = 0; k < n; ++k) {
      auto s = std::move(at_workers.front());
      at_workers.pop_front();
      auto size = s.records.size();
      s.records = record_batch{}; // the worker lets go of the batch
      ++batches;
      clock_ns += 1000;
      answered += size;
      absorb(core.on_batch_done(s.batch, size, std::nullopt));
    }
    if (static_cast<long>(answered) >= next_commit) {
      absorb(core.on_commit_tick());
      next_commit += 100'000;
    }
  }
  auto ns = thread_cpu_ns() - t0;
  absorb(core.on_commit_tick());
  return {static_cast<double>(ns) / static_cast<double>(o.records),
          static_cast<double>(answered) / static_cast<double>(batches)};
}

} // namespace

int main(int argc, char** argv) {
  auto o = parse(argc, argv);
  log::set_level(log::level::warn);
  std::map<std::string, std::vector<double>> ns;
  std::map<std::string, std::vector<double>> over;
  std::map<std::string, double> per_batch;
  for (int run = 1; run <= o.runs; ++run) {
    auto base = run_baseline(o);
    ns["baseline"].push_back(base.ns_per_record);
    std::printf("run %d: %-9s %7.1f ns/record\n", run, "baseline",
                base.ns_per_record);
    for (auto& mode : o.modes) {
      auto r = run_core(o, *parse_ordering(mode));
      ns[mode].push_back(r.ns_per_record);
      over[mode].push_back(r.ns_per_record - base.ns_per_record);
      per_batch[mode] = r.per_batch;
      std::printf("run %d: %-9s %7.1f ns/record (%.1f over the baseline, "
                  "%.1f records/batch)\n",
                  run, mode.c_str(), r.ns_per_record,
                  r.ns_per_record - base.ns_per_record, r.per_batch);
    }
    std::fflush(stdout);
  }
  std::printf("\nmedians of %d run(s): %ld records, %d partitions, %d keys, "
              "chunks of %zu, 4 workers answering at once\n",
              o.runs, o.records, o.partitions, o.keys, o.chunk);
  std::printf("| | CPU ns/record | of which the core (over the baseline) | "
              "records/batch |\n|---|---:|---:|---:|\n");
  std::printf("| baseline (fill and read the chunks) | %.1f | – | – |\n",
              median(ns["baseline"]));
  for (auto& mode : o.modes)
    std::printf("| core, %s mode | %.1f | %.1f | %.1f |\n", mode.c_str(),
                median(ns[mode]), median(over[mode]), per_batch[mode]);
  return 0;
}
