#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "bridges/kafka/handles.hpp"
#include "bridges/kafka_tools/key_pattern.hpp"
#include "bridges/kafka_tools/options.hpp"
#include "bridges/kafka_tools/session.hpp"

/// `distiller produce`: seed 000's producer test as a tool. Produces N
/// records of generated JSON documents (like the seed's upload events:
/// job_id, filename, file_size, …) with the chosen partitioner, compression,
/// acks and idempotence, optionally rate-limited, and reports every delivery
/// (partition, offset, latency from enqueue to delivery report).
///
/// `producer_run` does the work and is reused by `kafka e2e`; `run_produce`
/// adds the seed's output. Runs on the calling thread; delivery reports are
/// served by rd_kafka_poll on that thread too.
namespace distiller::kafka::tools {

/// One delivery report.
struct delivery {
  /// 1-based record number.
  int64_t seq = 0;
  /// The record's job_id (its key, or the value's job_id if keyless).
  std::string job_id;
  int32_t partition = -1;
  int64_t offset = -1;
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  double latency_ms = 0;
};

struct produce_summary {
  int64_t requested = 0;
  /// Records handed to librdkafka.
  int64_t sent = 0;
  int64_t delivered = 0;
  int64_t failed = 0;
  /// Payload bytes (keys and values) handed to librdkafka.
  uint64_t bytes = 0;
  double seconds = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  std::map<int32_t, int64_t> per_partition;
  std::string first_error;
  bool interrupted = false;

  double messages_per_second() const noexcept;
  double megabytes_per_second() const noexcept;
};

/// The value of record `seq` (1-based): a JSON document like seed 000's
/// upload events, padded with a "padding" field to exactly `size` bytes
/// when it is shorter.
std::string make_value(int64_t seq, const std::string& job_id, size_t size);

/// The `p`-th percentile (0..100) by nearest rank; 0 for no samples.
double percentile(std::vector<double> samples, double p);

/// The codec for records of `topic` when no --compression is given — the
/// rule of every Distiller producer (compression.hpp): the catalog's
/// (kafka.catalog, if it can be read), else kafka.compression.
compression default_codec(const kafka_config& cfg, const std::string& topic);

/// The librdkafka properties for `o` (acks, idempotence, compression,
/// partitioner …) on top of the session's.
std::map<std::string, std::string>
producer_properties(const session& s, const produce_options& o);

/// Produces `o.count` records to `o.topic`; calls `on_created` once the
/// client exists (before the first record) and `on_delivery` for every
/// delivery report in the order they arrive. Stops early when `*stop`
/// becomes true (what was sent is still flushed). Records that fail are
/// counted in the summary; the run itself fails, before producing anything,
/// with `errc::invalid_config` (options that break validate's rules, a
/// property or client librdkafka rejects) or `errc::unknown_topic`
/// (round-robin without the topic's partition count).
caf::expected<produce_summary>
producer_run(session& s, const produce_options& o,
             const std::function<void(const delivery&)>& on_delivery,
             const std::atomic<bool>* stop = nullptr,
             const std::function<void()>& on_created = {});

/// The command: seed 000's lines and the performance summary on `out`
/// (JSON Lines with `o.json`). Returns 0 if every record was delivered, 1 if
/// any failed or the run could not start ("❌ <reason>", in JSON an
/// `{"event":"error"}` line), 130 if interrupted.
int run_produce(session& s, const produce_options& o, std::ostream& out,
                const std::atomic<bool>* stop = nullptr);

} // namespace distiller::kafka::tools
