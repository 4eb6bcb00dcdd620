#pragma once

/// Name resolution with a deadline for the blocking HTTP clients (the
/// document embedder, the chat agents): asio's resolver has no expiry of its
/// own, so a timer cancels it. Runs the caller's private io_context until
/// the lookup ends (restarting it first); not for an io_context that other
/// work shares.

#include <chrono>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

namespace distiller {

/// Resolves host:port into `out`; `operation_aborted` when `deadline`
/// passed first, the resolver's error otherwise.
boost::system::error_code
resolve_until(boost::asio::io_context& ioc, const std::string& host,
              const std::string& port,
              std::chrono::steady_clock::time_point deadline,
              boost::asio::ip::tcp::resolver::results_type& out);

} // namespace distiller
