#include "actors/load/plot.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

#include "actors/load/report.hpp"

namespace distiller::load {

namespace fs = std::filesystem;

namespace {

std::string extension(const std::string& path) {
  auto ext = fs::path{path}.extension().string();
  for (auto& c : ext)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

/// Single-quoted for gnuplot (which doubles no quotes: ' cannot appear).
std::string quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s)
    out += c == '\'' ? '"' : c;
  return out + "'";
}

std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.6g", v);
  return buf;
}

} // namespace

std::string plot_script(const report& r, const std::string& output,
                        const std::string& series_file,
                        const std::string& dist_file) {
  auto ext = extension(output);
  std::ostringstream s;
  if (ext == ".svg")
    s << "set terminal svg size 1000,820 dynamic enhanced font 'sans,11' "
         "background '#ffffff'\n";
  else if (ext == ".png")
    s << "set terminal pngcairo size 1000,820 enhanced font 'sans,10' "
         "background '#ffffff'\n";
  else
    throw std::runtime_error("--plot: " + output +
                             ": the name must end in .svg or .png");
  s << "set output " << quoted(output) << "\n";
  s << "set datafile missing 'NaN'\n";
  s << "set grid\nset key outside right top vertical\n";
  s << "set multiplot layout 2,1 title "
    << quoted("distiller load " + r.command + " -> " + r.target) << "\n";
  // -- latency over time
  s << "set title 'Latency over time (p50 and p99 per "
    << number(r.series_interval_s) << " s row; ok/s on the right)'\n";
  s << "set xlabel 'seconds since the start'\nset ylabel 'latency (ms)'\n";
  s << "set logscale y\nset y2label 'ok / s'\nset y2tics\nset ytics nomirror\n";
  // Headroom above the steady rate, so its line is not drawn on the frame.
  double top = 0;
  for (auto& row : r.series)
    if (row.dt > 0)
      top = std::max(top, static_cast<double>(row.ok) / row.dt);
  s << "set y2range [0:" << number(top > 0 ? top * 1.3 : 1) << "]\n";
  s << "plot ";
  bool first = true;
  for (size_t i = 0; i < r.series_names.size(); ++i) {
    // 1-based columns: t dt sent ok errors ok/s, then count p50 p99 each.
    auto col = 7 + 3 * i;
    auto& n = r.series_names[i];
    s << (first ? "" : ", ") << quoted(series_file) << " using 1:" << col + 1
      << " with lines lw 1.5 title " << quoted(n + " p50") << ", "
      << quoted(series_file) << " using 1:" << col + 2
      << " with lines lw 1.5 title " << quoted(n + " p99");
    first = false;
  }
  s << (first ? "" : ", ") << quoted(series_file)
    << " using 1:6 axes x1y2 with lines dt 2 lc rgb '#888888' title "
       "'ok/s'\n";
  // -- distribution
  s << "unset y2label\nunset y2tics\nset ytics mirror\n";
  s << "set title 'Latency by percentile (whole run)'\n";
  s << "set xlabel 'percentile'\nset ylabel 'latency (ms)'\n";
  s << "set logscale x\nset xrange [1:*]\n";
  s << "set xtics ('0%%' 1, '90%%' 10, '99%%' 100, '99.9%%' 1000, '99.99%%' "
       "10000, '99.999%%' 100000, '99.9999%%' 1000000)\n";
  s << "plot ";
  first = true;
  for (size_t i = 0; i < r.latency.size(); ++i) {
    if (r.latency[i].count == 0)
      continue;
    s << (first ? "" : ", ") << quoted(dist_file) << " index " << i
      << " using 2:3 with linespoints pt 7 ps 0.4 lw 1.5 title "
      << quoted(r.latency[i].name);
    first = false;
  }
  if (first)
    s << "1/0 notitle";
  s << "\nunset multiplot\n";
  return s.str();
}

void write_plot(const report& r, const std::string& output) {
  std::random_device rd;
  auto dir =
      fs::temp_directory_path() / ("distiller-plot-" + std::to_string(rd()) +
                                   "-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  struct cleanup {
    fs::path p;
    ~cleanup() {
      std::error_code ec;
      fs::remove_all(p, ec);
    }
  } guard{dir};
  auto series_file = (dir / "series.dat").string();
  auto dist_file = (dir / "distribution.dat").string();
  {
    std::ofstream out{series_file};
    out << "# t dt sent ok errors ok_per_s";
    for (auto& n : r.series_names)
      out << " " << n << "_count " << n << "_p50_ms " << n << "_p99_ms";
    out << "\n";
    for (auto& row : r.series) {
      // Rows are drawn at their middle.
      // A last, partial row would show a misleading rate: left out there.
      bool partial = row.dt < 0.5 * r.series_interval_s;
      out << number(row.t + row.dt / 2) << " " << number(row.dt) << " "
          << row.sent << " " << row.ok << " " << row.errors << " "
          << (partial ? std::string{"NaN"}
                      : number(static_cast<double>(row.ok) / row.dt));
      for (size_t i = 0; i < r.series_names.size() && i < max_histograms; ++i) {
        auto& l = row.latency[i];
        // A log axis cannot show 0: below 1 µs is drawn at 1 µs.
        out << " " << l.count << " "
            << (l.count ? number(std::max(l.p50_ms, 0.001)) : "NaN") << " "
            << (l.count ? number(std::max(l.p99_ms, 0.001)) : "NaN");
      }
      out << "\n";
    }
  }
  {
    std::ofstream out{dist_file};
    for (auto& l : r.latency) {
      out << "# " << l.name << ": percentile 1/(1-q) ms\n";
      for (auto& [p, v] : l.distribution) {
        if (p >= 100.0)
          continue; // 1 / (1 - 1) is not on the axis; the max is the table's
        out << number(p) << " " << number(1.0 / (1.0 - p / 100.0)) << " "
            << number(std::max(v, 0.001)) << "\n";
      }
      if (l.distribution.empty())
        out << "50 2 NaN\n";
      out << "\n\n";
    }
  }
  auto script_file = dir / "plot.gp";
  {
    std::ofstream out{script_file};
    out << plot_script(r, fs::absolute(output).string(), series_file,
                       dist_file);
  }
  auto err_file = dir / "gnuplot.err";
  auto pid = ::fork();
  if (pid < 0)
    throw std::runtime_error("--plot: fork failed");
  if (pid == 0) {
    std::FILE* e = std::freopen(err_file.c_str(), "w", stderr);
    static_cast<void>(e);
    ::execlp("gnuplot", "gnuplot", script_file.c_str(),
             static_cast<char*>(nullptr));
    std::fprintf(stderr, "exec failed\n");
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  std::string err;
  {
    std::ifstream in{err_file};
    std::stringstream buf;
    buf << in.rdbuf();
    err = buf.str();
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
    throw std::runtime_error("--plot: gnuplot was not found; install Debian's "
                             "gnuplot-nox (scripts/deps does)");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error("--plot: gnuplot failed: " + err);
}

} // namespace distiller::load
