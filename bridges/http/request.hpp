#pragma once

/// One parsed HTTP request as a route handler sees it: method, target, path,
/// decoded query, route parameters, headers, the whole body and the trace id.
/// Threads/ownership: plain data, built by the connection on its I/O thread
/// and moved into the handler, which owns it and may hand it to any thread.
/// Failure: none here — malformed requests never reach a handler (the
/// connection answers 400 itself).

#include <map>
#include <string>
#include <string_view>

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/verb.hpp>

#include "bridges/http/auth.hpp"
#include "runtime/core/ids.hpp"

namespace distiller::http {

struct request {
  boost::beast::http::verb method = boost::beast::http::verb::get;
  /// The request target as received ("/a/b?x=1").
  std::string target;
  /// The path part of the target, still percent-encoded ("/a/b").
  std::string path;
  /// The decoded query (`?a=b&c=d`; '+' is a space; first value wins).
  std::map<std::string, std::string> query;
  /// Values of the route pattern's `{name}` segments, percent-decoded.
  std::map<std::string, std::string> params;
  boost::beast::http::fields headers;
  std::string body;
  /// From the `x-trace-id` header when it is a sane token, else fresh.
  distiller::trace_id trace;
  /// Who sent it (its API token's scope; anonymous without a token).
  principal caller;

  /// The value of header `name` (case-insensitive) or "" when absent.
  std::string header(std::string_view name) const;

  /// The value of query parameter `name`, or `fallback` when absent.
  std::string query_or(const std::string& name,
                       std::string fallback = "") const;

  /// The value of route parameter `name` or "" when absent.
  std::string param(const std::string& name) const;
};

} // namespace distiller::http
