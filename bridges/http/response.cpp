#include "bridges/http/response.hpp"

#include <algorithm>
#include <cctype>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace distiller::http {

response response::json(unsigned status, const boost::json::value& v) {
  response r;
  r.status = status;
  r.body = boost::json::serialize(v);
  return r;
}

response response::error(unsigned status, std::string error,
                         std::string detail) {
  boost::json::object body;
  body["error"] = std::move(error);
  body["detail"] = std::move(detail);
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
