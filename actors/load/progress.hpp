#pragma once

#include <chrono>
#include <cstdio>
#include <string>

#include "actors/load/recorder.hpp"

/// The live view of a run on stderr: on a terminal one line redrawn at most
/// four times a second (phase, a bar, elapsed, rate, ok, errors, the p99 of
/// the last second); otherwise — not a terminal, or --no-progress — a plain
/// line every `interval` (5 s). Quiet prints nothing. Not thread-safe: one
/// caller (the run's timer).
namespace distiller::load {

enum class progress_mode { bar, lines, quiet };

class progress {
 public:
  /// `total_s` (0: unknown) and `total_count` (0: unknown) size the bar.
  progress(progress_mode mode, std::string command, double total_s,
           uint64_t total_count, std::FILE* out = stderr,
           std::chrono::milliseconds interval = std::chrono::seconds{5});

  /// Shows the state; `phase` is "warm-up", "running" or "draining";
  /// `waiting` what the drain waits for (0: nothing shown).
  void update(const progress_snapshot& s, const char* phase, uint64_t waiting,
              steady::time_point now);
  /// Clears the bar line (before the summary).
  void done();

  /// The text of one line (pure).
  static std::string line(const std::string& command,
                          const progress_snapshot& s, const char* phase,
                          uint64_t waiting, double total_s,
                          uint64_t total_count, bool bar);

 private:
  progress_mode mode_;
  std::string command_;
  double total_s_;
  uint64_t total_count_;
  std::FILE* out_;
  std::chrono::milliseconds interval_;
  steady::time_point last_{};
  bool drawn_ = false;
};

} // namespace distiller::load
