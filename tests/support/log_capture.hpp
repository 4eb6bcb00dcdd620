#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace distiller::testing {

/// Collects the node's log lines while alive (and, if asked, still prints
/// them to stderr). Installs itself as the log sink; restores the default
/// sink on destruction.
class log_capture {
 public:
  explicit log_capture(bool echo = false);
  ~log_capture();
  log_capture(const log_capture&) = delete;
  log_capture& operator=(const log_capture&) = delete;

  /// Whether any captured line contains `fragment`.
  bool contains(std::string_view fragment) const;

  /// How many captured lines contain `fragment`.
  size_t count(std::string_view fragment) const;

  /// A copy of every captured line.
  std::vector<std::string> lines() const;

 private:
  mutable std::mutex mtx_;
  std::vector<std::string> lines_;
};

} // namespace distiller::testing
