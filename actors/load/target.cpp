#include "actors/load/target.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <boost/json.hpp>

namespace distiller::load {

namespace {

std::string lower(std::string_view s) {
  std::string out{s};
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string unbracket(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  return std::string{host};
}

} // namespace

std::string http_target::url() const {
  auto h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return "http://" + h + ":" + std::to_string(port);
}

http_target parse_target(std::string_view url) {
  auto bad = [&](const std::string& why) {
    return usage_error("--target: " + why +
                       " (expected http://HOST:PORT, "
                       "got \"" +
                       std::string{url} + "\")");
  };
  constexpr std::string_view scheme = "http://";
  if (lower(url.substr(0, scheme.size())) != scheme)
    throw bad(url.rfind("https://", 0) == 0 ? "https is not supported"
                                            : "only http:// URLs");
  auto rest = url.substr(scheme.size());
  if (!rest.empty() && rest.back() == '/')
    rest.remove_suffix(1);
  if (rest.find('/') != std::string_view::npos)
    throw bad("no path allowed");
  http_target t;
  std::string_view port_text;
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string_view::npos)
      throw bad("unclosed [");
    t.host = std::string{rest.substr(1, close - 1)};
    auto after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':')
        throw bad("junk after ]");
      port_text = after.substr(1);
    }
  } else {
    auto colon = rest.rfind(':');
    t.host = std::string{rest.substr(0, colon)};
    if (colon != std::string_view::npos)
      port_text = rest.substr(colon + 1);
  }
  if (t.host.empty())
    throw bad("no host");
  if (!port_text.empty()) {
    int port = 0;
    for (char c : port_text) {
      if (c < '0' || c > '9')
        throw bad("bad port");
      port = port * 10 + (c - '0');
      if (port > 65535)
        throw bad("bad port");
    }
    if (port == 0)
      throw bad("bad port");
    t.port = static_cast<uint16_t>(port);
  }
  return t;
}

bool is_loopback_host(std::string_view host) noexcept {
  auto h = unbracket(host);
  if (lower(h) == "localhost")
    return true;
  in_addr v4{};
  if (::inet_pton(AF_INET, h.c_str(), &v4) == 1)
    return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (::inet_pton(AF_INET6, h.c_str(), &v6) == 1)
    return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

void check_host_allowed(std::string_view host,
                        const std::vector<std::string>& allowed,
                        std::string_view option) {
  if (is_loopback_host(host))
    return;
  auto h = lower(unbracket(host));
  for (auto& a : allowed)
    if (lower(unbracket(a)) == h)
      return;
  throw usage_error(std::string{option} + ": " + std::string{host} +
                    " is not a loopback address; load is sent only to this "
                    "machine unless the host is named again with "
                    "--allow-host " +
                    std::string{host});
}

std::vector<std::string> broker_hosts(std::string_view brokers) {
  std::vector<std::string> out;
  size_t at = 0;
  while (at <= brokers.size()) {
    auto comma = brokers.find(',', at);
    auto item = brokers.substr(at, comma == std::string_view::npos
                                       ? std::string_view::npos
                                       : comma - at);
    while (!item.empty() && item.front() == ' ')
      item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ')
      item.remove_suffix(1);
    // "PLAINTEXT://host:port" is accepted by librdkafka too.
    if (auto p = item.find("://"); p != std::string_view::npos)
      item = item.substr(p + 3);
    if (!item.empty()) {
      if (item.front() == '[') {
        auto close = item.find(']');
        out.emplace_back(item.substr(1, close == std::string_view::npos
                                            ? std::string_view::npos
                                            : close - 1));
      } else {
        auto colon = item.find(':');
        bool v6 = colon != std::string_view::npos &&
                  item.find(':', colon + 1) != std::string_view::npos;
        out.emplace_back(v6 ? item : item.substr(0, colon));
      }
    }
    if (comma == std::string_view::npos)
      break;
    at = comma + 1;
  }
  return out;
}

http_target node_target(const std::string& data_dir) {
  auto file = std::filesystem::path{data_dir} / "node.json";
  std::ifstream in{file};
  if (!in)
    throw std::runtime_error("no running node found: " + file.string() +
                             " does not exist; start one with scripts/run "
                             "or pass --target http://HOST:PORT");
  std::stringstream buf;
  buf << in.rdbuf();
  boost::system::error_code ec;
  auto doc = boost::json::parse(buf.str(), ec);
  const boost::json::object* o = ec ? nullptr : doc.if_object();
  const boost::json::value* port = o ? o->if_contains("http_port") : nullptr;
  if (port == nullptr || !port->is_int64())
    throw std::runtime_error(file.string() + " names no http_port");
  http_target t;
  t.port = static_cast<uint16_t>(port->as_int64());
  t.host = "127.0.0.1";
  if (auto* h = o->if_contains("http_host"); h && h->is_string()) {
    std::string host{h->as_string()};
    if (host == "::")
      t.host = "::1";
    else if (!host.empty() && host != "0.0.0.0")
      t.host = host;
  }
  return t;
}

} // namespace distiller::load
