#include "bridges/kafka/partitioner.hpp"

#include <algorithm>

namespace distiller::kafka {

const std::vector<std::string>& partitioner_names() {
  // In enum order.
  static const std::vector<std::string> names{
      "murmur2_random", "murmur2", "consistent", "consistent_random", "fnv1a",
      "fnv1a_random",   "random",  "sticky",     "round-robin"};
  return names;
}

std::optional<partitioner> partitioner_from_name(std::string_view name) {
  auto& names = partitioner_names();
  auto i = std::find(names.begin(), names.end(), name);
  if (i == names.end())
    return std::nullopt;
  return static_cast<partitioner>(i - names.begin());
}

std::string to_string(partitioner x) {
  return partitioner_names().at(static_cast<size_t>(x));
}

std::map<std::string, std::string> partitioner_properties(partitioner x,
                                                          long long linger_ms) {
  switch (x) {
  case partitioner::sticky:
    return {{"partitioner", "murmur2_random"},
            {"sticky.partitioning.linger.ms",
             std::to_string(std::max(1LL, 2 * linger_ms))}};
  case partitioner::round_robin:
    return {{"partitioner", "random"}, {"sticky.partitioning.linger.ms", "0"}};
  default:
    return {{"partitioner", to_string(x)}};
  }
}

} // namespace distiller::kafka
