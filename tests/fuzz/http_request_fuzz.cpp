// libFuzzer target for the HTTP request path: the input is what a client
// writes on one TCP connection to a real `http::server` serving the node's
// document and thought routes (tests/fuzz/support/http_harness.hpp) — so
// it goes through Beast's request parser, the connection's framing rules
// (Host, Transfer-Encoding, Content-Length), Host/Origin checks, API token
// checks, routing, body limits, keep-alive and pipelining, 100-continue,
// the routes' own validation and the SSE start, exactly as on a node.
//
// Invariants (check_responses): everything the server sends back is a
// sequence of well-formed responses, at most one per request (plus one for
// bytes that are not a request), none a 500 or another 5xx besides 501 and
// 503, each with Server and x-trace-id, each error a JSON object with
// `error` and `detail`; and the server closes within 10 s of the client's
// half-close. Crashes and sanitizer reports anywhere in the server count.
#include <cstdint>
#include <string_view>

#include "tests/fuzz/support/http_harness.hpp"

using namespace distiller::fuzzing;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  http_harness::get();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto raw = http_harness::get().exchange(input);
  check_responses(raw, request_methods(input));
  return 0;
}
