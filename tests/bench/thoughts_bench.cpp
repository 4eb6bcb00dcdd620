// The thought pipeline benchmark, on the embedded stack: one node process
// (`distiller up`: embedded Kafka, private PostgreSQL in a temporary
// directory, every role, built-in agents) measures
//   (a) end-to-end throughput: N thoughts of U users submitted over HTTP as
//       fast as they are accepted, until every one is completed — in
//       thoughts/minute, with submission and completion latencies and the
//       CPU the node used; the baseline is seed 003's target (180/minute);
//   (b) Server-Sent Events: C streams on the node (10 per user), the
//       node's resident memory per stream, then thoughts of those users at a
//       fixed rate and the publish→receive latency of every event at every
//       stream (from the event's `time` to its arrival at the client); the
//       baseline is the best published hub figure (~30 KB per connection).
// Targets (≥ 30,000 thoughts/minute; p99 < 50 ms; < 20 KiB per stream) are
// printed, not asserted. Not a test: numbers go to docs/benchmarks.md.

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <boost/json.hpp>
#include <pqxx/pqxx>

#include "runtime/core/ids.hpp"
#include "runtime/core/time.hpp"
#include "tests/bench/bench_machine.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/testing.hpp"

using namespace std::chrono_literals;
namespace dt = distiller::testing;
namespace bench = distiller::bench;
namespace fs = std::filesystem;
namespace json = boost::json;
namespace asio = boost::asio;
using steady = std::chrono::steady_clock;

namespace {

struct options {
  int thoughts = 20000;
  int users = 2000;
  int threads = 8;
  int streams = 1000;
  double rate = 50;
  double seconds = 20;
  bool part_a = true;
  bool part_b = true;
  std::vector<std::string> sets;
};

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(why == "help" ? stdout : stderr,
               "%s%s"
               "usage: thoughts_bench [options]\n"
               "  --thoughts N   (a) thoughts submitted as fast as accepted "
               "(20000)\n"
               "  --users N      (a) users they belong to (2000)\n"
               "  --threads N    (a) client threads (8)\n"
               "  --streams N    (b) SSE streams, 10 per user (1000)\n"
               "  --rate R       (b) thoughts per second while streaming (50)\n"
               "  --seconds S    (b) how long (20)\n"
               "  --parts a,b    parts to run (both)\n"
               "  --set key=value  node configuration override, repeatable\n",
               why == "help" ? "" : "thoughts_bench: ",
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
      else if (a == "--thoughts")
        o.thoughts = std::stoi(args.value());
      else if (a == "--users")
        o.users = std::stoi(args.value());
      else if (a == "--threads")
        o.threads = std::stoi(args.value());
      else if (a == "--streams")
        o.streams = std::stoi(args.value());
      else if (a == "--rate")
        o.rate = std::stod(args.value());
      else if (a == "--seconds")
        o.seconds = std::stod(args.value());
      else if (a == "--parts") {
        auto p = args.value();
        o.part_a = p.find('a') != std::string::npos;
        o.part_b = p.find('b') != std::string::npos;
      } else if (a == "--set")
        o.sets.push_back(args.value());
      else
        usage("unknown option " + a);
    } catch (const std::logic_error&) {
      usage("bad value for " + a);
    }
  }
  if (o.thoughts < 1 || o.users < 1 || o.threads < 1 || o.streams < 10 ||
      o.rate <= 0 || o.seconds <= 0)
    usage("numbers must be positive (--streams at least 10)");
  return o;
}

double pct(std::vector<double> v, double p) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  auto i = static_cast<size_t>(p / 100.0 * static_cast<double>(v.size() - 1));
  return v[i];
}

double seconds_since(steady::time_point t0) {
  return std::chrono::duration<double>(steady::now() - t0).count();
}

// -- the node
// -------------------------------------------------------------------

class node_under_test {
 public:
  node_under_test(const fs::path& dir, const std::vector<std::string>& sets)
      : dir_(dir) {
    std::vector<std::string> argv{
        dt::distiller_binary(),
        "up",
        "--port",
        "0",
        "--name",
        "bench",
        "--data-dir",
        dir.string(),
        "--log-level",
        "warn",
        "--set",
        "kafka.catalog=" +
            (dt::source_dir() / "config" / "topics.toml").string()};
    for (auto& s : sets) {
      argv.push_back("--set");
      argv.push_back(s);
    }
    child_ = std::make_unique<dt::child_process>(
        argv, std::vector<std::string>{}, dir);
    auto file = dir / "node.json";
    if (!dt::wait_until(
            [&] {
              try {
                auto info = json::parse(dt::read_file(file)).as_object();
                port_ = static_cast<uint16_t>(info.at("http_port").as_int64());
                return true;
              } catch (const std::exception&) {
                return !child_->running();
              }
            },
            180s, 50ms) ||
        port_ == 0)
      throw std::runtime_error("the node did not start: " + child_->err());
    if (!dt::wait_until(
            [&] {
              try {
                dt::http_client c{port_};
                return c.get("/ready").status == 200;
              } catch (const std::exception&) {
                return false;
              }
            },
            120s, 100ms))
      throw std::runtime_error("the node did not get ready");
  }

  ~node_under_test() {
    child_->signal(SIGINT);
    if (child_->wait(60s) < 0)
      child_->signal(SIGKILL);
  }

  uint16_t port() const { return port_; }
  int pid() const { return child_->pid(); }
  std::string dsn() const {
    return "host=" + (dir_ / "run").string() +
           " port=5432 dbname=distiller user=postgres";
  }

 private:
  fs::path dir_;
  std::unique_ptr<dt::child_process> child_;
  uint16_t port_ = 0;
};

int64_t scalar(pqxx::connection& c, const std::string& sql) {
  pqxx::nontransaction tx{c};
  return tx.exec1(sql)[0].as<int64_t>();
}

std::string thought_text(int i) {
  static const char* parts[] = {
      "I need to call the plumber by Friday about the leaking tap.",
      "What if we moved the team meeting to Tuesday mornings?",
      "Worried that the release slips again; we should cut scope.",
      "Today I realised the garden needs more shade in summer.",
      "Remember to renew the car insurance before the 12th of March."};
  return std::string{parts[i % 5]} + " (" + std::to_string(i) + ")";
}

/// Submits `n` thoughts over `users` from `threads` keep-alive clients;
/// returns each submission's latency in ms.
std::vector<double> submit_all(uint16_t port,
                               const std::vector<std::string>& users, int n,
                               int threads, int offset) {
  std::vector<double> lat;
  std::mutex mtx;
  std::atomic<int> next{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t)
    ts.emplace_back([&] {
      dt::http_client c{port};
      std::vector<double> mine;
      for (;;) {
        int i = next.fetch_add(1);
        if (i >= n)
          break;
        auto body = json::serialize(json::object{
            {"text", thought_text(offset + i)},
            {"user_id", users[static_cast<size_t>(i) % users.size()]}});
        auto t0 = steady::now();
        auto r = c.post("/thoughts", body);
        mine.push_back(seconds_since(t0) * 1000);
        if (r.status != 202)
          std::fprintf(stderr, "submission answered %u: %s\n", r.status,
                       r.body.c_str());
      }
      std::lock_guard<std::mutex> guard{mtx};
      lat.insert(lat.end(), mine.begin(), mine.end());
    });
  for (auto& t : ts)
    t.join();
  return lat;
}

// -- (a) throughput
// -----------------------------------------------------------------

void part_a(const options& o, node_under_test& node) {
  std::printf("\n## (a) end-to-end throughput\n\n");
  pqxx::connection db{node.dsn()};
  std::vector<std::string> users;
  for (int u = 0; u < o.users; ++u)
    users.push_back(distiller::make_uuid());
  // Warm up: group joins and first connections.
  submit_all(node.port(), users, 20, 2, 1000000);
  dt::wait_until(
      [&] {
        return scalar(db, "SELECT count(*) FROM thoughts WHERE status IN "
                          "('pending', 'processing')") == 0;
      },
      120s, 100ms);
  auto base = scalar(db, "SELECT count(*) FROM thoughts");
  auto cpu0 = bench::process_cpu_seconds(node.pid());
  bench::cpu_meter machine;
  auto t0 = steady::now();
  auto lat = submit_all(node.port(), users, o.thoughts, o.threads, 0);
  auto submitted_s = seconds_since(t0);
  bool done = dt::wait_until(
      [&] {
        return scalar(db, "SELECT count(*) FROM thoughts WHERE status = "
                          "'completed'") >= base + o.thoughts;
      },
      900s, 50ms);
  auto elapsed = seconds_since(t0);
  auto node_cores =
      (bench::process_cpu_seconds(node.pid()) - cpu0) / std::max(elapsed, 1e-9);
  auto failed = scalar(db, "SELECT count(*) FROM thoughts WHERE status = "
                           "'failed'");
  std::vector<double> e2e;
  {
    pqxx::nontransaction tx{db};
    for (const auto& r :
         tx.exec("SELECT extract(epoch FROM completed_at - created_at) * 1000"
                 " FROM thoughts WHERE completed_at IS NOT NULL"
                 " ORDER BY created_at DESC LIMIT " +
                 std::to_string(o.thoughts)))
      e2e.push_back(r[0].as<double>());
  }
  double per_min = o.thoughts / elapsed * 60;
  std::printf("| measure | value |\n| --- | --- |\n");
  std::printf("| thoughts | %d of %d users, %d client threads |\n", o.thoughts,
              o.users, o.threads);
  std::printf("| all completed | %s in %.1f s (submitted in %.1f s) |\n",
              done ? "yes" : "NO (timeout)", elapsed, submitted_s);
  std::printf("| failed | %lld |\n", static_cast<long long>(failed));
  std::printf("| **throughput** | **%.0f thoughts/minute** (target 30,000) |\n",
              per_min);
  std::printf("| baseline: seed 003's target | 180 thoughts/minute → ratio "
              "%.0f× |\n",
              per_min / 180);
  std::printf("| submission latency | p50 %.1f ms, p99 %.1f ms |\n",
              pct(lat, 50), pct(lat, 99));
  std::printf("| submitted → completed | p50 %.0f ms, p99 %.0f ms |\n",
              pct(e2e, 50), pct(e2e, 99));
  std::printf("| CPU | node process %.2f cores; %s |\n", node_cores,
              machine.report().c_str());
}

// -- (b) SSE streams
// ------------------------------------------------------------------

/// Many SSE connections on one io_context thread: each parses its stream
/// and records, for every event with a `time`, now − time.
class stream_clients {
 public:
  stream_clients(uint16_t port, const std::vector<std::string>& users,
                 int per_user)
      : port_(port) {
    for (auto& u : users)
      for (int k = 0; k < per_user; ++k)
        conns_.push_back(std::make_unique<conn>(ioc_, u));
    for (auto& c : conns_)
      start(*c);
    thread_ = std::thread([this] { ioc_.run(); });
  }

  ~stream_clients() {
    ioc_.stop();
    thread_.join();
  }

  size_t ready() const { return ready_.load(); }
  size_t closed() const { return closed_.load(); }

  std::vector<double> take_latencies() {
    std::lock_guard<std::mutex> guard{mtx_};
    return std::exchange(lat_, {});
  }
  size_t events() const { return events_.load(); }

 private:
  struct conn {
    conn(asio::io_context& ioc, std::string u)
        : socket(ioc), user(std::move(u)) {}
    asio::ip::tcp::socket socket;
    std::string user;
    std::string request;
    std::array<char, 8192> buf;
    std::string pending;
    bool got_ready = false;
  };

  void start(conn& c) {
    c.socket.connect({asio::ip::make_address("127.0.0.1"), port_});
    c.request = "GET /thoughts/stream/" + c.user +
                " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream"
                "\r\n\r\n";
    asio::write(c.socket, asio::buffer(c.request));
    read(c);
  }

  void read(conn& c) {
    c.socket.async_read_some(
        asio::buffer(c.buf),
        [this, &c](boost::system::error_code ec, size_t n) {
          if (ec) {
            ++closed_;
            return;
          }
          c.pending.append(c.buf.data(), n);
          scan(c);
          read(c);
        });
  }

  /// Looks at complete data lines only; chunked framing lines are skipped
  /// because they never start with "data: " or "event: ".
  void scan(conn& c) {
    size_t start = 0;
    for (;;) {
      auto nl = c.pending.find('\n', start);
      if (nl == std::string::npos)
        break;
      std::string_view line{c.pending.data() + start, nl - start};
      start = nl + 1;
      if (!c.got_ready && line == "event: ready") {
        c.got_ready = true;
        ++ready_;
        continue;
      }
      if (line.rfind("data: ", 0) != 0)
        continue;
      auto at = line.find("\"time\":\"");
      if (at == std::string_view::npos)
        continue;
      auto t = line.substr(at + 8, 24);
      auto sent = distiller::rfc3339_to_us(t);
      if (sent <= 0)
        continue;
      double ms = static_cast<double>(distiller::now_us() - sent) / 1000.0;
      ++events_;
      std::lock_guard<std::mutex> guard{mtx_};
      lat_.push_back(ms);
    }
    c.pending.erase(0, start);
  }

  uint16_t port_;
  asio::io_context ioc_;
  std::vector<std::unique_ptr<conn>> conns_;
  std::thread thread_;
  std::atomic<size_t> ready_{0};
  std::atomic<size_t> closed_{0};
  std::atomic<size_t> events_{0};
  std::mutex mtx_;
  std::vector<double> lat_;
};

void part_b(const options& o, node_under_test& node) {
  std::printf("\n## (b) %d SSE streams on one node\n\n", o.streams);
  constexpr int per_user = 10;
  int users_n = o.streams / per_user;
  std::vector<std::string> users;
  for (int u = 0; u < users_n; ++u)
    users.push_back(distiller::make_uuid());
  // Let the machine settle after part (a) (PostgreSQL's autovacuum and
  // checkpoint after 20,000 thoughts) before measuring latencies.
  auto settle0 = steady::now();
  for (;;) {
    auto before = bench::machine_jiffies();
    std::this_thread::sleep_for(1s);
    auto after = bench::machine_jiffies();
    double busy = (after.first - before.first) /
                  std::max(1.0, after.second - before.second);
    if (busy < 0.5 || seconds_since(settle0) > 90)
      break;
  }
  std::printf("(waited %.0f s for the machine to settle below 50%% busy)\n\n",
              seconds_since(settle0));
  auto rss0 = bench::resident_kib(node.pid());
  stream_clients clients{node.port(), users, per_user};
  bool all_ready = dt::wait_until(
      [&] { return clients.ready() >= static_cast<size_t>(o.streams); }, 120s,
      50ms);
  std::this_thread::sleep_for(1s); // let the last replays' buffers settle
  auto rss1 = bench::resident_kib(node.pid());
  double per_stream = static_cast<double>(rss1 - rss0) * 1024.0 / o.streams;
  // Thoughts of those users at a fixed rate; every event goes to 10 streams.
  auto cpu0 = bench::process_cpu_seconds(node.pid());
  bench::cpu_meter machine;
  auto t0 = steady::now();
  int total = static_cast<int>(o.rate * o.seconds);
  {
    dt::http_client c{node.port()};
    for (int i = 0; i < total; ++i) {
      auto due = t0 + std::chrono::duration_cast<steady::duration>(
                          std::chrono::duration<double>(i / o.rate));
      std::this_thread::sleep_until(due);
      auto body = json::serialize(json::object{
          {"text", thought_text(i)},
          {"user_id", users[static_cast<size_t>(i) % users.size()]}});
      c.post("/thoughts", body);
    }
  }
  size_t want = static_cast<size_t>(total) * 8 * per_user;
  dt::wait_until([&] { return clients.events() >= want; }, 120s, 50ms);
  auto elapsed = seconds_since(t0);
  auto lat = clients.take_latencies();
  auto node_cores =
      (bench::process_cpu_seconds(node.pid()) - cpu0) / std::max(elapsed, 1e-9);
  std::printf("| measure | value |\n| --- | --- |\n");
  std::printf("| streams | %d (%d users × %d), all synced: %s, closed by the "
              "node: %zu |\n",
              o.streams, users_n, per_user, all_ready ? "yes" : "NO",
              clients.closed());
  std::printf("| **memory per stream** | **%.1f KiB** of node RSS (%ld → %ld "
              "KiB); target < 20 KiB |\n",
              per_stream / 1024, rss0, rss1);
  std::printf("| baseline: best published hub | ~30 KB per connection → "
              "ratio %.2f |\n",
              per_stream / 30000.0);
  std::printf("| events delivered | %zu of %zu (%d thoughts at %.0f/s × 8 "
              "events × %d streams) |\n",
              lat.size(), want, total, o.rate, per_user);
  std::printf("| **publish → receive** | **p50 %.1f ms, p99 %.1f ms**, max "
              "%.1f ms; target p99 < 50 ms |\n",
              pct(lat, 50), pct(lat, 99), pct(lat, 100));
  std::printf("| CPU | node process %.2f cores; %s |\n", node_cores,
              machine.report().c_str());
}

} // namespace

int main(int argc, char** argv) {
  auto o = parse(argc, argv);
  // Two thousand sockets between this process and the node's.
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  std::printf("# thoughts_bench\n\nmachine: %s, %u cores, load %s\n",
              bench::cpu_model().c_str(), std::thread::hardware_concurrency(),
              bench::load_average().c_str());
  dt::temp_dir dir{"distiller-bench-thoughts"};
  try {
    node_under_test node{dir.path(), o.sets};
    if (o.part_a)
      part_a(o, node);
    if (o.part_b)
      part_b(o, node);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "thoughts_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
