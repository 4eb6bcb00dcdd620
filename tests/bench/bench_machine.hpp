#pragma once

/// What the benchmarks print about the machine they ran on and where the
/// CPU went: the CPU model, the load average, this process's CPU time,
/// another process's (/proc/<pid>/stat) and the whole machine's busy share;
/// the median the benchmarks quote and their command-line walk. Header-only:
/// every benchmark is one executable.

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace distiller::bench {

using steady = std::chrono::steady_clock;

inline std::string load_average() {
  double l[3] = {0, 0, 0};
  if (getloadavg(l, 3) != 3)
    return "unknown";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f %.2f %.2f", l[0], l[1], l[2]);
  return buf;
}

inline std::string cpu_model() {
  std::ifstream in{"/proc/cpuinfo"};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0)
      return line.substr(line.find(':') + 2);
  return "unknown";
}

/// Busy and total jiffies of the whole machine (/proc/stat).
inline std::pair<double, double> machine_jiffies() {
  std::ifstream in{"/proc/stat"};
  std::string cpu;
  double v[8] = {};
  in >> cpu;
  for (auto& x : v)
    in >> x;
  double total = 0;
  for (auto x : v)
    total += x;
  return {total - v[3] - v[4], total}; // idle and iowait are not busy
}

/// Process CPU time (user + system) in seconds.
inline double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto tv = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return tv(ru.ru_utime) + tv(ru.ru_stime);
}

/// Where the CPU went over an interval: this process (node and clients) and
/// the whole machine (PostgreSQL's processes and other users included).
class cpu_meter {
 public:
  cpu_meter()
      : wall_(steady::now()), proc_(cpu_seconds()), mach_(machine_jiffies()) {}
  std::string report() const {
    auto wall = std::chrono::duration<double>(steady::now() - wall_).count();
    auto m = machine_jiffies();
    auto busy =
        (m.first - mach_.first) / std::max(1.0, m.second - mach_.second);
    char buf[160];
    std::snprintf(buf, sizeof buf,
                  "this process %.2f cores, machine %.0f%% busy of %u cores",
                  (cpu_seconds() - proc_) / wall, busy * 100,
                  std::thread::hardware_concurrency());
    return buf;
  }

 private:
  steady::time_point wall_;
  double proc_;
  std::pair<double, double> mach_;
};

/// CPU seconds (user + system) of process `pid` so far, 0 if unknown.
inline double process_cpu_seconds(int pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/stat"};
  std::string text((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  auto close = text.rfind(')');
  if (close == std::string::npos)
    return 0;
  std::istringstream fields{text.substr(close + 2)};
  std::string f;
  double utime = 0, stime = 0;
  for (int i = 3; fields >> f; ++i) {
    if (i == 14)
      utime = std::atof(f.c_str());
    if (i == 15) {
      stime = std::atof(f.c_str());
      break;
    }
  }
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

/// Resident memory of process `pid` in KiB (VmRSS), 0 if unknown.
inline long resident_kib(int pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/status"};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0)
      return std::atol(line.c_str() + 6);
  return 0;
}

/// A benchmark's command line, one option at a time:
///   bench::arguments args{argc, argv, [](const std::string& why) {
///     usage(why); // prints and exits
///   }};
///   while (args.next())
///     if (args.option() == "--runs") o.runs = std::stoi(args.value());
class arguments {
 public:
  /// `fail` is called with "missing value for <option>" and must not
  /// return (the benchmarks' usage() exits).
  arguments(int argc, char** argv, std::function<void(const std::string&)> fail)
      : argc_(argc), argv_(argv), fail_(std::move(fail)) {}

  /// Moves to the next option; false past the last.
  bool next() {
    if (++i_ >= argc_)
      return false;
    option_ = argv_[i_];
    return true;
  }

  const std::string& option() const noexcept { return option_; }

  /// The option's value (the next argument).
  std::string value() {
    if (i_ + 1 >= argc_) {
      fail_("missing value for " + option_);
      std::exit(2); // in case `fail` returned
    }
    return argv_[++i_];
  }

 private:
  int argc_;
  char** argv_;
  std::function<void(const std::string&)> fail_;
  int i_ = 0;
  std::string option_;
};

/// The median of `v` (0 if empty): what the benchmarks quote of their runs.
inline double median(std::vector<double> v) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  auto n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

} // namespace distiller::bench
