#include "actors/documents/text/json_text.hpp"

#include <boost/json/error.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/stream_parser.hpp>
#include <boost/json/value.hpp>

namespace distiller::documents {

namespace json = boost::json;

namespace {

bool plain_key(std::string_view key) {
  if (key.empty())
    return false;
  for (char c : key)
    if (c == '.' || c == '[' || c == ']' || c == ' ' || c == '"')
      return false;
  return true;
}

/// Depth is bounded by the parser's max_depth, so recursion is too.
void flatten(const json::value& v, const std::string& path, std::string& out) {
  auto line = [&](std::string_view value) {
    out += path;
    if (!path.empty())
      out += ": ";
    out += value;
    out += "\n\n";
  };
  switch (v.kind()) {
  case json::kind::object:
    for (const auto& [key, child] : v.get_object()) {
      const std::string k(key);
      std::string p =
          plain_key(k)
              ? (path.empty() ? k : path + "." + k)
              : path + "[" + json::serialize(json::value(json::string(key))) +
                    "]";
      flatten(child, p, out);
    }
    break;
  case json::kind::array: {
    size_t i = 0;
    for (const auto& child : v.get_array())
      flatten(child, path + "[" + std::to_string(i++) + "]", out);
    break;
  }
  case json::kind::string:
    line(v.get_string());
    break;
  case json::kind::bool_:
    line(v.get_bool() ? "true" : "false");
    break;
  case json::kind::int64:
  case json::kind::uint64:
  case json::kind::double_:
    line(json::serialize(v));
    break;
  case json::kind::null:
    break;
  }
}

} // namespace

raw_document json_to_text(std::string_view text, const extract_limits& limits) {
  json::monotonic_resource mr;
  json::parse_options opts;
  opts.max_depth = limits.max_json_depth;
  json::stream_parser p(&mr, opts);
  boost::system::error_code ec;
  const size_t used = p.write(text.data(), text.size(), ec);
  if (!ec)
    p.finish(ec);
  if (ec) {
    if (ec == json::error::too_deep)
      throw extract_error("JSON nested more than " +
                          std::to_string(limits.max_json_depth) +
                          " levels deep");
    throw extract_error("invalid JSON at byte " + std::to_string(used) + ": " +
                        ec.message());
  }
  json::value v = p.release();
  raw_document doc;
  flatten(v, "", doc.current());
  return doc;
}

} // namespace distiller::documents
