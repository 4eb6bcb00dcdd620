#include "bridges/kafka/handles.hpp"

#include <stdexcept>

#include <caf/actor_system_config.hpp>

#include "runtime/logging/log.hpp"

namespace distiller::kafka {

std::string to_string(errc x) {
  switch (x) {
  case errc::unspecified:
    return "unspecified";
  case errc::invalid_config:
    return "invalid_config";
  case errc::broker_unavailable:
    return "broker_unavailable";
  case errc::timeout:
    return "timeout";
  case errc::unknown_topic:
    return "unknown_topic";
  case errc::topic_exists:
    return "topic_exists";
  case errc::invalid_request:
    return "invalid_request";
  case errc::produce_failed:
    return "produce_failed";
  case errc::group_failed:
    return "group_failed";
  case errc::not_authorized:
    return "not_authorized";
  case errc::fatal:
    return "fatal";
  case errc::broker_error:
    return "broker_error";
  case errc::no_cluster:
    return "no_cluster";
  }
  return "kafka_errc(" + std::to_string(static_cast<int>(x)) + ")";
}

void add_kafka_error_category(caf::actor_system_config& cfg) {
  cfg.add_error_category(caf::atom("kafka"), [](uint8_t code, caf::atom_value,
                                                const caf::message& ctx) {
    auto text = "kafka: " + to_string(static_cast<errc>(code));
    if (!ctx.empty())
      text += " (" + to_string(ctx) + ")";
    return text;
  });
}

errc classify(rd_kafka_resp_err_t err) noexcept {
  switch (err) {
  case RD_KAFKA_RESP_ERR__TRANSPORT:
  case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
  case RD_KAFKA_RESP_ERR__RESOLVE:
  case RD_KAFKA_RESP_ERR__DESTROY:
  case RD_KAFKA_RESP_ERR__UNKNOWN_BROKER:
  case RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE:
  case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
  case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
  case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS:
    return errc::broker_unavailable;
  case RD_KAFKA_RESP_ERR__TIMED_OUT:
  case RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE:
  case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
  case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
    return errc::timeout;
  case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
  case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
  case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    return errc::unknown_topic;
  case RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS:
    return errc::topic_exists;
  case RD_KAFKA_RESP_ERR__INVALID_ARG:
  case RD_KAFKA_RESP_ERR_INVALID_PARTITIONS:
  case RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR:
  case RD_KAFKA_RESP_ERR_INVALID_REPLICA_ASSIGNMENT:
  case RD_KAFKA_RESP_ERR_INVALID_CONFIG:
  case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
  case RD_KAFKA_RESP_ERR_INVALID_REQUEST:
  case RD_KAFKA_RESP_ERR_POLICY_VIOLATION:
    return errc::invalid_request;
  case RD_KAFKA_RESP_ERR__QUEUE_FULL:
  case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
  case RD_KAFKA_RESP_ERR_INVALID_MSG:
  case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
    return errc::produce_failed;
  case RD_KAFKA_RESP_ERR__UNKNOWN_GROUP:
  case RD_KAFKA_RESP_ERR__NO_OFFSET:
  case RD_KAFKA_RESP_ERR__ASSIGNMENT_LOST:
  case RD_KAFKA_RESP_ERR__MAX_POLL_EXCEEDED:
  case RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION:
  case RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID:
  case RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS:
  case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
  case RD_KAFKA_RESP_ERR_NOT_COORDINATOR:
  case RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS:
  case RD_KAFKA_RESP_ERR_OFFSET_METADATA_TOO_LARGE:
  case RD_KAFKA_RESP_ERR_INVALID_COMMIT_OFFSET_SIZE:
  case RD_KAFKA_RESP_ERR_INVALID_SESSION_TIMEOUT:
    return errc::group_failed;
  case RD_KAFKA_RESP_ERR__AUTHENTICATION:
  case RD_KAFKA_RESP_ERR__SSL:
  case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
  case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
  case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
  case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
  case RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
    return errc::not_authorized;
  case RD_KAFKA_RESP_ERR__FATAL:
  case RD_KAFKA_RESP_ERR__FENCED:
  case RD_KAFKA_RESP_ERR_PRODUCER_FENCED:
  case RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID:
    return errc::fatal;
  default:
    return errc::broker_error;
  }
}

caf::error from_rdkafka(rd_kafka_resp_err_t err, std::string context) {
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
    return caf::error{};
  context += ": ";
  context += rd_kafka_err2str(err);
  context += " (";
  context += rd_kafka_err2name(err);
  context += ")";
  return caf::make_error(classify(err), std::move(context));
}

std::string error_text(const caf::error& err) {
  if (!err)
    return {};
  auto& ctx = err.context();
  if (ctx.match_elements<std::string>())
    return ctx.get_as<std::string>(0);
  return caf::to_string(err);
}

caf::expected<conf_ptr>
try_make_conf(const std::map<std::string, std::string>& props) {
  conf_ptr conf{rd_kafka_conf_new()};
  char errstr[512];
  for (auto& [name, value] : props) {
    if (rd_kafka_conf_set(conf.get(), name.c_str(), value.c_str(), errstr,
                          sizeof(errstr)) != RD_KAFKA_CONF_OK)
      return caf::make_error(errc::invalid_config,
                             "librdkafka property '" + name + "': " + errstr);
  }
  return conf;
}

conf_ptr make_conf(const std::map<std::string, std::string>& props) {
  auto conf = try_make_conf(props);
  if (!conf)
    throw std::runtime_error(error_text(conf.error()));
  return std::move(*conf);
}

namespace {

// librdkafka uses syslog levels: 0 emerg … 3 err, 4 warning, 5 notice,
// 6 info, 7 debug.
log::level map_level(int syslog_level) {
  if (syslog_level <= 3)
    return log::level::error;
  if (syslog_level == 4)
    return log::level::warn;
  if (syslog_level <= 6)
    return log::level::info;
  return log::level::debug;
}

void write_log(const rd_kafka_t* rk, int level, const char* fac,
               const char* buf, bool quiet) {
  auto lvl = quiet ? log::level::debug : map_level(level);
  if (!log::enabled(lvl))
    return;
  log::write(lvl, "rdkafka_log",
             {{"client", rd_kafka_name(rk)}, {"fac", fac}, {"msg", buf}});
}

void log_cb(const rd_kafka_t* rk, int level, const char* fac, const char* buf) {
  write_log(rk, level, fac, buf, false);
}

void quiet_log_cb(const rd_kafka_t* rk, int level, const char* fac,
                  const char* buf) {
  write_log(rk, level, fac, buf, true);
}

} // namespace

void forward_logs(rd_kafka_conf_t* conf, bool quiet) {
  rd_kafka_conf_set_log_cb(conf, quiet ? quiet_log_cb : log_cb);
}

caf::expected<rd_kafka_ptr> try_make_client(rd_kafka_type_t type,
                                            conf_ptr conf) {
  char errstr[512];
  rd_kafka_ptr rk{rd_kafka_new(type, conf.get(), errstr, sizeof(errstr))};
  if (!rk)
    return caf::make_error(
        errc::invalid_config,
        std::string{"cannot create a librdkafka "} +
            (type == RD_KAFKA_PRODUCER ? "producer" : "consumer") + ": " +
            errstr);
  // rd_kafka_new owns the configuration now.
  static_cast<void>(conf.release());
  return rk;
}

rd_kafka_ptr make_client(rd_kafka_type_t type, conf_ptr conf) {
  auto rk = try_make_client(type, std::move(conf));
  if (!rk)
    throw std::runtime_error(error_text(rk.error()));
  return std::move(*rk);
}

} // namespace distiller::kafka
