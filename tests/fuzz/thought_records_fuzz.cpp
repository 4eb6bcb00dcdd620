// libFuzzer target for the thought pipeline's record decoders
// (actors/thoughts/records.hpp): the input's first byte picks what is
// decoded — the ThoughtCreated record of thought-processing, an event of
// thought-updates, an RFC 3339 time (parse_time_us, used on every event),
// or the list cursor a client sends back (?before=) — and the rest is the
// text.
//
// Invariants besides "no crash, no sanitizer report": the only exception
// is record_error; decoded records and cursors survive a round trip
// (encode, decode, same values; doubles to 1e-12); ids that must be UUIDs are;
// an event's seq is positive; a time that parses is one us_to_rfc3339 writes
// back as the same instant (to the millisecond).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string_view>

#include "actors/thoughts/records.hpp"
#include "runtime/core/ids.hpp"
#include "runtime/core/time.hpp"
#include "tests/fuzz/support/check.hpp"

using namespace distiller::thoughts;
using distiller::fuzzing::fuzz_input;

namespace {

/// JSON equality where doubles may differ in their last bits: Boost.JSON's
/// default number parsing is not exact, so 4.4e33 may come back one ulp
/// off after a round trip (harmless for agents' scores; not a bug here).
bool same_json(const boost::json::value& a, const boost::json::value& b) {
  if (a.is_double() && b.is_double()) {
    double x = a.as_double(), y = b.as_double();
    return x == y ||
           std::fabs(x - y) <= 1e-12 * std::max(std::fabs(x), std::fabs(y));
  }
  if (a.kind() != b.kind())
    return false;
  if (a.is_object()) {
    auto& o = a.as_object();
    auto& p = b.as_object();
    if (o.size() != p.size())
      return false;
    for (auto& [k, v] : o)
      if (!p.contains(k) || !same_json(v, p.at(k)))
        return false;
    return true;
  }
  if (a.is_array()) {
    auto& o = a.as_array();
    auto& p = b.as_array();
    if (o.size() != p.size())
      return false;
    for (size_t i = 0; i < o.size(); ++i)
      if (!same_json(o[i], p[i]))
        return false;
    return true;
  }
  return a == b;
}

void created(std::string_view v) {
  auto x = decode_thought_created(v);
  FUZZ_CHECK(distiller::is_uuid(x.thought_id) && distiller::is_uuid(x.user_id),
             "a ThoughtCreated names its thought and user by UUID");
  auto y = decode_thought_created(encode(x));
  FUZZ_CHECK(x.thought_id == y.thought_id && x.user_id == y.user_id &&
                 x.created_at == y.created_at && x.trace_id == y.trace_id,
             "a ThoughtCreated survives a round trip");
}

void event(std::string_view v) {
  auto x = decode_thought_event(v);
  FUZZ_CHECK(x.seq > 0, "an event's seq is positive");
  auto y = decode_thought_event(encode(x));
  FUZZ_CHECK(x.type == y.type && x.seq == y.seq &&
                 x.thought_id == y.thought_id && x.user_id == y.user_id &&
                 x.time == y.time && x.time_us == y.time_us &&
                 x.trace_id == y.trace_id && same_json(x.body, y.body),
             "an event survives a round trip");
}

void rfc3339(std::string_view v) {
  auto us = parse_time_us(v);
  if (us <= 0)
    return;
  auto text = distiller::us_to_rfc3339(us);
  FUZZ_CHECK(parse_time_us(text) == us - us % 1000,
             "a parsed time is written back as the same instant");
}

void cursor(std::string_view v) {
  auto c = decode_cursor(v);
  if (!c)
    return;
  FUZZ_CHECK(c->created_us >= 0 && distiller::is_uuid(c->thought_id),
             "a cursor holds a time and a thought id");
  auto d = decode_cursor(encode_cursor(*c));
  FUZZ_CHECK(d && d->created_us == c->created_us &&
                 d->thought_id == c->thought_id,
             "a cursor survives a round trip");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz_input in({reinterpret_cast<const char*>(data), size});
  auto pick = in.byte() % 4;
  auto value = in.rest();
  try {
    switch (pick) {
    case 0:
      created(value);
      break;
    case 1:
      event(value);
      break;
    case 2:
      rfc3339(value);
      break;
    default:
      cursor(value);
      break;
    }
  } catch (const record_error&) {
    // Dead-lettered at once: the record can never succeed.
  }
  return 0;
}
