#pragma once

/// Reading a topic back in tests: every partition from the beginning,
/// without a consumer group (no ~3 s join), until enough records arrived or
/// a deadline passed.

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace distiller::testing {

/// One consumed record, as a test reads it back.
struct read_record {
  int32_t partition = -1;
  int64_t offset = -1;
  std::string key;
  std::string value;
  std::map<std::string, std::string> headers;
};

/// Reads `count` records of `topic` (partitions 0..partitions-1), or
/// whatever arrived by `deadline`.
std::vector<read_record>
read_back(const std::string& bootstrap, const std::string& topic,
          int partitions, size_t count,
          std::chrono::milliseconds deadline = std::chrono::seconds(60));

} // namespace distiller::testing
