#pragma once

/// An offset to commit for one partition of a source bridge's topic: what
/// the bridge's core decides and the consumer loop commits.

#include <cstdint>

#include <caf/meta/type_name.hpp>

namespace distiller::kafka {

/// An offset to commit for one partition of the bridge's topic.
struct partition_offset {
  int32_t partition = 0;
  int64_t offset = 0;
  bool operator==(const partition_offset&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, partition_offset& x) {
  return f(caf::meta::type_name("partition_offset"), x.partition, x.offset);
}

} // namespace distiller::kafka
