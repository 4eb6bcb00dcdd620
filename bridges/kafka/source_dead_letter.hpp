#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <caf/error.hpp>

#include "bridges/kafka/compression.hpp"
#include "bridges/kafka/handles.hpp"
#include "bridges/kafka/in_record.hpp"

/// Dead letters of the source bridge: what a dead-letter record looks like
/// (`make_dead_letter`, plain data, unit-tested) and the small idempotent
/// producer a bridge owns when no sink bridge was given to it.
namespace distiller::kafka {

/// Header names a dead letter carries (besides the original headers).
namespace dlq_headers {
inline constexpr const char* error = "x-error";
inline constexpr const char* attempts = "x-attempts";
inline constexpr const char* origin_topic = "x-origin-topic";
inline constexpr const char* origin_partition = "x-origin-partition";
inline constexpr const char* origin_offset = "x-origin-offset";
inline constexpr const char* origin_timestamp = "x-origin-timestamp";
inline constexpr const char* first_failure_ts = "x-first-failure-ts";
inline constexpr const char* last_failure_ts = "x-last-failure-ts";
inline constexpr const char* bridge = "x-bridge";
} // namespace dlq_headers

/// A record to produce to a dead-letter topic.
struct dead_letter {
  std::string topic;
  std::optional<std::string> key;
  std::string value;
  std::vector<kafka_header> headers;
};

/// Why and where a record failed, for its dead letter.
struct failure_info {
  std::string error;
  int attempts = 0;
  /// Milliseconds since the epoch.
  int64_t first_failure_ms = 0;
  int64_t last_failure_ms = 0;
  std::string bridge;
};

/// The dead letter for `rec`: the original key, value and headers (minus
/// any header this function sets, so a re-failed dead letter does not carry
/// two `x-error`s), then x-error, x-attempts, x-origin-topic,
/// x-origin-partition, x-origin-offset, x-origin-timestamp,
/// x-first-failure-ts, x-last-failure-ts, x-bridge, and x-trace-id when the
/// original had none.
dead_letter make_dead_letter(const in_record& rec, const std::string& topic,
                             const failure_info& why);

/// An idempotent producer (acks=all) for dead letters with its own poll
/// thread, which delivers each outcome to `on_delivery(token, error)` (on
/// that thread). Compresses like every producer (compression.hpp): `codecs`
/// gives each dead-letter topic its catalog codec. Destruction flushes for at
/// most `flush_timeout`, then drops what is left (those records stay unfinished
/// at the bridge, so their offsets are never committed and they are consumed
/// again).
class dead_letter_producer {
 public:
  using delivery_fn = std::function<void(uint64_t token, caf::error err)>;

  /// Throws std::runtime_error naming a rejected property.
  dead_letter_producer(
      const std::string& brokers, const std::string& client_id,
      const std::map<std::string, std::string>& extra, delivery_fn on_delivery,
      std::chrono::milliseconds flush_timeout = std::chrono::milliseconds{5000},
      compression_plan codecs = {});
  ~dead_letter_producer();

  dead_letter_producer(const dead_letter_producer&) = delete;
  dead_letter_producer& operator=(const dead_letter_producer&) = delete;

  /// Enqueues `letter`; its delivery is reported later under `token`. An
  /// error here (queue full, too large …) means no report will follow.
  /// Called from one thread (the bridge's).
  caf::error write(uint64_t token, const dead_letter& letter);

 private:
  static void on_dr(rd_kafka_t* rk, const rd_kafka_message_t* msg,
                    void* opaque);

  delivery_fn on_delivery_;
  std::chrono::milliseconds flush_timeout_;
  std::atomic<bool> stop_{false};
  rd_kafka_ptr rk_;
  /// After rk_: the topic handles go before the producer.
  topic_codecs codecs_;
  std::thread poller_;
};

} // namespace distiller::kafka
