#include "actors/app/load_commands.hpp"

#include "actors/app/auth_command.hpp"

#include <signal.h>

#include <atomic>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "actors/load/run.hpp"
#include "actors/load/target.hpp"
#include "runtime/config/schema.hpp"

namespace distiller::app {

namespace {

std::atomic<bool> load_stop{false};

extern "C" void on_load_signal(int) {
  load_stop = true;
}

/// Ctrl-C ends the run early with a report; a second one ends the process.
void install_load_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_load_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESETHAND;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

/// Seconds: a bare number ("30", "0.5") or a duration ("500ms", "2m").
std::optional<double> parse_seconds(const std::string& text) {
  try {
    size_t used = 0;
    double secs = std::stod(text, &used);
    if (used == text.size() && secs >= 0)
      return secs;
  } catch (const std::exception&) {
  }
  if (auto d = config::parse_duration(text))
    return static_cast<double>(d->count()) / 1000.0;
  return std::nullopt;
}

CLI::Validator seconds_check() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        return parse_seconds(text) ? std::string{}
                                   : "expected seconds (30, 0.5) or a "
                                     "duration (500ms, 2m, 1h), got \"" +
                                         text + "\"";
      },
      "DURATION");
}

CLI::Validator bytes_check() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        return config::parse_bytes(text)
                   ? std::string{}
                   : "expected a size (2048, 4KiB, 1MiB), got \"" + text + "\"";
      },
      "BYTES");
}

} // namespace

struct load_commands::impl {
  CLI::App* load = nullptr;
  CLI::App* docs = nullptr;
  CLI::App* thoughts = nullptr;
  CLI::App* sse = nullptr;
  CLI::App* kafka = nullptr;
  CLI::App* compare = nullptr;
  load::load_options o;
  std::string duration, warmup, timeout = "30", drain, job_timeout = "300",
                                reconnect_every, size;
  std::string compare_a, compare_b;

  void add_common(CLI::App& cmd, bool http) {
    if (http) {
      cmd.add_option("--target", o.target,
                     "The node: http://HOST:PORT (default: the local node of "
                     "<data-dir>/node.json)");
      cmd.add_option("--token", o.token,
                     "API token for a node that requires one (default: "
                     "$DISTILLER_TOKEN)");
    }
    cmd.add_option("--allow-host", o.allow_hosts,
                   "Allow this non-loopback host in --target/--brokers "
                   "(repeatable; load goes nowhere else)");
    cmd.add_option("-d,--duration", duration,
                   "How long to send after the warm-up (30s, 5m, 1h)")
        ->check(seconds_check());
    cmd.add_option("-n,--count", o.count,
                   "How many requests to send after the warm-up");
    cmd.add_option("--warmup", warmup,
                   "Send at the same pace for this long first, not counted")
        ->check(seconds_check());
    auto rate = cmd.add_option(
        "-r,--rate", o.rate,
        "Open model: requests per second, each scheduled at start + i/rate "
        "and timed from then (default: docs 10, thoughts 50, sse 10, kafka "
        "1000)");
    rate->check(CLI::PositiveNumber);
    cmd.add_option("--concurrency", o.concurrency,
                   "Closed model: this many workers sending back to back")
        ->check(CLI::Range(1, 100000))
        ->excludes(rate);
    if (http && &cmd != sse)
      cmd.add_option("--connections", o.connections,
                     "Keep-alive connections of the open model (default: "
                     "rate / 10, 2 to 256)")
          ->check(CLI::Range(1, 10000));
    cmd.add_option("--timeout", timeout,
                   "A request without an answer after this long is a "
                   "timeout")
        ->check(seconds_check())
        ->capture_default_str();
    cmd.add_option("--drain", drain,
                   "After the schedule, wait at most this long for answers "
                   "and completions (default: docs/thoughts 60s, sse/kafka "
                   "30s)")
        ->check(seconds_check());
    cmd.add_option("--json", o.json_path, "Write the report (docs/load.md)");
    cmd.add_option("--plot", o.plot_path,
                   "Draw the run with gnuplot: report.svg or report.png");
    cmd.add_option("--threshold", o.thresholds,
                   "Exit 1 unless met (repeatable): p99<50ms, "
                   "completed.p99<5s, p50/p90/p999/max/mean, errors<1%, "
                   "rate>100");
    cmd.add_flag("--no-progress", o.no_progress,
                 "Plain progress lines every 5 s instead of the bar");
    cmd.add_flag("-q,--quiet", o.quiet, "Only the summary");
  }
};

load_commands::load_commands(CLI::App& app, config_flags& flags)
    : impl_(std::make_unique<impl>()) {
  auto& x = *impl_;
  x.load = app.add_subcommand(
      "load", "Load tests against a node or a cluster: percentiles without "
              "coordinated omission, progress, JSON report, plot, thresholds "
              "(docs/load.md)");
  x.load->require_subcommand(1);
  auto sub = [&](const char* name, const char* help) {
    auto cmd = x.load->add_subcommand(name, help);
    add_client_config_flags(*cmd, flags);
    return cmd;
  };

  x.docs = sub("docs", "Upload documents; time to 202 and to completed (over "
                       "each job's event stream); documents/minute");
  x.add_common(*x.docs, true);
  x.docs->add_option("--folder", x.o.folder,
                     "Upload these files (sorted, cycled) instead of "
                     "generated texts");
  x.docs
      ->add_option("--size", x.size,
                   "Size of each generated text (default 2048)")
      ->check(bytes_check());
  x.docs
      ->add_option("--job-timeout", x.job_timeout,
                   "A job not completed or failed after this long counts "
                   "as timed out")
      ->check(seconds_check())
      ->capture_default_str();

  x.thoughts = sub("thoughts", "Submit thoughts for many users; time to 202 "
                               "and to thought_completed; per-user order "
                               "checked");
  x.add_common(*x.thoughts, true);
  x.thoughts
      ->add_option("--users", x.o.users,
                   "Users (one stream each, opened first; default "
                   "100)")
      ->check(CLI::Range(1, 100000));

  x.sse = sub("sse", "Hold N event streams and publish into them; "
                     "publish->receive latency; gaps, duplicates, reorders; "
                     "reconnect storms");
  x.add_common(*x.sse, true);
  x.sse
      ->add_option("--connections", x.o.connections,
                   "Streams to hold (default 100)")
      ->check(CLI::Range(1, 100000));
  x.sse
      ->add_option("--users", x.o.users,
                   "Users the streams are spread over (default "
                   "connections / 10)")
      ->check(CLI::Range(1, 100000));
  x.sse
      ->add_option("--reconnect-every", x.reconnect_every,
                   "Close every stream at once this often and resume it "
                   "with Last-Event-ID")
      ->check(seconds_check());

  x.kafka = sub("kafka", "Produce and consume at a rate; end-to-end latency "
                         "from a timestamp in each record");
  x.add_common(*x.kafka, false);
  x.kafka->add_option("-t,--topic", x.o.topic,
                      "Topic (default: a fresh load-<random>)");
  x.kafka
      ->add_option("--partitions", x.o.partitions,
                   "Partitions of a topic created on a real cluster")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  x.kafka->add_option("--size", x.size, "Record size (default 256)")
      ->check(bytes_check());
  x.kafka->add_option("--acks", x.o.acks, "0, 1 or all")
      ->check(CLI::IsMember({"0", "1", "all"}))
      ->capture_default_str();
  x.kafka->add_flag("--keep-topic", x.o.keep_topic,
                    "Do not delete the topic created on a real cluster");

  x.compare = x.load->add_subcommand("compare",
                                     "Two reports side by side, with ratios");
  x.compare->add_option("a", x.compare_a, "The first report (--json)")
      ->required();
  x.compare->add_option("b", x.compare_b, "The second report")->required();
}

load_commands::~load_commands() = default;

bool load_commands::parsed() const {
  return impl_->load->parsed();
}

int load_commands::run(const node::node_config& cfg) {
  auto& x = *impl_;
  try {
    if (x.compare->parsed())
      return load::run_compare(x.compare_a, x.compare_b, std::cout);
    auto o = x.o;
    for (auto* c : {x.docs, x.thoughts, x.sse, x.kafka})
      if (c->parsed())
        o.command = c->get_name();
    auto secs = [](const std::string& t, double fallback) {
      return t.empty() ? fallback : *parse_seconds(t);
    };
    o.duration_s = secs(x.duration, 0);
    o.warmup_s = secs(x.warmup, 0);
    o.timeout_s = secs(x.timeout, 30);
    o.drain_s = secs(x.drain, -1);
    o.job_timeout_s = secs(x.job_timeout, 300);
    o.reconnect_every_s = secs(x.reconnect_every, 0);
    if (!x.size.empty())
      o.size = *config::parse_bytes(x.size);
    o.argv = {"distiller", "load", o.command};
    for (auto* opt : (o.command == "docs"       ? x.docs
                      : o.command == "thoughts" ? x.thoughts
                      : o.command == "sse"      ? x.sse
                                                : x.kafka)
                         ->get_options())
      for (auto& r : opt->results()) {
        if (opt->get_name().empty() || opt->get_name() == "--help")
          continue;
        // The report is shared: it names a token, never shows it.
        o.argv.push_back(opt->get_name() + "=" +
                         (opt->get_name() == "--token" ? "***" : r));
      }
    o.token = token_or_env(o.token);
    install_load_handlers();
    return load::run_load(o, cfg.kafka, cfg.runtime.node.data_dir, std::cout,
                          &load_stop);
  } catch (const load::usage_error& e) {
    std::fprintf(stderr, "distiller: %s\n", e.what());
    return exit_config_error;
  } catch (const std::exception& e) {
    std::cout << std::flush;
    std::fprintf(stderr, "distiller: %s\n", e.what());
    return 1;
  }
}

std::unique_ptr<load_commands> add_load_commands(CLI::App& app,
                                                 config_flags& flags) {
  return std::make_unique<load_commands>(app, flags);
}

} // namespace distiller::app
