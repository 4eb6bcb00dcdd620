#pragma once

/// The fuzz targets' invariant check: `FUZZ_CHECK(cond, what)` prints the
/// broken invariant with its place and aborts, which libFuzzer reports as a
/// crash (and saves the input) and the replay build as a failed test.
/// `fuzz_input` splits an input into fields at the first separator bytes,
/// so one target can feed several arguments from one byte string.

#include <cstdio>
#include <cstdlib>
#include <string_view>

#define FUZZ_CHECK(cond, what)                                                 \
  do {                                                                         \
    if (!(cond)) {                                                             \
      std::fprintf(stderr, "%s:%d: invariant broken: %s (%s)\n", __FILE__,     \
                   __LINE__, what, #cond);                                     \
      std::abort();                                                            \
    }                                                                          \
  } while (false)

namespace distiller::fuzzing {

/// Reads an input front to back: a selector byte, then fields.
class fuzz_input {
 public:
  explicit fuzz_input(std::string_view data) : rest_(data) {}

  /// The next byte (0 when none is left).
  unsigned char byte() {
    if (rest_.empty())
      return 0;
    auto b = static_cast<unsigned char>(rest_.front());
    rest_.remove_prefix(1);
    return b;
  }

  /// Everything up to the next `sep` (which is consumed), or the rest.
  std::string_view field(char sep = '\n') {
    auto at = rest_.find(sep);
    auto out = rest_.substr(0, at);
    rest_ = at == std::string_view::npos ? std::string_view{}
                                         : rest_.substr(at + 1);
    return out;
  }

  /// Whatever is left.
  std::string_view rest() const { return rest_; }

 private:
  std::string_view rest_;
};

} // namespace distiller::fuzzing
