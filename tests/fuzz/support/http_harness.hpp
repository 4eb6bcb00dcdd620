#pragma once

/// The HTTP fuzz targets' node: a real `http::server` on 127.0.0.1 (port 0)
/// serving the document and thought routes of the node (the real handlers,
/// actors/documents/document_routes.cpp and actors/thoughts/thought_routes.cpp)
/// over fake services that answer at once with plausible values, so every
/// byte a target sends goes through the connection's parsing, framing,
/// Host/Origin and token checks, routing and the route's own validation —
/// the code a client on the network reaches — and comes back as real
/// response bytes.
///
/// `exchange` opens one TCP connection, writes the bytes, half-closes and
/// reads until the server closes (a hang past 10 s aborts: libFuzzer saves
/// the input). `check_responses` parses those bytes as the sequence of
/// responses the requests in `sent` deserve and aborts when one is not
/// well formed: a status outside 100..599 or a 500 (no input may make the
/// node fail), a missing `Server`/`x-trace-id`, an error without a JSON
/// body `{"error": <non-empty string>, "detail": <string>}`, bytes that are
/// not a response, or more responses than requests. An event stream may
/// end early: the half-close is how its client leaves.
///
/// Threads: one harness per process (started on first use, stopped at
/// exit); `exchange` is called from libFuzzer's thread only.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace distiller::fuzzing {

/// The tokens the harness's node accepts (auth.required is on).
inline constexpr std::string_view admin_token =
    "dst_fuzz-admin-token-0000000000000000000000000";
inline constexpr std::string_view user_token =
    "dst_fuzz-user-token-00000000000000000000000000";
/// The user of `user_token`.
inline constexpr std::string_view token_user =
    "6f1c2a9e-3b7d-4c8e-9a0f-1d2e3f4a5b6c";

/// One parsed response (what the checks saw).
struct seen_response {
  unsigned status = 0;
  std::string content_type;
  std::string body;
};

class http_harness {
 public:
  /// The process's harness, started on first use.
  static http_harness& get();

  /// Sends `bytes` on a new connection; returns everything the server sent.
  std::string exchange(std::string_view bytes);

  uint16_t port() const noexcept { return port_; }

  ~http_harness();

 private:
  http_harness();
  struct state;
  std::unique_ptr<state> s_;
  uint16_t port_ = 0;
};

/// The methods of the requests in `bytes` as the server's parser reads them
/// (up to the first one it cannot read), to know which answers are to HEAD.
std::vector<std::string> request_methods(std::string_view bytes);

/// Checks `raw` as described above; returns the responses (1xx excluded).
/// With DISTILLER_FUZZ_SHOW set in the environment it prints each one.
std::vector<seen_response>
check_responses(std::string_view raw, const std::vector<std::string>& sent);

} // namespace distiller::fuzzing
