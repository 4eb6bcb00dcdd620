// libFuzzer target for the HTTP façade's URL helpers (bridges/http/url.hpp):
// the input is a request target, split into path and query, then the query
// decoded as the connection does for every request, and both halves
// percent-decoded.
//
// Invariants besides "no crash, no sanitizer report, no exception" (the
// helpers promise never to throw): the path is never empty and is a piece
// of the target; the query is a piece of the target; decoding never grows
// a text, leaves text without '%' and '+' as it is, and decoding what was
// encoded gives it back; parse_query's keys and values come from decoding
// and a key is never repeated (the first value wins).
#include <cstdint>
#include <string>
#include <string_view>

#include "bridges/http/url.hpp"
#include "tests/fuzz/support/check.hpp"

namespace {

using namespace distiller::http;

bool inside(std::string_view part, std::string_view whole) {
  return part.empty() ||
         (part.data() >= whole.data() &&
          part.data() + part.size() <= whole.data() + whole.size());
}

std::string encode_all(std::string_view text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    out += '%';
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view target(reinterpret_cast<const char*>(data), size);
  auto parts = split_target(target);
  FUZZ_CHECK(!parts.path.empty(), "a target always has a path");
  FUZZ_CHECK(parts.path == "/" || inside(parts.path, target),
             "the path is a piece of the target");
  FUZZ_CHECK(inside(parts.query, target), "the query is a piece of the target");
  FUZZ_CHECK(parts.path.find('?') == std::string_view::npos,
             "the path stops at '?'");
  FUZZ_CHECK(parts.path.find('#') == std::string_view::npos &&
                 parts.query.find('#') == std::string_view::npos,
             "the fragment is dropped");

  for (bool plus : {false, true}) {
    auto decoded = percent_decode(target, plus);
    FUZZ_CHECK(decoded.size() <= target.size(), "decoding never grows a text");
    if (target.find_first_of("%+") == std::string_view::npos)
      FUZZ_CHECK(decoded == target, "text without escapes decodes to itself");
    FUZZ_CHECK(percent_decode(encode_all(target), plus) == target,
               "decoding undoes encoding");
  }

  auto query = parse_query(parts.query);
  FUZZ_CHECK(query.size() <= parts.query.size(),
             "at most one key per byte of the query");
  for (auto& [k, v] : query)
    FUZZ_CHECK(k.size() + v.size() <= parts.query.size(),
               "keys and values come from the query");
  return 0;
}
