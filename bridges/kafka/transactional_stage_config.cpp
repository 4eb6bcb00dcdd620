// A transactional stage's configuration (transactional_stage.hpp): its
// checks and the properties of its two clients.

#include "bridges/kafka/transactional_stage.hpp"
#include "bridges/kafka/transactional_stage_impl.hpp"

#include <stdexcept>

namespace distiller::kafka {

// -- configuration ------------------------------------------------------------

namespace {

[[noreturn]] void bad_field(const std::string& field, const std::string& why) {
  throw std::invalid_argument("eos_stage." + field + ": " + why);
}

} // namespace

void detail::validate(const eos_stage_config& cfg) {
  auto required = [](const std::string& value, const char* field) {
    if (value.empty())
      bad_field(field, "must not be empty");
  };
  required(cfg.brokers, "brokers");
  required(cfg.group, "group");
  required(cfg.input_topic, "input_topic");
  required(cfg.output_topic, "output_topic");
  required(cfg.transactional_id, "transactional_id");
  if (cfg.max_batch == 0)
    bad_field("max_batch", "must be positive");
  if (cfg.max_batch_time.count() <= 0)
    bad_field("max_batch_time", "must be positive");
  if (cfg.transaction_timeout.count() < 1000)
    bad_field("transaction_timeout", "must be at least 1000 ms");
  if (cfg.session_timeout.count() <= 0)
    bad_field("session_timeout", "must be positive");
}

std::map<std::string, std::string>
eos_consumer_properties(const eos_stage_config& cfg) {
  detail::validate(cfg);
  std::map<std::string, std::string> props{
      {"bootstrap.servers", cfg.brokers},
      {"group.id", cfg.group},
      {"client.id", cfg.transactional_id + "-consumer"},
      {"isolation.level", "read_committed"},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"auto.offset.reset", "earliest"},
      {"enable.partition.eof", "false"},
      {"session.timeout.ms", std::to_string(cfg.session_timeout.count())},
  };
  for (auto& [key, value] : cfg.consumer_extra) {
    if (key == "enable.auto.commit" && value != "false")
      bad_field("consumer_extra." + key,
                "offsets are committed inside transactions only");
    if (key == "isolation.level" && value != "read_committed")
      bad_field("consumer_extra." + key,
                "the stage must not read aborted records");
    props[key] = value;
  }
  return props;
}

std::map<std::string, std::string>
eos_producer_properties(const eos_stage_config& cfg) {
  detail::validate(cfg);
  std::map<std::string, std::string> props{
      {"bootstrap.servers", cfg.brokers},
      {"client.id", cfg.transactional_id + "-producer"},
      {"transactional.id", cfg.transactional_id},
      {"enable.idempotence", "true"},
      {"acks", "all"},
      {"transaction.timeout.ms",
       std::to_string(cfg.transaction_timeout.count())},
  };
  for (auto& [key, value] : cfg.producer_extra) {
    if (key == "transactional.id" || key == "enable.idempotence" ||
        key == "acks" || key == "request.required.acks")
      bad_field("producer_extra." + key,
                "fixed by the stage (exactly-once needs it)");
    props[key] = value;
  }
  return props;
}

std::string to_string(transactional_stage::run_state x) {
  switch (x) {
  case transactional_stage::run_state::idle:
    return "idle";
  case transactional_stage::run_state::running:
    return "running";
  case transactional_stage::run_state::stopped:
    return "stopped";
  case transactional_stage::run_state::failed:
    return "failed";
  }
  return "unknown";
}

} // namespace distiller::kafka
