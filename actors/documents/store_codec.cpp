#include "actors/documents/store_codec.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include <boost/json.hpp>

namespace distiller::documents {

std::string real_array_literal(const std::vector<float>& values) {
  std::string text = "{";
  char buf[32];
  for (size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i]))
      throw std::invalid_argument("value " + std::to_string(i) +
                                  " is not finite");
    if (i > 0)
      text += ',';
    std::snprintf(buf, sizeof(buf), "%.9g", static_cast<double>(values[i]));
    text += buf;
  }
  text += '}';
  return text;
}

std::vector<float> parse_real_array(std::string_view text) {
  if (text.size() < 2 || text.front() != '{' || text.back() != '}')
    throw std::invalid_argument("malformed real[] '" + std::string{text} + "'");
  std::vector<float> values;
  auto rest = text.substr(1, text.size() - 2);
  while (!rest.empty()) {
    auto comma = rest.find(',');
    auto item = rest.substr(0, comma);
    float value = 0;
    auto [end, ec] =
        std::from_chars(item.data(), item.data() + item.size(), value);
    if (ec != std::errc{} || end != item.data() + item.size())
      throw std::invalid_argument("malformed real '" + std::string{item} +
                                  "' in '" + std::string{text} + "'");
    values.push_back(value);
    if (comma == std::string_view::npos)
      break;
    rest.remove_prefix(comma + 1);
    if (rest.empty())
      throw std::invalid_argument("malformed real[] '" + std::string{text} +
                                  "'");
  }
  return values;
}

std::string bigint_array_literal(const std::vector<int64_t>& values) {
  std::string text = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0)
      text += ',';
    text += std::to_string(values[i]);
  }
  text += '}';
  return text;
}

std::string chunks_to_json(const std::vector<chunk_input>& chunks) {
  boost::json::array arr;
  arr.reserve(chunks.size());
  for (const auto& c : chunks) {
    auto& obj = arr.emplace_back(boost::json::object{}).as_object();
    obj["chunk_index"] = c.chunk_index;
    obj["text"] = c.text;
    obj["token_count"] = c.token_count;
    obj["section"] = c.section;
  }
  return boost::json::serialize(arr);
}

} // namespace distiller::documents
