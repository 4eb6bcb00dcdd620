#include "bridges/kafka_tools/format.hpp"

#include <algorithm>
#include <cstdio>

namespace distiller::kafka::tools {

void text_table::add(std::vector<std::string> row) {
  rows_.push_back(std::move(row));
}

void text_table::print(std::ostream& out, const std::string& indent) const {
  std::vector<size_t> widths;
  for (auto& row : rows_)
    for (size_t i = 0; i < row.size(); ++i) {
      if (widths.size() <= i)
        widths.push_back(0);
      widths[i] = std::max(widths[i], row[i].size());
    }
  for (auto& row : rows_) {
    std::string line = indent;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size())
        line += std::string(widths[i] - row[i].size() + 2, ' ');
    }
    out << line << '\n';
  }
}

std::string fixed(double x, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", digits, x);
  return buf;
}

std::string join(const std::vector<int32_t>& xs, const std::string& sep) {
  if (xs.empty())
    return "-";
  std::string result;
  for (size_t i = 0; i < xs.size(); ++i) {
    if (i > 0)
      result += sep;
    result += std::to_string(xs[i]);
  }
  return result;
}

std::string partitions_text(const std::string& topic,
                            const std::vector<int32_t>& partitions) {
  std::string result = topic + "[";
  for (size_t i = 0; i < partitions.size(); ++i) {
    if (i > 0)
      result += ",";
    result += std::to_string(partitions[i]);
  }
  return result + "]";
}

} // namespace distiller::kafka::tools
