#include "actors/shell/api_client.hpp"

#include <charconv>
#include <stdexcept>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace distiller::shell {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = net::ip::tcp;

api_client::api_client(const std::string& address,
                       std::chrono::milliseconds timeout)
    : timeout_(timeout) {
  std::string a = address;
  if (a.rfind("http://", 0) == 0)
    a = a.substr(7);
  else if (a.find("://") != std::string::npos)
    throw std::invalid_argument("--node " + address +
                                ": only http:// addresses are served");
  while (!a.empty() && a.back() == '/')
    a.pop_back();
  auto colon = a.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == a.size())
    throw std::invalid_argument("--node " + address +
                                ": expected HOST:PORT, e.g. 127.0.0.1:8000");
  host_ = a.substr(0, colon);
  auto p = a.substr(colon + 1);
  unsigned v = 0;
  auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), v);
  if (ec != std::errc{} || end != p.data() + p.size() || v == 0 || v > 65535)
    throw std::invalid_argument("--node " + address + ": port '" + p +
                                "' is not a number in 1..65535");
  port_ = static_cast<uint16_t>(v);
}

std::string api_client::address() const {
  return host_ + ":" + std::to_string(port_);
}

api_answer api_client::get(const std::string& target) const {
  return request(false, target, {});
}

api_answer api_client::post(const std::string& target,
                            const std::string& json) const {
  return request(true, target, json);
}

api_answer api_client::request(bool post, const std::string& target,
                               const std::string& body) const {
  api_answer out;
  net::io_context ioc;
  beast::tcp_stream stream{ioc};
  beast::flat_buffer buffer;
  bhttp::request<bhttp::string_body> req{
      post ? bhttp::verb::post : bhttp::verb::get, target, 11};
  req.set(bhttp::field::host, address());
  req.set(bhttp::field::user_agent, "distiller-shell");
  if (!token_.empty())
    req.set(bhttp::field::authorization, "Bearer " + token_);
  req.set(bhttp::field::accept, "application/json");
  if (post) {
    req.set(bhttp::field::content_type, "application/json");
    req.body() = body;
  }
  req.prepare_payload();
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  beast::error_code failure;
  const char* step = "connect";
  // Asynchronous steps on a private io_context: the stream's deadline
  // covers each of them (blocking calls would ignore it).
  tcp::resolver resolver{ioc};
  resolver.async_resolve(
      host_, std::to_string(port_),
      [&](beast::error_code ec, tcp::resolver::results_type results) {
        if (ec) {
          failure = ec;
          step = "resolve";
          return;
        }
        stream.expires_after(timeout_);
        stream.async_connect(results, [&](beast::error_code ec,
                                          const tcp::endpoint&) {
          if (ec) {
            failure = ec;
            return;
          }
          step = "send";
          stream.expires_after(timeout_);
          bhttp::async_write(stream, req, [&](beast::error_code ec, size_t) {
            if (ec) {
              failure = ec;
              return;
            }
            step = "answer";
            stream.expires_after(timeout_);
            bhttp::async_read(stream, buffer, parser,
                              [&](beast::error_code ec, size_t) {
                                if (ec)
                                  failure = ec;
                              });
          });
        });
      });
  ioc.run();
  if (failure) {
    out.unreachable = true;
    out.detail =
        std::string{step} + " " + address() + ": " +
        (failure == beast::error::timeout
             ? "no answer within " + std::to_string(timeout_.count()) + " ms"
             : failure.message());
    return out;
  }
  auto& res = parser.get();
  out.status = res.result_int();
  out.body = std::move(res.body());
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  return out;
}

std::string url_encode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
        (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
        c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

} // namespace distiller::shell
