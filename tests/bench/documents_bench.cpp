// The document pipeline benchmark. On the embedded stack — one in-process
// node with the embedded Kafka mock, a private PostgreSQL under a temporary
// directory, HTTP on a free port and every role — it measures
//   (a) upload latency at a fixed request rate, open loop: request i is due
//       at start + i / rate and its latency counts from that time, so a
//       request that waits for a free client thread (queueing) counts too;
//       GET /health at the same rate first, as the façade's floor;
//   (b) end-to-end throughput: N uploads as fast as they are accepted, then
//       the time until every job is completed, in documents/minute;
//   (c) query latency over an index of many chunks, written straight into
//       PostgreSQL before a second node starts (which builds both indexes
//       from them at its first start), then the start time of that node
//       again: from its index snapshots (index.snapshots, the default) or
//       rebuilt (index.snapshots=false), median of --restarts starts.
// It prints the machine, a Markdown table and the raw numbers. Targets are
// stated, not asserted. Not a test: numbers go to docs/benchmarks.md.

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <sys/resource.h>

#include <boost/json.hpp>
#include <pqxx/pqxx>

#include "actors/documents/document_store.hpp"
#include "actors/documents/hashing_embedder.hpp"
#include "actors/documents/pipeline.hpp"
#include "actors/node/node.hpp"
#include "actors/node/node_config.hpp"
#include "bridges/embedded/pg_cluster.hpp"
#include "bridges/postgres/connection.hpp"
#include "bridges/postgres/migrations.hpp"
#include "runtime/config/schema.hpp"
#include "runtime/core/ids.hpp"
#include "runtime/logging/log.hpp"
#include "tests/bench/bench_machine.hpp"
#include "tests/support/document_client.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/testing.hpp"

using namespace distiller;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;
namespace dt = distiller::testing;
namespace fs = std::filesystem;
namespace json = boost::json;
using distiller::bench::cpu_meter;
using distiller::bench::cpu_model;
using distiller::bench::load_average;
using distiller::bench::median;

namespace {

// -- options ------------------------------------------------------------------

struct options {
  double rate = 100;
  double seconds = 30;
  int documents = 1000;
  int doc_bytes = 2048;
  int chunks = 100'000;
  int chunks_per_job = 20;
  int queries = 500;
  int threads = 8;
  int query_threads = 2;
  int restarts = 3;
  bool part_a = true;
  bool part_b = true;
  bool part_c = true;
  std::vector<std::pair<std::string, std::string>> overrides;
};

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(
      why == "help" ? stdout : stderr,
      "%s%s"
      "usage: documents_bench [options]\n"
      "  --rate R            (a) uploads and /health per second (100)\n"
      "  --seconds S         (a) duration of each open-loop run (30)\n"
      "  --documents N       (b) documents uploaded as fast as accepted "
      "(1000)\n"
      "  --doc-bytes B       (a, b) size of each .txt file (2048)\n"
      "  --chunks N          (c) chunks written to PostgreSQL (100000)\n"
      "  --chunks-per-job N  (c) chunks per completed job row (20)\n"
      "  --queries N         (c) POST /api/v2/query requests (500)\n"
      "  --threads N         (a, b) client threads (8)\n"
      "  --query-threads N   (c) client threads (2)\n"
      "  --restarts N        (c) node starts timed after the first (3)\n"
      "  --parts a,b,c       parts to run (all); also --skip-a/-b/-c\n"
      "  --set key=value     node configuration override, repeatable\n"
      "                      (e.g. documents.embedder_pool=8)\n",
      why == "help" ? "" : "documents_bench: ",
      why == "help" ? "" : (why + "\n").c_str());
  std::exit(why == "help" ? 0 : 2);
}

options parse(int argc, char** argv) {
  options o;
  bench::arguments args{argc, argv, usage};
  while (args.next()) {
    const std::string& a = args.option();
    try {
      if (a == "--help" || a == "-h")
        usage("help");
      else if (a == "--rate")
        o.rate = std::stod(args.value());
      else if (a == "--seconds")
        o.seconds = std::stod(args.value());
      else if (a == "--documents")
        o.documents = std::stoi(args.value());
      else if (a == "--doc-bytes")
        o.doc_bytes = std::stoi(args.value());
      else if (a == "--chunks")
        o.chunks = std::stoi(args.value());
      else if (a == "--chunks-per-job")
        o.chunks_per_job = std::stoi(args.value());
      else if (a == "--queries")
        o.queries = std::stoi(args.value());
      else if (a == "--threads")
        o.threads = std::stoi(args.value());
      else if (a == "--query-threads")
        o.query_threads = std::stoi(args.value());
      else if (a == "--restarts")
        o.restarts = std::stoi(args.value());
      else if (a == "--skip-a")
        o.part_a = false;
      else if (a == "--skip-b")
        o.part_b = false;
      else if (a == "--skip-c")
        o.part_c = false;
      else if (a == "--parts") {
        auto p = args.value();
        o.part_a = p.find('a') != std::string::npos;
        o.part_b = p.find('b') != std::string::npos;
        o.part_c = p.find('c') != std::string::npos;
      } else if (a == "--set") {
        auto kv = args.value();
        auto eq = kv.find('=');
        if (eq == std::string::npos || eq == 0)
          usage("--set expects key=value, got " + kv);
        o.overrides.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
      } else
        usage("unknown option " + a);
    } catch (const std::logic_error&) {
      usage("bad number for " + a);
    }
  }
  if (o.rate <= 0 || o.seconds <= 0 || o.documents < 1 || o.doc_bytes < 64 ||
      o.chunks < 1 || o.chunks_per_job < 1 || o.queries < 1 || o.threads < 1 ||
      o.query_threads < 1 || o.restarts < 0)
    usage("numbers must be positive (--doc-bytes at least 64, --restarts "
          "at least 0)");
  return o;
}

double seconds_since(steady::time_point t0) {
  return std::chrono::duration<double>(steady::now() - t0).count();
}

// -- generated text -----------------------------------------------------------

/// A fixed vocabulary of made-up words (syllable pairs and triples), so that
/// texts share words with questions the way a real corpus does, while every
/// document stays distinct.
const std::vector<std::string>& vocabulary() {
  static const std::vector<std::string> words = [] {
    static const char* syl[] = {
        "ka", "lo",  "mer", "tin", "sa",  "ve",  "dor",  "pel", "ru",  "gan",
        "bi", "tos", "len", "fa",  "mi",  "qua", "ster", "no",  "hel", "ar",
        "wi", "con", "ple", "du",  "rex", "ob",  "ti",   "mun", "ze",  "cal"};
    std::mt19937_64 rng{20260101};
    std::uniform_int_distribution<size_t> pick{0, std::size(syl) - 1};
    std::set<std::string> seen;
    std::vector<std::string> out;
    while (out.size() < 6000) {
      std::string w = std::string{syl[pick(rng)]} + syl[pick(rng)];
      if (rng() % 2)
        w += syl[pick(rng)];
      if (seen.insert(w).second)
        out.push_back(w);
    }
    return out;
  }();
  return words;
}

class text_maker {
 public:
  explicit text_maker(uint64_t seed) : rng_(seed) {}

  /// A word, skewed towards the start of the vocabulary (a few words are
  /// common, most are rare, as in real text).
  const std::string& word() {
    auto u = std::uniform_real_distribution<double>{0, 1}(rng_);
    auto& v = vocabulary();
    return v[static_cast<size_t>(u * u * u * static_cast<double>(v.size()))];
  }

  std::string sentence() {
    static const char* glue[] = {"the", "of", "and", "near", "with", "for"};
    auto n = 8 + rng_() % 7;
    std::string s = word();
    s[0] = static_cast<char>(s[0] - 'a' + 'A');
    for (size_t i = 1; i < n; ++i) {
      s += ' ';
      s += (i % 3 == 2) ? glue[rng_() % 6] : word();
    }
    s += " in " + std::to_string(1800 + rng_() % 220) + ".";
    return s;
  }

  /// Sentences up to about `bytes`, a paragraph break every few; `tag`
  /// makes the text distinct from every other.
  std::string text(size_t bytes, const std::string& tag) {
    std::string out = "Record " + tag + ".";
    int i = 0;
    while (out.size() < bytes) {
      out += (++i % 5 == 0) ? "\n\n" : " ";
      out += sentence();
    }
    return out;
  }

  std::string question() {
    switch (rng_() % 3) {
    case 0:
      return "What does the " + word() + " say about " + word() + "?";
    case 1:
      return "Where is the " + word() + " " + word() + " of " + word() + "?";
    default:
      return "Which " + word() + " came with the " + word() + " and " + word() +
             "?";
    }
  }

 private:
  std::mt19937_64 rng_;
};

// -- latency
// --------------------------------------------------------------------

struct summary {
  size_t count = 0;
  double p50 = 0, p90 = 0, p99 = 0, max = 0, mean = 0;
};

summary summarize(std::vector<double> ms) {
  summary s;
  s.count = ms.size();
  if (ms.empty())
    return s;
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) {
    // Nearest rank: the smallest value with at least q of them at or below.
    auto rank =
        static_cast<size_t>(std::ceil(q * static_cast<double>(ms.size())));
    return ms[std::min(ms.size() - 1, rank == 0 ? 0 : rank - 1)];
  };
  s.p50 = at(0.50);
  s.p90 = at(0.90);
  s.p99 = at(0.99);
  s.max = ms.back();
  double sum = 0;
  for (auto x : ms)
    sum += x;
  s.mean = sum / static_cast<double>(ms.size());
  return s;
}

std::string describe(const summary& s) {
  char buf[200];
  std::snprintf(buf, sizeof buf,
                "n=%zu p50=%.2f p90=%.2f p99=%.2f max=%.2f mean=%.2f ms",
                s.count, s.p50, s.p90, s.p99, s.max, s.mean);
  return buf;
}

/// One request: returns the HTTP status (the client throws on transport
/// failures and timeouts).
using request_fn = std::function<unsigned(dt::http_client&, int index)>;

struct run_result {
  std::vector<double> ms;
  int unexpected = 0; // other status than `expect`, or no answer
  double seconds = 0;
  steady::time_point last_answer;
};

/// Sends `total` requests from `threads` threads, each on its own kept-alive
/// connection. With `rate` > 0 request i is due at start + i / rate (open
/// loop) and its latency counts from then; otherwise each is sent as soon as
/// a thread is free and timed from its send.
run_result drive(uint16_t port, int total, double rate, int threads,
                 unsigned expect, const request_fn& send) {
  std::atomic<int> next{0};
  std::mutex mtx;
  run_result out;
  out.ms.reserve(static_cast<size_t>(total));
  auto t0 = steady::now() + 20ms;
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&] {
      dt::http_client client{port, "127.0.0.1", 60s};
      std::vector<double> mine;
      int bad = 0;
      steady::time_point last{};
      for (int i; (i = next.fetch_add(1)) < total;) {
        auto due = rate > 0 ? t0 + std::chrono::duration_cast<steady::duration>(
                                       std::chrono::duration<double>(i / rate))
                            : steady::now();
        std::this_thread::sleep_until(due);
        unsigned status = 0;
        try {
          status = send(client, i);
        } catch (const std::exception&) {
          client.close();
        }
        last = steady::now();
        mine.push_back(
            std::chrono::duration<double, std::milli>(last - due).count());
        if (status != expect)
          ++bad;
      }
      std::lock_guard<std::mutex> guard{mtx};
      out.ms.insert(out.ms.end(), mine.begin(), mine.end());
      out.unexpected += bad;
      out.last_answer = std::max(out.last_answer, last);
    });
  for (auto& th : pool)
    th.join();
  out.seconds = std::chrono::duration<double>(out.last_answer - t0).count();
  return out;
}

unsigned upload(dt::http_client& c, const std::string& name,
                const std::string& text) {
  auto mp = dt::make_upload(name, text, "text/plain");
  return c
      .post("/api/v2/documents/upload", std::move(mp.body), {}, mp.content_type)
      .status;
}

// -- the node -----------------------------------------------------------------

/// What the node logged at start and stop that the benchmark reports.
struct start_log {
  std::mutex mtx;
  std::string index_ready;    // the whole line
  std::string snapshot_saved; // the whole line
};

start_log& captured() {
  static start_log x;
  return x;
}

/// Keeps warnings and errors on stderr and remembers index_ready and
/// index_snapshot_saved.
void install_log_sink() {
  log::set_sink([](std::string_view line) {
    if (line.find("event=index_ready") != std::string_view::npos) {
      std::lock_guard<std::mutex> guard{captured().mtx};
      captured().index_ready = std::string{line};
    }
    if (line.find("event=index_snapshot_saved") != std::string_view::npos) {
      std::lock_guard<std::mutex> guard{captured().mtx};
      captured().snapshot_saved = std::string{line};
    }
    if (line.find("level=warn") != std::string_view::npos ||
        line.find("level=error") != std::string_view::npos)
      std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()),
                   line.data());
  });
}

/// The integer after `key=` in a logfmt line, or -1.
long long logfmt_int(const std::string& line, const std::string& key) {
  auto at = line.find(" " + key + "=");
  if (at == std::string::npos)
    return -1;
  return std::atoll(line.c_str() + at + key.size() + 2);
}

/// The word after `key=` in a logfmt line, or "".
std::string logfmt_word(const std::string& line, const std::string& key) {
  auto at = line.find(" " + key + "=");
  if (at == std::string::npos)
    return {};
  auto from = at + key.size() + 2;
  return line.substr(from, line.find(' ', from) - from);
}

node::node_config make_config(const fs::path& dir, const std::string& name,
                              const options& o) {
  node::node_config cfg;
  cfg.runtime.node.name = name;
  cfg.runtime.node.data_dir = dir.string();
  cfg.kafka.catalog = (dt::source_dir() / "config" / "topics.toml").string();
  cfg.http.port = 0;
  config::schema s;
  node::declare(s, cfg);
  for (auto& [key, value] : o.overrides)
    s.set(key, value);
  node::validate(cfg);
  node::resolve_paths(cfg);
  return cfg;
}

/// Starts a node with info logging (start-up events are captured), then
/// drops to warnings so that per-request log lines cost nothing during the
/// measurements. Returns the seconds start() took.
double start_node(node::node& n) {
  log::set_level(log::level::info);
  auto t0 = steady::now();
  n.start();
  auto s = seconds_since(t0);
  log::set_level(log::level::warn);
  return s;
}

/// One connection for the benchmark's own look at the jobs (polled often,
/// so it is not reopened each time).
class db_probe {
 public:
  explicit db_probe(const std::string& dsn) : conn_(dsn) {}
  int64_t scalar(const std::string& sql, const std::string& arg) {
    pqxx::nontransaction tx{conn_};
    return tx.exec_params1(sql, arg)[0].as<int64_t>();
  }
  pqxx::row row(const std::string& sql, const std::string& arg) {
    pqxx::nontransaction tx{conn_};
    return tx.exec_params1(sql, arg);
  }

 private:
  pqxx::connection conn_;
};

constexpr const char* count_final_sql =
    "SELECT count(*) FROM document_jobs WHERE filename LIKE $1 "
    "AND status IN ('completed', 'failed')";
constexpr const char* count_failed_sql =
    "SELECT count(*) FROM document_jobs WHERE filename LIKE $1 "
    "AND status = 'failed'";

/// Per job, in milliseconds: upload → first chunk row (relay, Kafka and the
/// chunker), first chunk row → last embedding (Kafka and the embedders),
/// upload → completed; p50 and p99 over the jobs named like $1.
constexpr const char* stage_sql = R"sql(
WITH j AS (
  SELECT d.created_at, d.completed_at, min(c.created_at) AS chunked,
         max(c.embedded_at) AS embedded, count(c.*) AS chunks
  FROM document_jobs d JOIN document_chunks c USING (job_id)
  WHERE d.filename LIKE $1 AND d.status = 'completed'
  GROUP BY d.job_id
), ms AS (
  SELECT extract(epoch FROM chunked - created_at) * 1000 AS to_chunks,
         extract(epoch FROM embedded - chunked) * 1000 AS embedding,
         extract(epoch FROM completed_at - created_at) * 1000 AS total, chunks
  FROM j
)
SELECT count(*), avg(chunks),
  percentile_cont(0.5) WITHIN GROUP (ORDER BY to_chunks),
  percentile_cont(0.99) WITHIN GROUP (ORDER BY to_chunks),
  percentile_cont(0.5) WITHIN GROUP (ORDER BY embedding),
  percentile_cont(0.99) WITHIN GROUP (ORDER BY embedding),
  percentile_cont(0.5) WITHIN GROUP (ORDER BY total),
  percentile_cont(0.99) WITHIN GROUP (ORDER BY total)
FROM ms
)sql";

void print_stages(db_probe& db, const std::string& pattern) {
  auto r = db.row(stage_sql, pattern);
  if (r[0].as<int64_t>() == 0)
    return;
  std::printf("  per job (from PostgreSQL timestamps, %lld jobs, %.1f chunks "
              "each): upload→chunks stored p50 %.0f p99 %.0f ms; chunks "
              "stored→last embedding p50 %.0f p99 %.0f ms; upload→completed "
              "p50 %.0f p99 %.0f ms\n",
              static_cast<long long>(r[0].as<int64_t>()), r[1].as<double>(),
              r[2].as<double>(), r[3].as<double>(), r[4].as<double>(),
              r[5].as<double>(), r[6].as<double>(), r[7].as<double>());
}

/// Waits until every job named like `pattern` is final; returns the
/// seconds waited, or nullopt after `timeout`.
std::optional<double> wait_final(db_probe& db, const std::string& pattern,
                                 int64_t jobs, std::chrono::seconds timeout) {
  auto t0 = steady::now();
  while (steady::now() - t0 < timeout) {
    if (db.scalar(count_final_sql, pattern) >= jobs)
      return seconds_since(t0);
    std::this_thread::sleep_for(50ms);
  }
  return std::nullopt;
}

// -- results ------------------------------------------------------------------

struct results {
  std::optional<summary> health, uploads;
  int upload_bad = 0, health_bad = 0;
  double upload_rate = 0;
  double first_job_s = 0;
  std::optional<double> a_drain_s;
  int b_accepted = 0, b_bad = 0;
  int64_t b_completed = 0, b_failed = 0;
  double b_accept_s = 0, b_total_s = 0;
  bool b_timed_out = false;
  long long rebuild_ms = -1, rebuild_vectors = -1;
  std::string first_source;
  double fill_s = 0, node2_start_s = 0;
  /// The first node's stop (with its snapshot) and the snapshot's time.
  double first_stop_s = 0;
  long long snapshot_ms = -1;
  /// Each timed restart: node start, index ready, how the index came.
  std::vector<double> restart_s, restart_index_ms;
  std::string restart_source;
  std::optional<summary> queries;
  int query_bad = 0, query_empty = 0;
  double query_rate = 0;
  std::optional<summary> full_text;
  double full_text_matches = 0;
};

// -- (a) and (b) --------------------------------------------------------------

void run_uploads(const options& o, results& r) {
  dt::temp_dir dir{"distiller-dbench"};
  auto cfg = make_config(dir.path(), "bench-node", o);
  node::node n{cfg};
  auto start_s = start_node(n);
  auto port = n.http_port();
  db_probe db{n.pg_dsn()};
  std::printf("\nnode for (a) and (b) started in %.2f s (http port %u)\n",
              start_s, port);

  // The first job also waits for the stages' consumer groups to be
  // assigned; timing it shows what a fresh node costs the first upload.
  {
    auto t0 = steady::now();
    dt::document_client api{port};
    text_maker tm{1};
    auto job = api.upload_ok("warm-0.txt", tm.text(2048, "warm"));
    auto final = api.wait_final(job, 180s);
    r.first_job_s = seconds_since(t0);
    std::printf("first job (consumer groups joining) finished in %.2f s: %s\n",
                r.first_job_s,
                final.is_object() ? json::serialize(final.at("status")).c_str()
                                  : "timed out");
  }

  if (o.part_a) {
    auto total = static_cast<int>(std::llround(o.rate * o.seconds));
    std::printf("\n(a) open loop, %d requests at %.0f/s from %d threads\n",
                total, o.rate, o.threads);
    std::fflush(stdout);
    auto h =
        drive(port, total, o.rate, o.threads, 200,
              [](dt::http_client& c, int) { return c.get("/health").status; });
    r.health = summarize(h.ms);
    r.health_bad = h.unexpected;
    std::printf("  GET /health: %s; non-200: %d\n", describe(*r.health).c_str(),
                h.unexpected);
    // Texts are made before the clock starts: generating is not uploading.
    std::vector<std::string> texts(static_cast<size_t>(total));
    for (int i = 0; i < total; ++i) {
      text_maker tm{1000 + static_cast<uint64_t>(i)};
      texts[static_cast<size_t>(i)] =
          tm.text(static_cast<size_t>(o.doc_bytes), "a-" + std::to_string(i));
    }
    cpu_meter cpu;
    auto u = drive(port, total, o.rate, o.threads, 202,
                   [&](dt::http_client& c, int i) {
                     return upload(c, "a-" + std::to_string(i) + ".txt",
                                   texts[static_cast<size_t>(i)]);
                   });
    r.uploads = summarize(u.ms);
    r.upload_bad = u.unexpected;
    r.upload_rate = total / u.seconds;
    std::printf("  POST upload: %s; non-202: %d; achieved %.1f req/s; %s\n",
                describe(*r.uploads).c_str(), u.unexpected, r.upload_rate,
                cpu.report().c_str());
    std::fflush(stdout);
    // Whether the pipeline kept up with that rate: the backlog left behind.
    r.a_drain_s =
        wait_final(db, "a-%", total - u.unexpected, std::chrono::seconds(600));
    if (r.a_drain_s)
      std::printf("  every (a) job final %.2f s after the last upload "
                  "answered\n",
                  *r.a_drain_s);
    else
      std::printf("  (a) jobs still not final 600 s after the last upload\n");
    print_stages(db, "a-%");
  }

  if (o.part_b) {
    std::printf("\n(b) %d documents of %d bytes, %d client threads, as fast "
                "as accepted\n",
                o.documents, o.doc_bytes, o.threads);
    std::fflush(stdout);
    std::vector<std::string> texts(static_cast<size_t>(o.documents));
    for (int i = 0; i < o.documents; ++i) {
      text_maker tm{500'000 + static_cast<uint64_t>(i)};
      texts[static_cast<size_t>(i)] =
          tm.text(static_cast<size_t>(o.doc_bytes), "b-" + std::to_string(i));
    }
    cpu_meter cpu;
    auto t0 = steady::now();
    auto u = drive(port, o.documents, 0, o.threads, 202,
                   [&](dt::http_client& c, int i) {
                     return upload(c, "b-" + std::to_string(i) + ".txt",
                                   texts[static_cast<size_t>(i)]);
                   });
    r.b_accept_s = std::chrono::duration<double>(u.last_answer - t0).count();
    r.b_bad = u.unexpected;
    r.b_accepted = o.documents - u.unexpected;
    auto accept = summarize(u.ms);
    std::printf("  accepted %d in %.2f s (%.0f uploads/s); upload latency %s; "
                "non-202: %d\n",
                r.b_accepted, r.b_accept_s, r.b_accepted / r.b_accept_s,
                describe(accept).c_str(), u.unexpected);
    std::fflush(stdout);
    auto waited = wait_final(db, "b-%", r.b_accepted,
                             std::chrono::seconds(600 + o.documents / 2));
    r.b_total_s = seconds_since(t0);
    r.b_timed_out = !waited;
    r.b_failed = db.scalar(count_failed_sql, "b-%");
    r.b_completed = db.scalar(count_final_sql, "b-%") - r.b_failed;
    std::printf("  %lld completed, %lld failed, %.2f s after the first upload"
                "%s; %s\n",
                static_cast<long long>(r.b_completed),
                static_cast<long long>(r.b_failed), r.b_total_s,
                r.b_timed_out ? " (TIMED OUT)" : "", cpu.report().c_str());
    print_stages(db, "b-%");
    // What a client sees: the API's count of completed jobs (every part).
    dt::http_client c{port};
    auto page = c.get("/api/v2/documents/jobs?status=completed&limit=1");
    if (page.status == 200)
      std::printf("  GET /api/v2/documents/jobs?status=completed total: %s "
                  "(warm-up, (a) and (b))\n",
                  json::serialize(page.json().at("total")).c_str());
  }
  n.stop();
}

// -- (c) ----------------------------------------------------------------------

/// `v` as a PostgreSQL real[] literal, shortest round-trip digits.
std::string real_array(const std::vector<float>& v) {
  std::string out = "{";
  char buf[32];
  for (size_t i = 0; i < v.size(); ++i) {
    auto res = std::to_chars(buf, buf + sizeof buf, v[i]);
    if (i > 0)
      out += ',';
    out.append(buf, res.ptr);
  }
  out += '}';
  return out;
}

/// Writes completed jobs and their embedded chunks with COPY (one
/// transaction), embeddings from the built-in hashing embedder.
void fill_index(const std::string& dsn, const options& o,
                const documents::hashing_embedder& embedder) {
  auto model = embedder.model();
  auto conn = postgres::connect(dsn, 30s);
  pqxx::work tx{*conn};
  int jobs = (o.chunks + o.chunks_per_job - 1) / o.chunks_per_job;
  std::vector<std::string> ids;
  {
    pqxx::stream_to jobs_out{
        tx, "document_jobs",
        std::vector<std::string>{
            "job_id", "filename", "content_type", "file_size", "status",
            "progress", "total_chunks", "processed_chunks", "completed_at"}};
    for (int j = 0; j < jobs; ++j) {
      int n = std::min(o.chunks_per_job, o.chunks - j * o.chunks_per_job);
      ids.push_back(make_uuid());
      jobs_out << std::make_tuple(ids.back(), "c-" + std::to_string(j) + ".txt",
                                  std::string{"text/plain"}, n * 500,
                                  std::string{"completed"}, 100, n, n,
                                  std::string{"now"});
    }
    jobs_out.complete();
  }
  // Embedding is the slow part: a batch is embedded by every core, then
  // streamed.
  pqxx::stream_to out{
      tx, "document_chunks",
      std::vector<std::string>{"job_id", "chunk_index", "text", "char_count",
                               "token_count", "status", "embedding",
                               "embedding_model", "embedded_at"}};
  const int batch = 4096;
  auto workers = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::string> texts(batch), vectors(batch);
  int done = 0;
  auto t0 = steady::now();
  while (done < o.chunks) {
    int n = std::min(batch, o.chunks - done);
    std::vector<std::thread> pool;
    for (unsigned w = 0; w < workers; ++w)
      pool.emplace_back([&, w] {
        for (int i = static_cast<int>(w); i < n;
             i += static_cast<int>(workers)) {
          text_maker tm{7'000'000 + static_cast<uint64_t>(done + i)};
          auto& t = texts[static_cast<size_t>(i)];
          t.clear();
          for (int s = 0, k = 5 + (done + i) % 4; s < k; ++s)
            t += (s ? " " : "") + tm.sentence();
          vectors[static_cast<size_t>(i)] = real_array(embedder.embed_one(t));
        }
      });
    for (auto& th : pool)
      th.join();
    for (int i = 0; i < n; ++i) {
      int k = done + i;
      auto& t = texts[static_cast<size_t>(i)];
      out << std::make_tuple(
          ids[static_cast<size_t>(k / o.chunks_per_job)], k % o.chunks_per_job,
          t, static_cast<int>(t.size()),
          static_cast<int>(std::count(t.begin(), t.end(), ' ') + 1),
          std::string{"embedded"}, vectors[static_cast<size_t>(i)], model,
          std::string{"now"});
    }
    done += n;
    if (done % (batch * 8) < batch || done == o.chunks) {
      std::printf("  %d / %d chunks written (%.1f s)\n", done, o.chunks,
                  seconds_since(t0));
      std::fflush(stdout);
    }
  }
  out.complete();
  // The baseline's full-text vectors, in a table of the benchmark's own
  // (the node's schema no longer has them, migration 8): the same
  // expression and GIN index the generated column had.
  tx.exec0("CREATE TABLE bench_chunk_tsv AS SELECT vector_id,"
           " to_tsvector('english', text) AS tsv FROM document_chunks");
  tx.exec0("CREATE INDEX bench_chunk_tsv_idx ON bench_chunk_tsv USING gin "
           "(tsv)");
  tx.commit();
  pqxx::nontransaction vacuum{*conn};
  vacuum.exec0("VACUUM ANALYZE document_chunks");
  vacuum.exec0("VACUUM ANALYZE document_jobs");
  vacuum.exec0("VACUUM ANALYZE bench_chunk_tsv");
}

/// The baseline of part (c), measured in the same run: PostgreSQL's full
/// text with the question's words OR-ed and ranked by ts_rank_cd — the
/// sparse half of the query path before the BM25 index (issue 13). Every
/// chunk the bench writes is embedded, so its tsvector table needs no
/// join with document_chunks' status.
constexpr const char* pg_full_text_sql =
    "SELECT c.vector_id, ts_rank_cd(c.tsv, q)::float8 AS score"
    " FROM bench_chunk_tsv c, to_tsquery('simple', replace("
    "websearch_to_tsquery('english', $1)::text, ' & ', ' | ')) AS q"
    " WHERE c.tsv @@ q"
    " ORDER BY score DESC, c.vector_id LIMIT 20";

/// Chunks that baseline has to rank for a question: every chunk with any
/// of its words.
constexpr const char* match_count_sql =
    "SELECT count(*) FROM bench_chunk_tsv c, websearch_to_tsquery('english', "
    "$1) AS w WHERE c.tsv @@ to_tsquery('simple', "
    "replace(w::text, ' & ', ' | '))";

/// The last index_ready line since the capture was cleared.
std::string take_index_ready() {
  std::lock_guard<std::mutex> guard{captured().mtx};
  auto line = captured().index_ready;
  captured().index_ready.clear();
  return line;
}

void run_queries(const options& o, results& r) {
  dt::temp_dir dir{"distiller-dbench-c"};
  auto cfg = make_config(dir.path(), "bench-query-node", o);
  std::printf("\n(c) %d chunks (%d per completed job) written to PostgreSQL, "
              "then a node starts on them\n",
              o.chunks, o.chunks_per_job);
  std::fflush(stdout);
  {
    auto t0 = steady::now();
    embedded::pg_cluster pg{cfg.postgres};
    pg.start();
    {
      auto conn = postgres::connect(pg.dsn(), 30s);
      postgres::migrate(*conn);
    }
    documents::hashing_embedder_config ec;
    ec.dimension = static_cast<size_t>(cfg.documents.embedder_dimension);
    fill_index(pg.dsn(), o, documents::hashing_embedder{ec});
    pg.stop();
    r.fill_s = seconds_since(t0);
    std::printf("  filled in %.1f s (initdb, COPY, VACUUM ANALYZE)\n",
                r.fill_s);
  }
  take_index_ready();
  auto n_ptr = std::make_unique<node::node>(cfg);
  auto& n = *n_ptr;
  r.node2_start_s = start_node(n);
  {
    auto line = take_index_ready();
    r.rebuild_ms = logfmt_int(line, "duration_ms");
    r.rebuild_vectors = logfmt_int(line, "dense");
    r.first_source = logfmt_word(line, "source");
  }
  std::printf("  node started in %.2f s; index_ready: %lld vectors in %lld "
              "ms from %s (index kind %s, snapshots %s)\n",
              r.node2_start_s, r.rebuild_vectors, r.rebuild_ms,
              r.first_source.c_str(), cfg.documents.index_kind.c_str(),
              cfg.documents.index_snapshots ? "on" : "off");
  if (cfg.documents.index_snapshots) {
    // A node that rebuilt writes its first snapshot at once; the queries
    // below are measured after it (this call waits for the snapshotter's,
    // or writes it if the snapshotter has not started yet).
    auto t0 = steady::now();
    bool wrote = n.documents()->snapshot_indexes();
    std::printf("  first snapshot done %.2f s later (%s)\n", seconds_since(t0),
                wrote ? "written by this call" : "by the snapshotter");
  }
  auto port = n.http_port();
  text_maker tm{99};
  std::vector<std::string> bodies;
  for (int i = 0; i < o.queries; ++i)
    bodies.push_back(json::serialize(
        json::object{{"question", tm.question()}, {"top_k", 5}}));
  std::atomic<int> empty{0};
  auto ask = [&](dt::http_client& c, int i) {
    auto rep =
        c.post("/api/v2/query", bodies[static_cast<size_t>(i) % bodies.size()]);
    if (rep.status == 200 && rep.json().at("sources").as_array().empty())
      ++empty;
    return rep.status;
  };
  // Warm-up (first connections, first touches of the index pages).
  drive(port, std::min(20, o.queries), 0, o.query_threads, 200, ask);
  empty = 0;
  cpu_meter cpu;
  auto q = drive(port, o.queries, 0, o.query_threads, 200, ask);
  r.queries = summarize(q.ms);
  r.query_bad = q.unexpected;
  r.query_empty = empty.load();
  r.query_rate = o.queries / q.seconds;
  std::printf("  POST /api/v2/query x %d from %d threads: %s; %.1f queries/s; "
              "non-200: %d; answers without sources: %d; %s\n",
              o.queries, o.query_threads, describe(*r.queries).c_str(),
              r.query_rate, q.unexpected, r.query_empty, cpu.report().c_str());
  // The baseline: PostgreSQL's full text for the same questions, one at a
  // time, and how many chunks match the OR of the question's words.
  db_probe db{n.pg_dsn()};
  pqxx::connection baseline{n.pg_dsn()};
  std::vector<double> ms;
  double matches = 0;
  int sample = std::min(o.queries, 100);
  for (int i = 0; i < sample; ++i) {
    auto question = std::string{
        json::parse(bodies[static_cast<size_t>(i)]).at("question").as_string()};
    auto t0 = steady::now();
    {
      pqxx::nontransaction tx{baseline};
      tx.exec_params(pg_full_text_sql, question);
    }
    ms.push_back(
        std::chrono::duration<double, std::milli>(steady::now() - t0).count());
    matches += static_cast<double>(db.scalar(match_count_sql, question));
  }
  r.full_text = summarize(ms);
  r.full_text_matches = matches / sample;
  std::printf("  baseline, PostgreSQL full text alone (first %d questions, "
              "one at a time): "
              "%s; %.0f matching chunks per question on average\n",
              sample, describe(*r.full_text).c_str(), r.full_text_matches);
  {
    std::lock_guard<std::mutex> guard{captured().mtx};
    captured().snapshot_saved.clear();
  }
  log::set_level(log::level::info);
  auto t_stop = steady::now();
  n_ptr.reset();
  r.first_stop_s = seconds_since(t_stop);
  {
    std::lock_guard<std::mutex> guard{captured().mtx};
    r.snapshot_ms = logfmt_int(captured().snapshot_saved, "duration_ms");
  }
  std::printf("  node stopped in %.2f s (index snapshot: %lld ms)\n",
              r.first_stop_s, r.snapshot_ms);
  // The same node again, start by start: from the snapshot the stop wrote
  // (or rebuilt, with index.snapshots=false).
  for (int i = 0; i < o.restarts; ++i) {
    take_index_ready();
    node::node again{cfg};
    auto s = start_node(again);
    auto line = take_index_ready();
    r.restart_s.push_back(s);
    r.restart_index_ms.push_back(
        static_cast<double>(logfmt_int(line, "duration_ms")));
    r.restart_source = logfmt_word(line, "source");
    std::printf("  restart %d: node started in %.2f s; index_ready from %s "
                "in %lld ms (load %lld ms, %lld chunks read from PostgreSQL, "
                "%lld vectors)\n",
                i + 1, s, r.restart_source.c_str(),
                logfmt_int(line, "duration_ms"), logfmt_int(line, "load_ms"),
                logfmt_int(line, "read"), logfmt_int(line, "dense"));
    std::fflush(stdout);
    log::set_level(log::level::info);
    again.stop();
  }
  if (!r.restart_s.empty())
    std::printf("  restarts: node start median %.2f s (min %.2f, max %.2f); "
                "index ready median %.0f ms\n",
                median(r.restart_s),
                *std::min_element(r.restart_s.begin(), r.restart_s.end()),
                *std::max_element(r.restart_s.begin(), r.restart_s.end()),
                median(r.restart_index_ms));
}

// -- report -------------------------------------------------------------------

void print_table(const options& o, const results& r) {
  std::printf("\n| measure | result | target |\n|---|---|---|\n");
  if (r.uploads && r.health) {
    std::printf("| (a) upload latency at %.0f req/s, %.0f s (p50 / p90 / p99 "
                "/ max) | %.1f / %.1f / %.1f / %.1f ms | p99 < 50 ms (%s); "
                "seeds < 200 ms |\n",
                o.rate, o.seconds, r.uploads->p50, r.uploads->p90,
                r.uploads->p99, r.uploads->max,
                r.uploads->p99 < 50 ? "met" : "MISSED");
    std::printf("| (a) non-202 answers | %d of %zu | 0 |\n", r.upload_bad,
                r.uploads->count);
    std::printf("| (a) GET /health at the same rate (p50 / p90 / p99 / max) "
                "| %.2f / %.2f / %.2f / %.2f ms | floor |\n",
                r.health->p50, r.health->p90, r.health->p99, r.health->max);
    std::printf("| (a) upload p50 / health p50 | %.1f× | – |\n",
                r.uploads->p50 / std::max(1e-9, r.health->p50));
    if (r.a_drain_s)
      std::printf("| (a) backlog after the last upload, until all completed | "
                  "%.1f s | – |\n",
                  *r.a_drain_s);
  }
  if (r.b_total_s > 0) {
    auto per_min = static_cast<double>(r.b_completed) / r.b_total_s * 60;
    std::printf("| (b) %d uploads accepted in | %.2f s (%.0f/s) | – |\n",
                r.b_accepted, r.b_accept_s, r.b_accepted / r.b_accept_s);
    std::printf("| (b) end to end, first upload → all completed | %.1f s, "
                "**%.0f documents/minute**%s | ≥ 6,000/min (%s); seeds 100+ "
                "|\n",
                r.b_total_s, per_min, r.b_timed_out ? " (timed out)" : "",
                per_min >= 6000 ? "met" : "MISSED");
    std::printf("| (b) completed / failed / non-202 | %lld / %lld / %d | all "
                "completed |\n",
                static_cast<long long>(r.b_completed),
                static_cast<long long>(r.b_failed), r.b_bad);
  }
  if (r.queries) {
    std::printf("| (c) first start: index from %s | %lld vectors in %lld ms "
                "(node start %.1f s) | – |\n",
                r.first_source.c_str(), r.rebuild_vectors, r.rebuild_ms,
                r.node2_start_s);
    std::printf("| (c) clean stop (index snapshot) | %.2f s (snapshot %lld "
                "ms) | – |\n",
                r.first_stop_s, r.snapshot_ms);
    if (!r.restart_s.empty())
      std::printf("| (c) restart, index from %s, median of %zu (node start "
                  "/ index ready) | %.2f s / %.0f ms | < 2 s (%s) |\n",
                  r.restart_source.c_str(), r.restart_s.size(),
                  median(r.restart_s), median(r.restart_index_ms),
                  median(r.restart_s) < 2 ? "met" : "MISSED");
    std::printf("| (c) query latency, %d threads (p50 / p99) | %.1f / %.1f ms "
                "| – |\n",
                o.query_threads, r.queries->p50, r.queries->p99);
    std::printf("| (c) queries/s | %.1f (non-200 %d, no sources %d) | – |\n",
                r.query_rate, r.query_bad, r.query_empty);
    if (r.full_text)
      std::printf("| (c) of which full-text half alone (p50 / p99) | %.1f / "
                  "%.1f ms (%.0f matching chunks per question) | – |\n",
                  r.full_text->p50, r.full_text->p99, r.full_text_matches);
  }
}

} // namespace

int main(int argc, char** argv) {
  auto o = parse(argc, argv);
  install_log_sink();
  log::set_level(log::level::warn);
  std::printf("documents_bench: %u cores (%s), load average at start %s\n",
              std::thread::hardware_concurrency(), cpu_model().c_str(),
              load_average().c_str());
  std::printf("options: rate %.0f/s for %.0f s, %d documents of %d bytes, %d "
              "chunks, %d queries, %d upload threads, %d query threads, "
              "parts %s%s%s",
              o.rate, o.seconds, o.documents, o.doc_bytes, o.chunks, o.queries,
              o.threads, o.query_threads, o.part_a ? "a" : "",
              o.part_b ? "b" : "", o.part_c ? "c" : "");
  for (auto& [k, v] : o.overrides)
    std::printf(", %s=%s", k.c_str(), v.c_str());
  std::printf("; node logs at warn level during measurements\n");
  std::fflush(stdout);
  results r;
  try {
    if (o.part_a || o.part_b)
      run_uploads(o, r);
    if (o.part_c)
      run_queries(o, r);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "documents_bench: %s\n", e.what());
    print_table(o, r);
    return 1;
  }
  print_table(o, r);
  std::printf("\nload average at end %s\n", load_average().c_str());
  return 0;
}
