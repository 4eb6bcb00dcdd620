#pragma once

#include <string>
#include <string_view>

/// Pass/fail criteria of a load run (`--threshold`, repeatable), k6-style:
///
///     [HISTOGRAM.]p50|p90|p99|p999|max|mean|min OP VALUE[us|ms|s|m|h]
///     errors OP VALUE[%]        (a share of sent requests, or a count)
///     rate OP VALUE[/s]          (successful requests per second)
///
/// OP is <, <=, > or >=; a latency without a unit is in milliseconds; a
/// latency without a histogram name is about the workload's primary one.
/// Examples: `p99<50ms`, `completed.p99<=5s`, `errors<1%`, `rate>100`.
/// Parsing is pure and throws usage_error naming the text.
namespace distiller::load {

struct report;

struct threshold {
  enum class metric { p50, p90, p99, p999, max, mean, min, errors, rate };
  enum class op { lt, le, gt, ge };

  std::string text;
  /// Empty: the primary histogram.
  std::string histogram;
  metric what = metric::p99;
  op cmp = op::lt;
  /// Milliseconds for latencies; a fraction (0.01) or a count for errors;
  /// requests per second for rate.
  double value = 0;
  bool percent = false;
};

threshold parse_threshold(std::string_view text);

struct threshold_result {
  std::string text;
  bool ok = false;
  /// The measured value in the threshold's unit, and as text ("73.2 ms").
  double actual = 0;
  std::string shown;

  bool operator==(const threshold_result&) const = default;
};

/// Evaluates against a finished report; an unknown histogram name fails
/// with shown = "no histogram NAME".
threshold_result evaluate(const threshold& t, const report& r);

} // namespace distiller::load
