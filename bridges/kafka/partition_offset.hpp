#pragma once

/// An offset to commit for one partition of a source bridge's topic: what
/// the bridge's core decides and the consumer loop commits.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

namespace distiller::kafka {

/// An offset to commit for one partition of the bridge's topic.
struct partition_offset {
  int32_t partition = 0;
  int64_t offset = 0;
  bool operator==(const partition_offset&) const = default;
};

/// "0,3,7": partitions as the bridge's log lines name them.
inline std::string join_partitions(const std::vector<int32_t>& xs) {
  std::string out;
  for (auto x : xs) {
    if (!out.empty())
      out += ',';
    out += std::to_string(x);
  }
  return out;
}

/// Removes the offsets of `partitions` from `offsets` (keeping the order of
/// the rest); returns how many it removed.
inline size_t drop_partitions(std::vector<partition_offset>& offsets,
                              const std::vector<int32_t>& partitions) {
  auto before = offsets.size();
  std::erase_if(offsets, [&](const partition_offset& po) {
    return std::find(partitions.begin(), partitions.end(), po.partition) !=
           partitions.end();
  });
  return before - offsets.size();
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, partition_offset& x) {
  return f(caf::meta::type_name("partition_offset"), x.partition, x.offset);
}

} // namespace distiller::kafka
