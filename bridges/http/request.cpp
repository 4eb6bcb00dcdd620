#include "bridges/http/request.hpp"

namespace distiller::http {

std::string request::header(std::string_view name) const {
  auto i = headers.find(boost::beast::string_view{name.data(), name.size()});
  if (i == headers.end())
    return {};
  auto v = i->value();
  return std::string{v.data(), v.size()};
}

std::string request::query_or(const std::string& name,
                              std::string fallback) const {
  auto i = query.find(name);
  return i != query.end() ? i->second : std::move(fallback);
}

std::string request::param(const std::string& name) const {
  auto i = params.find(name);
  return i != params.end() ? i->second : std::string{};
}

} // namespace distiller::http
