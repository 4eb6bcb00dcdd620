// libFuzzer target for the routes' inputs: the input's first byte picks a
// route and a token, the rest becomes that route's body or query in an
// otherwise well-formed request to the real server of
// tests/fuzz/support/http_harness.hpp, so the fuzzer spends its time in
// the routes' own parsing and validation (actors/thoughts/thought_routes.cpp,
// actors/documents/document_routes.cpp) rather than in HTTP framing:
//
//   0  POST /thoughts                JSON {text, user_id}
//   1  POST /api/v2/query            JSON {question, top_k}
//   2  POST /api/v2/documents/upload multipart/form-data (the upload)
//   3  GET  /users/{user}/thoughts   the query string (?limit=&before=)
//   4  GET  /api/v2/documents/jobs   the query string (?limit=&offset=&status=)
//
// Bit 3 of the byte sends the user-scoped token instead of the admin one.
// Invariants: exactly one answer, well formed as check_responses requires
// (no 5xx but 503, JSON errors); an accepted thought, upload or question
// answers with the JSON its route documents.
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/json/parse.hpp>

#include "tests/fuzz/support/check.hpp"
#include "tests/fuzz/support/http_harness.hpp"

using namespace distiller::fuzzing;

namespace {

/// Percent-encodes what may not appear in a request target as it is.
std::string as_query(std::string_view text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (c > 0x20 && c < 0x7f && c != '#') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string request(std::string_view method, const std::string& target,
                    std::string_view token, std::string_view type,
                    std::string_view body) {
  std::string r{method};
  r += " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  r += "Authorization: Bearer " + std::string{token} + "\r\n";
  if (!type.empty())
    r += "Content-Type: " + std::string{type} + "\r\n";
  if (method == "POST")
    r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  r += "Connection: close\r\n\r\n";
  r += body;
  return r;
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  http_harness::get();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz_input in({reinterpret_cast<const char*>(data), size});
  auto pick = in.byte();
  auto token = (pick & 8) ? user_token : admin_token;
  auto body = in.rest();
  int route = (pick & 7) % 5;
  std::string req;
  switch (route) {
  case 0:
    req = request("POST", "/thoughts", token, "application/json", body);
    break;
  case 1:
    req = request("POST", "/api/v2/query", token, "application/json", body);
    break;
  case 2:
    req = request("POST", "/api/v2/documents/upload", token,
                  "multipart/form-data; boundary=fuzzboundary", body);
    break;
  case 3:
    req = request("GET",
                  "/users/" + std::string{token_user} + "/thoughts?" +
                      as_query(body),
                  token, "", "");
    break;
  default:
    req = request("GET", "/api/v2/documents/jobs?" + as_query(body), token, "",
                  "");
    break;
  }
  auto raw = http_harness::get().exchange(req);
  auto answers = check_responses(raw, {route >= 3 ? "GET" : "POST"});
  FUZZ_CHECK(answers.size() == 1, "one answer to one well-formed request");
  auto& a = answers.front();
  if (a.status == 200 || a.status == 202) {
    boost::system::error_code ec;
    auto v = boost::json::parse(a.body, ec);
    FUZZ_CHECK(!ec && v.is_object(), "an accepted request answers JSON");
    auto& o = v.as_object();
    if (route == 0)
      FUZZ_CHECK(a.status == 202 && o.contains("thought_id"),
                 "an accepted thought answers 202 with its id");
    if (route == 1)
      FUZZ_CHECK(o.contains("answer") && o.contains("sources"),
                 "an answered question has an answer and sources");
    if (route == 2)
      FUZZ_CHECK(a.status == 202 && o.contains("job_id"),
                 "an accepted upload answers 202 with its job");
  }
  return 0;
}
