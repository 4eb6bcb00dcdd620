// libFuzzer target for the multipart/form-data parser
// (bridges/http/multipart.hpp): the input's first line is the request's
// Content-Type, the rest its body — parsed as the upload route does, with
// its default limits — and the first line also goes through the header
// parameter and RFC 8187 decoders on their own.
//
// Invariants besides "no crash, no sanitizer report": the only exception
// is multipart_error; a parsed form has at most max_parts parts, each
// part's content lies inside the body, parts follow each other in the
// body, header names are lower case, and a part's name, file name and type
// are the ones its headers say; the boundary is 1..70 characters;
// parameter names are lower case; an ISO-8859-1 extended value decodes to
// valid UTF-8.
#include <cctype>
#include <cstdint>
#include <string>
#include <string_view>

#include "actors/documents/text/utf8.hpp"
#include "bridges/http/multipart.hpp"
#include "tests/fuzz/support/check.hpp"

using namespace distiller::http;
using distiller::fuzzing::fuzz_input;

namespace {

bool lower_case(std::string_view s) {
  for (unsigned char c : s)
    if (std::isupper(c))
      return false;
  return true;
}

void check_params(std::string_view text) {
  auto hv = parse_header_value(text);
  for (auto& [k, v] : hv.params)
    FUZZ_CHECK(lower_case(k), "parameter names are lower case");
  for (auto& [k, v] : hv.params)
    if (auto d = decode_ext_value(v);
        d && v.size() >= 11 &&
        (v.rfind("iso-8859-1'", 0) == 0 || v.rfind("ISO-8859-1'", 0) == 0))
      FUZZ_CHECK(distiller::documents::utf8::is_valid(*d),
                 "ISO-8859-1 decodes to UTF-8");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz_input in({reinterpret_cast<const char*>(data), size});
  auto content_type = in.field('\n');
  auto body = in.rest();
  check_params(content_type);
  try {
    auto boundary = multipart_boundary(content_type);
    FUZZ_CHECK(!boundary.empty() && boundary.size() <= 70,
               "a boundary has 1..70 characters");
  } catch (const multipart_error&) {
  }
  multipart_limits limits;
  try {
    auto form = parse_multipart(content_type, body, limits);
    FUZZ_CHECK(form.parts.size() <= limits.max_parts, "at most max_parts");
    const char* last = body.data();
    for (auto& p : form.parts) {
      FUZZ_CHECK(p.content.empty() || (p.content.data() >= body.data() &&
                                       p.content.data() + p.content.size() <=
                                           body.data() + body.size()),
                 "a part's content lies inside the body");
      FUZZ_CHECK(p.content.empty() || p.content.data() >= last,
                 "parts follow each other");
      if (!p.content.empty())
        last = p.content.data() + p.content.size();
      for (auto& [k, v] : p.headers)
        FUZZ_CHECK(lower_case(k), "header names are lower case");
      FUZZ_CHECK(p.content_type == p.header("content-type"),
                 "the part's type is its Content-Type header");
      FUZZ_CHECK(form.find(p.name) != nullptr, "a part is found by its name");
      check_params(p.header("content-disposition"));
    }
  } catch (const multipart_error&) {
    // A readable refusal (400 invalid_multipart at the route).
  }
  return 0;
}
