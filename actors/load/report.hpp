#pragma once

#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "actors/load/recorder.hpp"
#include "actors/load/threshold.hpp"
#include "actors/load/time_series.hpp"

/// The result of a load run: what `--json` writes (schema version 1,
/// documented in docs/load.md), what the summary table and `--plot` show,
/// and what `distiller load compare` reads back. `to_json` and
/// `report_from_json` round-trip every field: latencies are whole
/// microseconds (ms with three decimals), percentiles have four decimals,
/// so their decimal text reads back to the same double. Pure.
namespace distiller::load {

struct latency_summary {
  std::string name;
  uint64_t count = 0;
  double min_ms = 0, mean_ms = 0, p50_ms = 0, p90_ms = 0, p99_ms = 0,
         p999_ms = 0, max_ms = 0;
  /// (percentile 0…100, ms), HdrHistogram-style points for the plot.
  std::vector<std::pair<double, double>> distribution;

  bool operator==(const latency_summary&) const = default;
};

/// The summary of one histogram (distribution included).
latency_summary summarize(const std::string& name, const log_histogram& h);

struct error_summary {
  uint64_t total = 0;
  /// Every class of error_class, zeros included.
  std::map<std::string, uint64_t> by_class;
  std::map<std::string, uint64_t> by_status;
  std::map<std::string, uint64_t> by_kafka_error;

  bool operator==(const error_summary&) const = default;
};

error_summary summarize(const error_counts& e);

struct report_totals {
  uint64_t sent = 0;
  uint64_t ok = 0;
  uint64_t errors = 0;
  /// Successful / sent requests per second of the scheduled window.
  double rate = 0;
  double throughput = 0;
  /// Requests of the warm-up (not in the numbers above).
  uint64_t warmup_sent = 0;
  uint64_t warmup_ok = 0;

  bool operator==(const report_totals&) const = default;
};

struct report {
  int version = 1;
  std::string command;
  std::vector<std::string> argv;
  std::string target;
  boost::json::object model;
  boost::json::object config;
  /// RFC 3339 UTC of the measurement's start and end.
  std::string start, end;
  /// The scheduled window (warm-up excluded) and start → last result.
  double duration_s = 0;
  double elapsed_s = 0;
  bool interrupted = false;
  report_totals totals;
  std::string primary;
  std::vector<latency_summary> latency;
  error_summary errors;
  double series_interval_s = 1;
  std::vector<std::string> series_names;
  std::vector<series_row> series;
  boost::json::object workload;
  std::vector<threshold_result> thresholds;

  bool operator==(const report&) const = default;
};

boost::json::value to_json(const report& r);
/// Throws std::runtime_error naming the first missing or mistyped field.
report report_from_json(const boost::json::value& v);

/// The summary table printed at the end of a run.
void print_summary(const report& r, std::ostream& out);

/// `distiller load compare`: both runs side by side, with b / a ratios.
void print_compare(const report& a, const report& b, const std::string& name_a,
                   const std::string& name_b, std::ostream& out);

} // namespace distiller::load
