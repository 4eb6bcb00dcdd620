#pragma once

/// The route table of the HTTP façade: (method, pattern) → handler.
///
/// Patterns are paths whose segments are literals or `{name}` parameters
/// (one non-empty segment each); a last segment `{name...}` takes the rest of
/// the path (zero or more segments). Empty segments are ignored, so a trailing
/// slash does not matter. When several patterns match, the one with a literal
/// at the first differing segment wins ("/jobs/recent" beats "/jobs/{id}").
/// HEAD is served by a GET route when no HEAD route exists (the connection
/// drops the body and keeps Content-Length).
///
/// Threads: `add` and `match` may run concurrently (a shared mutex guards the
/// table); handlers run on the connection's I/O thread and must not block:
/// they answer at once or hand the `responder` to an actor.
/// Failure: `add` throws std::invalid_argument for a malformed pattern or a
/// duplicate (method, pattern).

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/beast/http/verb.hpp>

#include "bridges/http/auth.hpp"
#include "bridges/http/request.hpp"
#include "bridges/http/responder.hpp"
#include "bridges/http/response.hpp"

namespace distiller::http {

using handler = std::function<void(request&&, responder)>;

/// Per-route overrides of the server's limits.
struct route_options {
  /// Largest accepted body (else the config's max_body_bytes).
  std::optional<uint64_t> max_body_bytes = std::nullopt;
  /// Time the client has to send the whole request (else request_timeout).
  std::optional<std::chrono::milliseconds> timeout = std::nullopt;
  /// Who may call it (bridges/http/auth.hpp); unset: `read` for GET and
  /// HEAD, `write` for the other methods.
  std::optional<access_level> access = std::nullopt;
};

/// The access level of `route` for `method`: its own or the method's.
access_level access_of(const route_options& opts,
                       boost::beast::http::verb method);

/// One registered route.
struct route_entry {
  struct segment {
    std::string text; // literal text or parameter name
    bool param = false;
    bool rest = false; // `{name...}`
  };

  boost::beast::http::verb method;
  std::string pattern;
  handler fn;
  route_options options;
  std::vector<segment> segments;
};

/// The outcome of `router::match`.
struct route_match {
  enum class outcome { found, not_found, method_not_allowed };

  outcome result = outcome::not_found;
  /// The route to run (found), or a route on the same path (405, for labels).
  std::shared_ptr<const route_entry> route;
  /// Decoded values of the pattern's parameters (found).
  std::map<std::string, std::string> params;
  /// The methods the path accepts, "GET, HEAD, POST" (405).
  std::string allow;

  bool found() const noexcept { return result == outcome::found; }
};

class router {
 public:
  /// Registers `h` for `method` and `pattern` ("/api/v2/jobs/{job_id}").
  void add(boost::beast::http::verb method, std::string pattern, handler h,
           route_options opts = {});

  /// Finds the route for `method` and the (still percent-encoded) `path`.
  route_match match(boost::beast::http::verb method,
                    std::string_view path) const;

  /// The 404 or 405 response for a failed match (405 carries `Allow`).
  static response reject(const route_match& m, boost::beast::http::verb method,
                         std::string_view method_text, std::string_view path);

  /// (method, pattern) of every route in registration order (for /docs).
  std::vector<std::pair<boost::beast::http::verb, std::string>> routes() const;

  /// The access level of a registered (method, pattern); nullopt if none.
  std::optional<access_level> access(boost::beast::http::verb method,
                                     const std::string& pattern) const;

 private:
  mutable std::shared_mutex mtx_;
  std::vector<std::shared_ptr<const route_entry>> routes_;
};

} // namespace distiller::http
