// libFuzzer target for the router (bridges/http/router.hpp): a router with
// the node's real document and thought routes (registered by their own
// add_*_routes, without services) and a catch-all `{path...}` route; the
// input's first byte picks the method, the rest is the request path as the
// connection passes it (still percent-encoded). With the byte's top bit
// set the rest is instead a route pattern, registered on a fresh router.
//
// Invariants besides "no crash, no sanitizer report": a found route has
// the method asked for (or GET for HEAD) and one decoded value per `{name}`
// of its pattern; a 405 names the allowed methods and a route on the path;
// matching is deterministic; `reject` answers 404 or 405 (with Allow) and
// a JSON error body; `add` refuses a bad pattern only with
// std::invalid_argument, and an accepted pattern without parameters
// matches itself.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include <boost/json/parse.hpp>

#include "actors/documents/document_routes.hpp"
#include "actors/thoughts/thought_routes.hpp"
#include "bridges/http/router.hpp"
#include "tests/fuzz/support/check.hpp"

using namespace distiller;
using distiller::fuzzing::fuzz_input;
namespace bhttp = boost::beast::http;

namespace {

constexpr bhttp::verb verbs[] = {bhttp::verb::get,     bhttp::verb::head,
                                 bhttp::verb::post,    bhttp::verb::put,
                                 bhttp::verb::delete_, bhttp::verb::patch,
                                 bhttp::verb::options, bhttp::verb::unknown};

http::handler noop() {
  return [](http::request&&, http::responder) {
  };
}

const http::router& node_router() {
  static const auto r = [] {
    auto r = std::make_unique<http::router>();
    documents::add_document_routes(*r, nullptr);
    thoughts::add_thought_routes(*r, nullptr);
    r->add(bhttp::verb::get, "/files/{path...}", noop());
    return r;
  }();
  return *r;
}

size_t param_count(const http::route_entry& r) {
  size_t n = 0;
  for (auto& s : r.segments)
    n += s.param ? 1 : 0;
  return n;
}

void check_match(const http::router& r, bhttp::verb m, std::string_view path) {
  auto got = r.match(m, path);
  auto again = r.match(m, path);
  FUZZ_CHECK(got.result == again.result && got.route == again.route &&
                 got.params == again.params && got.allow == again.allow,
             "matching is deterministic");
  if (got.found()) {
    FUZZ_CHECK(got.route != nullptr, "a found match has a route");
    FUZZ_CHECK(
        got.route->method == m ||
            (m == bhttp::verb::head && got.route->method == bhttp::verb::get),
        "a found route has the method asked for");
    FUZZ_CHECK(got.params.size() == param_count(*got.route),
               "one value per parameter");
    return;
  }
  auto res = http::router::reject(got, m, "FUZZ", path);
  FUZZ_CHECK(res.content_type == "application/json", "a JSON refusal");
  boost::system::error_code ec;
  auto v = boost::json::parse(res.body, ec);
  FUZZ_CHECK(!ec && v.is_object() && v.as_object().contains("error"),
             "a refusal has an error body");
  if (got.result == http::route_match::outcome::method_not_allowed) {
    FUZZ_CHECK(got.route != nullptr && !got.allow.empty(),
               "a 405 names a route and the allowed methods");
    FUZZ_CHECK(res.status == 405 && res.header("Allow") == got.allow,
               "a 405 carries Allow");
  } else {
    FUZZ_CHECK(res.status == 404, "no route is a 404");
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz_input in({reinterpret_cast<const char*>(data), size});
  auto pick = in.byte();
  auto method = verbs[pick % std::size(verbs)];
  auto text = in.rest();
  if (!(pick & 0x80)) {
    check_match(node_router(), method, text);
    return 0;
  }
  http::router r;
  try {
    r.add(method == bhttp::verb::unknown ? bhttp::verb::get : method,
          std::string{text}, noop());
  } catch (const std::invalid_argument&) {
    return 0;
  }
  auto m = method == bhttp::verb::unknown ? bhttp::verb::get : method;
  check_match(r, m, text);
  if (text.find_first_of("{%") == std::string_view::npos)
    FUZZ_CHECK(r.match(m, text).found(), "a literal pattern matches itself");
  return 0;
}
