#include "bridges/kafka/kafka_config.hpp"

#include "bridges/kafka/compression.hpp"

namespace distiller::kafka {

void declare(config::schema& s, kafka_config& cfg) {
  s.add_string("kafka.brokers", cfg.brokers,
               "Bootstrap servers (host:port,…); empty starts the embedded "
               "mock cluster.");
  s.alias_env("kafka.brokers", "KAFKA_BOOTSTRAP_SERVERS");
  s.add_int("kafka.embedded_brokers", cfg.embedded_brokers, 1, 16,
            "Number of brokers of the embedded mock cluster.");
  s.add_string("kafka.bootstrap_file", cfg.bootstrap_file,
               "File the embedded cluster's bootstrap address is written to; "
               "empty means <node.data_dir>/kafka.bootstrap.");
  s.add_string("kafka.catalog", cfg.catalog,
               "Topic catalog (TOML) used to create and verify topics.");
  s.add_choice("kafka.compression", cfg.compression, compression_names(),
               "Producers' codec for topics whose catalog entry sets none "
               "(compression = \"producer\") or that the catalog does not "
               "list; catalog topics use their own compression.");
  s.add_string("kafka.client_id", cfg.client_id,
               "client.id of the Kafka clients this node creates.");
  s.add_int("kafka.connect_retries", cfg.connect_retries, 1, 1000,
            "Connection attempts to the brokers before start-up fails.");
  s.add_duration("kafka.connect_retry_delay", cfg.connect_retry_delay,
                 std::chrono::milliseconds{1},
                 "Delay between two connection attempts.");
  s.add_choice("kafka.security_protocol", cfg.security_protocol,
               {"plaintext", "ssl", "sasl_plaintext", "sasl_ssl"},
               "security.protocol used with a real cluster.");
  s.add_duration("kafka.session_timeout", cfg.session_timeout,
                 std::chrono::milliseconds{1000},
                 "session.timeout.ms of the pipelines' consumers: a node "
                 "that dies keeps its partitions this long before the "
                 "others take them over (real brokers refuse less than "
                 "their group.min.session.timeout.ms, 6 s by default).");
  s.add_duration("kafka.embedded_session_timeout", cfg.embedded_session_timeout,
                 std::chrono::milliseconds{1000},
                 "session.timeout.ms instead of kafka.session_timeout when the "
                 "brokers are the embedded Kafka, whose coordinator waits "
                 "session.timeout.ms - 1 s before every rebalance.");
  s.add_duration("kafka.heartbeat_interval", cfg.heartbeat_interval,
                 std::chrono::milliseconds{100},
                 "heartbeat.interval.ms of the pipelines' consumers (below a "
                 "third of kafka.session_timeout).");
  s.add_duration("kafka.delivery_timeout", cfg.delivery_timeout,
                 std::chrono::milliseconds{1000},
                 "delivery.timeout.ms of the node's producers: how long a "
                 "record may wait for the brokers before its produce fails "
                 "(the outbox keeps the row and tries again later, a stage's "
                 "batch is retried).");
}

void validate(const kafka_config& cfg) {
  for (auto [key, timeout] :
       {std::pair{"kafka.session_timeout", cfg.session_timeout},
        std::pair{"kafka.embedded_session_timeout",
                  cfg.embedded_session_timeout}})
    if (cfg.heartbeat_interval * 3 > timeout)
      throw config::config_error("kafka.heartbeat_interval",
                                 std::string{"must be at most a third of "} +
                                     key + " (" +
                                     std::to_string(timeout.count()) + " ms)");
}

std::chrono::milliseconds session_timeout(const kafka_config& cfg) {
  return cfg.embedded ? cfg.embedded_session_timeout : cfg.session_timeout;
}

std::chrono::milliseconds
produce_wait(std::chrono::milliseconds delivery_timeout) {
  return delivery_timeout + std::chrono::seconds{5};
}

std::map<std::string, std::string> group_properties(const kafka_config& cfg) {
  return {{"session.timeout.ms", std::to_string(session_timeout(cfg).count())},
          {"heartbeat.interval.ms",
           std::to_string(cfg.heartbeat_interval.count())}};
}

} // namespace distiller::kafka
