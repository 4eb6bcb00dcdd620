#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <caf/error.hpp>
#include <caf/fwd.hpp>
#include <caf/make_message.hpp>
#include <caf/meta/load_callback.hpp>
#include <caf/meta/type_name.hpp>

#include "bridges/kafka/record.hpp"
#include "runtime/core/ids.hpp"

/// What a source bridge hands to its workers: one consumed Kafka record with
/// its origin (topic, partition, offset), payload, headers, trace id and the
/// attempt number, plus the error enum workers use to say "do not retry this
/// one" (`record_errc`).
///
/// Workers get them by reference in a `record_batch` (record_batch.hpp) and
/// answer `std::vector<caf::error>`; the types have `inspect` overloads so
/// CAF can render and serialize them. The Kafka tools' consumers
/// (bridges/kafka_tools/consumer.hpp) hand their callbacks the same type;
/// both fill it with `fill_record` (fetched_record.hpp).
namespace distiller::kafka {

// Headers are kafka_header (record.hpp), the type records to produce carry:
// a null value arrives as an empty string.

/// A consumed record as a worker sees it.
struct in_record {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  /// Absent for records produced without a key.
  std::optional<std::string> key;
  /// The value's bytes (not necessarily text).
  std::string value;
  std::vector<kafka_header> headers;
  /// Milliseconds since the epoch (create or log-append time), -1 if unknown.
  int64_t timestamp_ms = -1;
  /// From the `x-trace-id` header, or fresh when the record has none.
  trace_id trace;
  /// 1 for the first delivery to a worker, 2 for the first retry, …
  int attempt = 1;

  /// The first header called `name`, or nullopt.
  std::optional<std::string_view> header(std::string_view name) const;
};

/// Appends "<topic>/<partition>@<offset>" (how logs, recent errors and the
/// trace ring name a record) to `out`, without a temporary string.
void append_origin(std::string& out, std::string_view topic, int32_t partition,
                   int64_t offset);

/// "<topic>/<partition>@<offset>" of `r`.
std::string origin_of(const in_record& r);

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, in_record& x) {
  // CAF 0.17 cannot inspect std::optional: carry the key as flag + text.
  bool has_key = x.key.has_value();
  std::string key = has_key ? *x.key : std::string{};
  auto restore = caf::meta::load_callback([&]() -> caf::error {
    if (has_key)
      x.key = std::move(key);
    else
      x.key.reset();
    return caf::none;
  });
  return f(caf::meta::type_name("in_record"), x.topic, x.partition, x.offset,
           has_key, key, x.value, x.headers, x.timestamp_ms, x.trace, x.attempt,
           restore);
}

// -- worker errors ------------------------------------------------------------

/// Errors a worker returns to tell the bridge that retrying cannot help
/// (category atom `record`). Any other error is retried with backoff.
enum class record_errc : uint8_t {
  /// The record's bytes cannot be decoded (bad JSON, wrong schema …): it goes
  /// to the dead-letter topic at once.
  undecodable = 1,
  /// The record is well-formed but can never succeed (unknown job, rejected
  /// by a business rule …): dead-lettered at once.
  permanent,
};

std::string to_string(record_errc x);

/// True if `err` is a `record_errc` (no retry, dead-letter at once).
bool is_permanent(const caf::error& err) noexcept;

/// Teaches `cfg` to render record errors as "record: undecodable: <why>".
void add_record_error_category(caf::actor_system_config& cfg);

} // namespace distiller::kafka

CAF_ERROR_CODE_ENUM(distiller::kafka::record_errc, "record")
