#include "bridges/kafka/compression.hpp"

#include <array>
#include <stdexcept>

#include "bridges/kafka/catalog.hpp"
#include "bridges/kafka/kafka_config.hpp"

namespace distiller::kafka {

namespace {

constexpr std::array<const char*, 5> names{"none", "gzip", "snappy", "lz4",
                                           "zstd"};

} // namespace

std::optional<compression> compression_from_name(std::string_view name) {
  for (size_t i = 0; i < names.size(); ++i)
    if (name == names[i])
      return static_cast<compression>(i);
  return std::nullopt;
}

std::string to_string(compression x) {
  auto i = static_cast<size_t>(x);
  return i < names.size() ? names[i] : "?";
}

const std::vector<std::string>& compression_names() {
  static const std::vector<std::string> xs(names.begin(), names.end());
  return xs;
}

compression compression_plan::codec_of(std::string_view topic) const {
  auto i = topics.find(topic);
  return i == topics.end() ? fallback : i->second;
}

compression default_compression(const kafka_config& cfg) {
  return compression_from_name(cfg.compression).value_or(compression::snappy);
}

compression_plan plan_from_catalog(const catalog& topics,
                                   compression fallback) {
  compression_plan plan;
  plan.fallback = fallback;
  // A "producer" topic (no codec) keeps the producer's default.
  for (auto& t : topics.topics)
    if (t.codec)
      plan.topics.emplace(t.name, *t.codec);
  return plan;
}

std::map<std::string, std::string>
topic_compression_properties(const compression_plan& plan,
                             std::string_view topic) {
  auto codec = plan.codec_of(topic);
  if (codec == plan.fallback)
    return {};
  std::map<std::string, std::string> props{
      {"compression.type", to_string(codec)}};
  // The records are small JSON: gzip's fastest level keeps most of the
  // saving at a fraction of the CPU of the default (6).
  if (codec == compression::gzip)
    props.emplace("compression.level", "1");
  return props;
}

// -- topic_codecs -------------------------------------------------------------

topic_codecs::topic_codecs(compression_plan plan) : plan_(std::move(plan)) {}

rd_kafka_topic_t* topic_codecs::handle(rd_kafka_t* rk,
                                       const std::string& topic) {
  if (auto i = handles_.find(topic); i != handles_.end())
    return i->second.get();
  auto props = topic_compression_properties(plan_, topic);
  if (props.empty()) {
    // Remembered as "no handle", so the next record costs one lookup.
    handles_.emplace(topic, nullptr);
    return nullptr;
  }
  topic_conf_ptr conf{rd_kafka_topic_conf_new()};
  char errstr[512];
  for (auto& [key, value] : props)
    if (rd_kafka_topic_conf_set(conf.get(), key.c_str(), value.c_str(), errstr,
                                sizeof(errstr)) != RD_KAFKA_CONF_OK)
      throw std::runtime_error("topic " + topic + ": " + key + "=" + value +
                               ": " + errstr);
  // librdkafka takes the configuration over, also when it returns null.
  topic_ptr rkt{rd_kafka_topic_new(rk, topic.c_str(), conf.release())};
  if (!rkt)
    throw std::runtime_error("topic " + topic + ": " +
                             rd_kafka_err2str(rd_kafka_last_error()));
  auto* raw = rkt.get();
  handles_.emplace(topic, std::move(rkt));
  return raw;
}

} // namespace distiller::kafka
