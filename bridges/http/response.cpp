#include "bridges/http/response.hpp"

#include <algorithm>
#include <cctype>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace distiller::http {

namespace {

/// `text` with every byte that is not part of well-formed UTF-8 (RFC 3629:
/// no overlong forms, surrogates or code points past U+10FFFF) replaced by
/// U+FFFD. Error details quote what the client sent (a path, a header);
/// raw bytes there would make the body invalid JSON.
std::string valid_utf8(std::string text) {
  auto at = [&](size_t i) {
    return static_cast<unsigned char>(text[i]);
  };
  auto cont = [&](size_t i) {
    return i < text.size() && (at(i) & 0xC0) == 0x80;
  };
  std::string out;
  size_t i = 0;
  bool clean = true;
  while (i < text.size()) {
    unsigned char c = at(i);
    size_t n = 0;
    if (c < 0x80)
      n = 1;
    else if (c >= 0xC2 && c <= 0xDF && cont(i + 1))
      n = 2;
    else if (c >= 0xE0 && c <= 0xEF && cont(i + 1) && cont(i + 2) &&
             !(c == 0xE0 && at(i + 1) < 0xA0) && // overlong
             !(c == 0xED && at(i + 1) >= 0xA0))  // surrogates
      n = 3;
    else if (c >= 0xF0 && c <= 0xF4 && cont(i + 1) && cont(i + 2) &&
             cont(i + 3) && !(c == 0xF0 && at(i + 1) < 0x90) &&
             !(c == 0xF4 && at(i + 1) >= 0x90))
      n = 4;
    if (n == 0) {
      if (clean)
        out.assign(text, 0, i);
      clean = false;
      out += "\xEF\xBF\xBD";
      ++i;
      continue;
    }
    if (!clean)
      out.append(text, i, n);
    i += n;
  }
  return clean ? text : out;
}

} // namespace

response response::json(unsigned status, const boost::json::value& v) {
  response r;
  r.status = status;
  r.body = boost::json::serialize(v);
  return r;
}

response response::error(unsigned status, std::string error,
                         std::string detail) {
  boost::json::object body;
  body["error"] = valid_utf8(std::move(error));
  body["detail"] = valid_utf8(std::move(detail));
  return json(status, body);
}

response response::text(unsigned status, std::string body,
                        std::string content_type) {
  response r;
  r.status = status;
  r.content_type = std::move(content_type);
  r.body = std::move(body);
  return r;
}

response& response::with_header(std::string name, std::string value) {
  headers.emplace_back(std::move(name), std::move(value));
  return *this;
}

std::string response::header(std::string_view name) const {
  auto same = [name](const std::string& x) {
    return std::equal(x.begin(), x.end(), name.begin(), name.end(),
                      [](char a, char b) {
                        return std::tolower(static_cast<unsigned char>(a)) ==
                               std::tolower(static_cast<unsigned char>(b));
                      });
  };
  for (auto& [k, v] : headers)
    if (same(k))
      return v;
  return {};
}

} // namespace distiller::http
