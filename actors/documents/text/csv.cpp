#include "actors/documents/text/csv.hpp"

#include <algorithm>
#include <array>
#include <vector>

namespace distiller::documents {

namespace {

/// The delimiter that splits the first line most often (outside quotes).
char sniff_delimiter(std::string_view csv) {
  constexpr std::array<char, 4> candidates = {',', ';', '\t', '|'};
  std::array<size_t, 4> counts{};
  bool quoted = false;
  for (char c : csv.substr(0, 64 * 1024)) {
    if (c == '"')
      quoted = !quoted;
    else if (!quoted && (c == '\n' || c == '\r'))
      break;
    else if (!quoted)
      for (size_t i = 0; i < candidates.size(); ++i)
        if (c == candidates[i])
          ++counts[i];
  }
  const auto best = std::max_element(counts.begin(), counts.end());
  return *best == 0 ? ','
                    : candidates[static_cast<size_t>(best - counts.begin())];
}

/// Reads records one at a time; each field is trimmed of surrounding
/// spaces (outside quotes).
class record_reader {
 public:
  record_reader(std::string_view s, char delim, size_t max_record)
      : s_(s), delim_(delim), max_(max_record) {}

  /// The next record's fields; false at the end of the input.
  bool next(std::vector<std::string>& fields) {
    fields.clear();
    if (pos_ >= s_.size())
      return false;
    ++line_;
    const size_t start = pos_;
    const size_t first_line = line_;
    std::string field;
    bool quoted = false;     // inside quotes
    bool was_quoted = false; // this field had quotes
    auto finish_field = [&] {
      if (!was_quoted) {
        const auto b = field.find_first_not_of(" \t");
        field = b == std::string::npos
                    ? std::string()
                    : field.substr(b, field.find_last_not_of(" \t") - b + 1);
      }
      fields.push_back(std::move(field));
      field.clear();
      was_quoted = false;
    };
    while (pos_ < s_.size()) {
      if (pos_ - start > max_)
        throw extract_error("CSV record at line " + std::to_string(first_line) +
                            " is longer than " + std::to_string(max_) +
                            " bytes (an unclosed quote?)");
      const char c = s_[pos_++];
      if (quoted) {
        if (c == '"') {
          if (pos_ < s_.size() && s_[pos_] == '"') {
            field.push_back('"');
            ++pos_;
          } else {
            quoted = false;
          }
        } else {
          if (c == '\n')
            ++line_;
          field.push_back(c);
        }
        continue;
      }
      if (c == '"' && field.find_first_not_of(" \t") == std::string::npos) {
        field.clear();
        quoted = was_quoted = true;
      } else if (c == delim_) {
        finish_field();
      } else if (c == '\n' || c == '\r') {
        if (c == '\r' && pos_ < s_.size() && s_[pos_] == '\n')
          ++pos_;
        break;
      } else {
        field.push_back(c);
      }
    }
    finish_field();
    return true;
  }

 private:
  std::string_view s_;
  char delim_;
  size_t max_;
  size_t pos_ = 0;
  size_t line_ = 0;
};

bool blank(const std::vector<std::string>& fields) {
  return std::all_of(fields.begin(), fields.end(),
                     [](const std::string& f) { return f.empty(); });
}

} // namespace

raw_document csv_to_text(std::string_view csv, const extract_limits& limits) {
  record_reader reader(csv, sniff_delimiter(csv), limits.max_csv_record_bytes);
  std::vector<std::string> header;
  std::vector<std::string> fields;
  while (reader.next(header) && blank(header)) {
  }
  raw_document doc;
  std::string& out = doc.current();
  while (reader.next(fields)) {
    std::string row;
    for (size_t i = 0; i < fields.size(); ++i) {
      if (fields[i].empty())
        continue;
      const std::string name = i < header.size() && !header[i].empty()
                                   ? header[i]
                                   : "column " + std::to_string(i + 1);
      row += (row.empty() ? "" : "; ") + name + ": " + fields[i];
    }
    if (row.empty())
      continue;
    out += row;
    out += "\n\n";
  }
  return doc;
}

} // namespace distiller::documents
