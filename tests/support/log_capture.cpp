#include "log_capture.hpp"

#include <cstdio>

#include "runtime/logging/log.hpp"

namespace distiller::testing {

log_capture::log_capture(bool echo) {
  log::set_sink([this, echo](std::string_view line) {
    std::lock_guard<std::mutex> guard{mtx_};
    lines_.emplace_back(line);
    if (echo)
      std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()),
                   line.data());
  });
}

log_capture::~log_capture() {
  log::set_sink({});
}

bool log_capture::contains(std::string_view fragment) const {
  return count(fragment) > 0;
}

size_t log_capture::count(std::string_view fragment) const {
  std::lock_guard<std::mutex> guard{mtx_};
  size_t n = 0;
  for (auto& line : lines_)
    if (line.find(fragment) != std::string::npos)
      ++n;
  return n;
}

std::vector<std::string> log_capture::lines() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return lines_;
}

} // namespace distiller::testing
