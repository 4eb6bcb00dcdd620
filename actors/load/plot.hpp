#pragma once

#include <string>

/// `--plot report.svg|png`: the run drawn by gnuplot (Debian gnuplot-nox):
/// on top the latency over time (p50 and p99 of every histogram per series
/// row, log scale) with the successful requests per second on the right
/// axis; below the percentile distribution (HdrHistogram style: x is
/// 1 / (1 − q), labelled 50 % … 99.999 %).
///
/// `write_plot` writes the data and the script into a temporary directory,
/// runs `gnuplot` (found on PATH) and removes the directory; it throws
/// std::runtime_error when gnuplot is missing or fails (with its stderr).
/// `plot_script` is the pure part.
namespace distiller::load {

struct report;

/// The gnuplot script for `r`, reading `series_file` and `dist_file` and
/// writing `output` (svg or png by extension; others throw).
std::string plot_script(const report& r, const std::string& output,
                        const std::string& series_file,
                        const std::string& dist_file);

void write_plot(const report& r, const std::string& output);

} // namespace distiller::load
