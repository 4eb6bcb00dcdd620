#include "actors/load/progress.hpp"

#include <algorithm>

namespace distiller::load {

progress::progress(progress_mode mode, std::string command, double total_s,
                   uint64_t total_count, std::FILE* out,
                   std::chrono::milliseconds interval)
    : mode_(mode), command_(std::move(command)), total_s_(total_s),
      total_count_(total_count), out_(out), interval_(interval) {}

std::string progress::line(const std::string& command,
                           const progress_snapshot& s, const char* phase,
                           uint64_t waiting, double total_s,
                           uint64_t total_count, bool bar) {
  char buf[256];
  std::string out = command + " " + phase;
  double done = -1;
  if (total_s > 0)
    done = s.elapsed_s / total_s;
  if (total_count > 0) {
    double by_count =
        static_cast<double>(s.sent) / static_cast<double>(total_count);
    done = done < 0 ? by_count : std::max(done, by_count);
  }
  if (bar && done >= 0) {
    constexpr int width = 20;
    int filled = static_cast<int>(std::clamp(done, 0.0, 1.0) * width);
    out += " [" + std::string(static_cast<size_t>(filled), '#') +
           std::string(static_cast<size_t>(width - filled), '.') + "]";
  }
  if (total_s > 0)
    std::snprintf(buf, sizeof(buf), " %.1fs/%.0fs", s.elapsed_s, total_s);
  else
    std::snprintf(buf, sizeof(buf), " %.1fs", s.elapsed_s);
  out += buf;
  double rate = s.elapsed_s > 0 ? static_cast<double>(s.ok) / s.elapsed_s : 0;
  std::snprintf(buf, sizeof(buf), "  %.1f/s  sent %llu  ok %llu  err %llu",
                rate, static_cast<unsigned long long>(s.sent),
                static_cast<unsigned long long>(s.ok),
                static_cast<unsigned long long>(s.errors));
  out += buf;
  if (s.has_p99) {
    std::snprintf(buf, sizeof(buf), "  p99 %.2f ms", s.p99_ms);
    out += buf;
  } else {
    out += "  p99 -";
  }
  if (waiting > 0) {
    std::snprintf(buf, sizeof(buf), "  waiting for %llu",
                  static_cast<unsigned long long>(waiting));
    out += buf;
  }
  return out;
}

void progress::update(const progress_snapshot& s, const char* phase,
                      uint64_t waiting, steady::time_point now) {
  if (mode_ == progress_mode::quiet)
    return;
  auto every =
      mode_ == progress_mode::bar ? std::chrono::milliseconds{250} : interval_;
  if (drawn_ && now - last_ < every)
    return;
  last_ = now;
  drawn_ = true;
  auto text = line(command_, s, phase, waiting, total_s_, total_count_,
                   mode_ == progress_mode::bar);
  if (mode_ == progress_mode::bar)
    std::fprintf(out_, "\r\x1b[2K%s", text.c_str());
  else
    std::fprintf(out_, "%s\n", text.c_str());
  std::fflush(out_);
}

void progress::done() {
  if (mode_ == progress_mode::bar && drawn_) {
    std::fprintf(out_, "\r\x1b[2K");
    std::fflush(out_);
  }
}

} // namespace distiller::load
