#include "runtime/core/resolve.hpp"

#include <boost/asio/steady_timer.hpp>

namespace distiller {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

boost::system::error_code
resolve_until(asio::io_context& ioc, const std::string& host,
              const std::string& port,
              std::chrono::steady_clock::time_point deadline,
              tcp::resolver::results_type& out) {
  tcp::resolver resolver(ioc);
  asio::steady_timer timer(ioc, deadline);
  boost::system::error_code ec;
  bool resolved = false;
  resolver.async_resolve(host, port,
                         [&](const boost::system::error_code& e,
                             tcp::resolver::results_type results) {
                           ec = e;
                           out = std::move(results);
                           resolved = true;
                           timer.cancel();
                         });
  timer.async_wait([&](const boost::system::error_code& e) {
    if (!e && !resolved)
      resolver.cancel();
  });
  ioc.restart();
  ioc.run();
  return ec;
}

} // namespace distiller
