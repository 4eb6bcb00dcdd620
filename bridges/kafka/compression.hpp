#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "bridges/kafka/handles.hpp"

/// Which codec a producer compresses each topic's records with — one rule
/// for every producer of the process (the sink bridge, the source bridge's
/// dead-letter producer, `distiller produce`):
///
///   1. the topic's catalog entry (`compression` in config/topics.toml) when
///      it names a codec;
///   2. otherwise — "producer" in the catalog ("keep what the producer
///      sent"), or a topic the catalog does not list — the producer's
///      default, `kafka.compression` (snappy, seed 002).
///
/// librdkafka takes `compression.codec` per producer, but `compression.type`
/// also per topic (a topic property, default "inherit"): the producer's
/// default goes into `compression.codec`, and every topic whose codec
/// differs gets a topic handle of its own created with `compression.type`
/// (`topic_codecs`), on first use, so no topic is named to the brokers
/// before something is produced to it.
namespace distiller::kafka {

enum class compression { none, gzip, snappy, lz4, zstd };

/// "none", "gzip", "snappy", "lz4", "zstd" (librdkafka's and Kafka's
/// spelling), or nullopt.
std::optional<compression> compression_from_name(std::string_view name);

/// The name of `x`, as `compression_from_name` reads it.
std::string to_string(compression x);

/// Every codec's name, in enum order.
const std::vector<std::string>& compression_names();

/// The codec of every topic a producer writes to (see above).
struct compression_plan {
  /// compression.codec: topics without a codec of their own.
  compression fallback = compression::snappy;
  /// compression.type per topic.
  std::map<std::string, compression, std::less<>> topics;

  /// The codec records of `topic` get.
  compression codec_of(std::string_view topic) const;
};

struct catalog;
struct kafka_config;

/// `kafka.compression` as the enum (the schema validated it; snappy if not).
compression default_compression(const kafka_config& cfg);

/// The plan the catalog asks for: every topic whose `compression` names a
/// codec gets it; "producer" topics and unknown ones get `fallback`.
compression_plan plan_from_catalog(const catalog& topics, compression fallback);

/// The topic properties (librdkafka topic conf) a producer following `plan`
/// sets for `topic`: {"compression.type", codec} when the codec differs from
/// the plan's fallback, else nothing (the topic inherits compression.codec).
std::map<std::string, std::string>
topic_compression_properties(const compression_plan& plan,
                             std::string_view topic);

/// The topic handles one producer uses for the topics whose codec differs
/// from its compression.codec.
///
/// Owns: those handles. Destroy (or `clear`) it before the producer.
/// Thread-safety: none; used by the producer's one producing thread.
class topic_codecs {
 public:
  explicit topic_codecs(compression_plan plan = {});

  topic_codecs(const topic_codecs&) = delete;
  topic_codecs& operator=(const topic_codecs&) = delete;

  /// The handle to produce records of `topic` with, created with its
  /// compression.type on first use; nullptr when the topic takes the
  /// producer's default (produce by name then). Throws std::runtime_error if
  /// librdkafka refuses the topic configuration.
  rd_kafka_topic_t* handle(rd_kafka_t* rk, const std::string& topic);

  const compression_plan& plan() const noexcept { return plan_; }

  /// Destroys every handle (before the producer goes).
  void clear() noexcept { handles_.clear(); }

 private:
  compression_plan plan_;
  std::unordered_map<std::string, topic_ptr> handles_;
};

} // namespace distiller::kafka
