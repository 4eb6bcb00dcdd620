#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

/// Small text-formatting helpers shared by the Kafka tools' reports.
namespace distiller::kafka::tools {

/// Left-aligned columns separated by two spaces; the first row is usually a
/// header.
class text_table {
 public:
  void add(std::vector<std::string> row);
  /// Writes every row, each prefixed by `indent`.
  void print(std::ostream& out, const std::string& indent = "") const;
  bool empty() const noexcept { return rows_.empty(); }

 private:
  std::vector<std::vector<std::string>> rows_;
};

/// `x` with `digits` decimals ("21.37").
std::string fixed(double x, int digits = 2);

/// "0,1,2" (or "-" when empty).
std::string join(const std::vector<int32_t>& xs, const std::string& sep = ",");

/// "topic[0,2]" — how the tools print a set of partitions.
std::string partitions_text(const std::string& topic,
                            const std::vector<int32_t>& partitions);

/// The ruler line of the seeds' test tools.
inline constexpr const char* ruler =
    "======================================================================";

} // namespace distiller::kafka::tools
