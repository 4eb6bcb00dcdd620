#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace distiller::kafka::tools {

/// How `distiller produce --key-pattern` names record keys, e.g. "job-{i}" →
/// job-1, job-2, … Placeholders:
///   {i}    the record's number, 1-based (seed 000: "Message 1/5")
///   {i0}   the record's number, 0-based
///   {n}    the number of records
///   {uuid} a fresh random UUID (like the seeds' job ids)
///   {rand} 8 random hex digits
///   {ts}   milliseconds since the epoch when the key is made
/// "{{" and "}}" stand for literal braces. An empty pattern makes keyless
/// records.
class key_pattern {
 public:
  /// Throws option_error ("--key-pattern: …") for an unknown placeholder or
  /// an unbalanced brace.
  explicit key_pattern(std::string_view text);

  /// The key of record `i` (1-based) of `n`.
  std::string expand(int64_t i, int64_t n) const;

  bool empty() const noexcept { return parts_.empty(); }

  /// The pattern as given.
  const std::string& text() const noexcept { return text_; }

 private:
  enum class kind { literal, index, index0, count, uuid, rand, timestamp };
  struct part {
    kind k;
    std::string literal;
  };
  std::string text_;
  std::vector<part> parts_;
};

} // namespace distiller::kafka::tools
