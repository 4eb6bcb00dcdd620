#pragma once

/// Reading a topic back in tests: every partition from the beginning,
/// without a consumer group (no ~3 s join), until enough records arrived or
/// a deadline passed. Records come as workers and the Kafka tools see them
/// (`kafka::in_record`, converted by `kafka::fill_record`).

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "bridges/kafka/in_record.hpp"

namespace distiller::testing {

/// Reads `count` records of `topic` (partitions 0..partitions-1), or
/// whatever arrived by `deadline`.
std::vector<kafka::in_record>
read_back(const std::string& bootstrap, const std::string& topic,
          int partitions, size_t count,
          std::chrono::milliseconds deadline = std::chrono::seconds(60));

/// The text of `r`'s first header called `name`, "" if it has none (what
/// assertions on dead letters' headers compare).
inline std::string header_text(const kafka::in_record& r,
                               std::string_view name) {
  return std::string{r.header(name).value_or(std::string_view{})};
}

} // namespace distiller::testing
