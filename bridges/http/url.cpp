#include "bridges/http/url.hpp"

namespace distiller::http {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

} // namespace

target_parts split_target(std::string_view target) {
  // Absolute form (proxies send it): drop "scheme://authority".
  if (auto scheme = target.find("://");
      scheme != std::string_view::npos && target.substr(0, 1) != "/") {
    auto slash = target.find('/', scheme + 3);
    auto query = target.find('?', scheme + 3);
    if (slash == std::string_view::npos || query < slash)
      target = query == std::string_view::npos ? std::string_view{}
                                               : target.substr(query);
    else
      target = target.substr(slash);
  }
  if (auto hash = target.find('#'); hash != std::string_view::npos)
    target = target.substr(0, hash);
  target_parts result;
  auto q = target.find('?');
  result.path = target.substr(0, q);
  if (q != std::string_view::npos)
    result.query = target.substr(q + 1);
  if (result.path.empty())
    result.path = "/";
  return result;
}

std::string percent_decode(std::string_view text, bool plus_as_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%' && i + 2 < text.size()) {
      int hi = hex_value(text[i + 1]);
      int lo = hex_value(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_as_space && c == '+' ? ' ' : c);
  }
  return out;
}

std::map<std::string, std::string> parse_query(std::string_view query) {
  std::map<std::string, std::string> result;
  while (!query.empty()) {
    auto amp = query.find('&');
    auto pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{}
                                          : query.substr(amp + 1);
    if (pair.empty())
      continue;
    auto eq = pair.find('=');
    auto key = percent_decode(pair.substr(0, eq), true);
    auto value = eq == std::string_view::npos
                     ? std::string{}
                     : percent_decode(pair.substr(eq + 1), true);
    result.try_emplace(std::move(key), std::move(value));
  }
  return result;
}

} // namespace distiller::http
