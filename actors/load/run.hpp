#pragma once

#include <atomic>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "bridges/kafka/kafka_config.hpp"

/// `distiller load docs|thoughts|sse|kafka` and `distiller load compare`:
/// the options as the command line gives them, checked once, and the whole
/// run — target, workload, driver, summary, `--json`, `--plot`,
/// `--threshold` — in one call. See docs/load.md.
///
/// Exit codes: 0 done and every threshold met; 1 a threshold missed, or the
/// run could not be made (no node, the streams did not open, a write
/// failed); 2 bad usage (the message names the option), including a target
/// that is neither loopback nor named with --allow-host.
namespace distiller::load {

struct load_options {
  /// docs, thoughts, sse or kafka.
  std::string command;
  std::vector<std::string> argv;

  // -- where
  std::string target;
  std::vector<std::string> allow_hosts;
  /// The API token (auth.tokens) of a node that requires one.
  std::string token;

  // -- how long and how hard (0 / empty: the command's default)
  double duration_s = 0;
  uint64_t count = 0;
  double warmup_s = 0;
  double rate = 0;
  int concurrency = 0;
  int connections = 0;
  double timeout_s = 30;
  double drain_s = -1;

  // -- output
  std::string json_path;
  std::string plot_path;
  std::vector<std::string> thresholds;
  bool no_progress = false;
  bool quiet = false;

  // -- docs
  std::string folder;
  uint64_t size = 0;
  double job_timeout_s = 300;

  // -- thoughts, sse
  int users = 0;
  double reconnect_every_s = 0;

  // -- kafka
  std::string topic;
  int partitions = 3;
  std::string acks = "all";
  bool keep_topic = false;
};

/// Default --rate of a command (requests, thoughts or records per second).
double default_rate(const std::string& command);

/// Default pool size for a rate: one connection per 10 requests/s (each
/// may take 100 ms before requests queue), at least 2, at most 256.
int default_connections(double rate);

/// Runs one load command; `kafka` and `data_dir` locate the node's embedded
/// cluster and node.json; `out` gets the summary, stderr the progress.
int run_load(const load_options& o, const kafka::kafka_config& kafka,
             const std::string& data_dir, std::ostream& out,
             const std::atomic<bool>* stop);

/// `distiller load compare a.json b.json`.
int run_compare(const std::string& a, const std::string& b, std::ostream& out);

} // namespace distiller::load
