#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/fwd.hpp>
#include <caf/make_message.hpp>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

/// RAII owners for librdkafka's C handles and the module's error enum.
///
/// Every `rd_kafka_*_t*` the bridges create is owned by one of the
/// `std::unique_ptr` aliases below from the moment it exists, so an exception
/// or an early return never leaks a handle or its threads (userver
/// `kafka/impl/holders.hpp`). librdkafka errors are translated into
/// `caf::error` with category `kafka` where they are met (`from_rdkafka`).
///
/// Destruction order matters for two pairs, and declaring members in this
/// order gets it right (members die in reverse order):
///   - an `rd_kafka_ptr` must outlive every `topic_ptr`, `queue_ptr` and
///     `mock_cluster_ptr` created from it;
///   - `rd_kafka_destroy` on a consumer closes it first (leaves the group,
///     commits if auto-commit is on), which can block for a session's worth
///     of time if the brokers are gone — call `rd_kafka_consumer_close`
///     yourself when you need to bound that.
namespace distiller::kafka {

// -- deleters ---------------------------------------------------------------

namespace detail {

struct rd_kafka_deleter {
  void operator()(rd_kafka_t* x) const noexcept { rd_kafka_destroy(x); }
};

struct conf_deleter {
  void operator()(rd_kafka_conf_t* x) const noexcept {
    rd_kafka_conf_destroy(x);
  }
};

struct topic_conf_deleter {
  void operator()(rd_kafka_topic_conf_t* x) const noexcept {
    rd_kafka_topic_conf_destroy(x);
  }
};

struct topic_partition_list_deleter {
  void operator()(rd_kafka_topic_partition_list_t* x) const noexcept {
    rd_kafka_topic_partition_list_destroy(x);
  }
};

struct message_deleter {
  void operator()(rd_kafka_message_t* x) const noexcept {
    rd_kafka_message_destroy(x);
  }
};

struct headers_deleter {
  void operator()(rd_kafka_headers_t* x) const noexcept {
    rd_kafka_headers_destroy(x);
  }
};

struct event_deleter {
  void operator()(rd_kafka_event_t* x) const noexcept {
    rd_kafka_event_destroy(x);
  }
};

struct queue_deleter {
  void operator()(rd_kafka_queue_t* x) const noexcept {
    rd_kafka_queue_destroy(x);
  }
};

struct topic_deleter {
  void operator()(rd_kafka_topic_t* x) const noexcept {
    rd_kafka_topic_destroy(x);
  }
};

struct metadata_deleter {
  void operator()(const rd_kafka_metadata_t* x) const noexcept {
    rd_kafka_metadata_destroy(x);
  }
};

struct mock_cluster_deleter {
  void operator()(rd_kafka_mock_cluster_t* x) const noexcept {
    rd_kafka_mock_cluster_destroy(x);
  }
};

struct new_topic_deleter {
  void operator()(rd_kafka_NewTopic_t* x) const noexcept {
    rd_kafka_NewTopic_destroy(x);
  }
};

struct admin_options_deleter {
  void operator()(rd_kafka_AdminOptions_t* x) const noexcept {
    rd_kafka_AdminOptions_destroy(x);
  }
};

} // namespace detail

// -- owning pointers ----------------------------------------------------------

using rd_kafka_ptr = std::unique_ptr<rd_kafka_t, detail::rd_kafka_deleter>;
using conf_ptr = std::unique_ptr<rd_kafka_conf_t, detail::conf_deleter>;
using topic_conf_ptr =
    std::unique_ptr<rd_kafka_topic_conf_t, detail::topic_conf_deleter>;
using topic_partition_list_ptr =
    std::unique_ptr<rd_kafka_topic_partition_list_t,
                    detail::topic_partition_list_deleter>;
using message_ptr =
    std::unique_ptr<rd_kafka_message_t, detail::message_deleter>;
/// Only for headers the application owns (rd_kafka_headers_new, or detached
/// with rd_kafka_message_detach_headers); a message's own headers are freed
/// with the message.
using headers_ptr =
    std::unique_ptr<rd_kafka_headers_t, detail::headers_deleter>;
using event_ptr = std::unique_ptr<rd_kafka_event_t, detail::event_deleter>;
using queue_ptr = std::unique_ptr<rd_kafka_queue_t, detail::queue_deleter>;
using topic_ptr = std::unique_ptr<rd_kafka_topic_t, detail::topic_deleter>;
using metadata_ptr =
    std::unique_ptr<const rd_kafka_metadata_t, detail::metadata_deleter>;
/// The in-process mock cluster; must be destroyed before the `rd_kafka_t` it
/// was created with.
using mock_cluster_ptr =
    std::unique_ptr<rd_kafka_mock_cluster_t, detail::mock_cluster_deleter>;
using new_topic_ptr =
    std::unique_ptr<rd_kafka_NewTopic_t, detail::new_topic_deleter>;
using admin_options_ptr =
    std::unique_ptr<rd_kafka_AdminOptions_t, detail::admin_options_deleter>;

// -- errors -------------------------------------------------------------------

/// Errors of the Kafka bridges (category atom `kafka`).
enum class errc : uint8_t {
  unspecified = 1,
  /// A client property was rejected by librdkafka.
  invalid_config,
  /// No broker could be reached (transport failure, all brokers down,
  /// name resolution).
  broker_unavailable,
  /// A request did not complete before its deadline.
  timeout,
  /// The topic or partition does not exist.
  unknown_topic,
  /// The topic exists already (CreateTopics).
  topic_exists,
  /// The request was invalid (bad partition count, replication, config).
  invalid_request,
  /// A record could not be produced (queue full, too large, …).
  produce_failed,
  /// Consumer-group membership or offset commit failed.
  group_failed,
  /// Authentication or authorization failed.
  not_authorized,
  /// The client hit a fatal error (e.g. fenced idempotent producer) and must
  /// be recreated.
  fatal,
  /// Any other error reported by a broker or librdkafka.
  broker_error,
  /// There is no cluster to connect to: no brokers are configured and no
  /// running node's embedded cluster was found (the Kafka tools'
  /// `locate_cluster`).
  no_cluster,
};

std::string to_string(errc x);

/// Teaches `cfg` to render Kafka errors as "kafka: timeout (…)" instead of a
/// bare number.
void add_kafka_error_category(caf::actor_system_config& cfg);

/// Maps a librdkafka error code onto `errc`.
errc classify(rd_kafka_resp_err_t err) noexcept;

/// Translates a librdkafka error into a `caf::error` of category `kafka`.
/// Its context is one string: "<context>: <description> (<ERR_NAME>)".
caf::error from_rdkafka(rd_kafka_resp_err_t err, std::string context);

/// The sentence of an error made with one string of context (from_rdkafka,
/// `caf::make_error(code, "…")`), for logs and answers; otherwise CAF's
/// rendering of the error. "" for no error.
std::string error_text(const caf::error& err);

// -- construction helpers ---------------------------------------------------

/// A configuration with every property of `props` set, or
/// `errc::invalid_config` naming the property and librdkafka's reason when
/// one is rejected.
caf::expected<conf_ptr>
try_make_conf(const std::map<std::string, std::string>& props);

/// try_make_conf for callers that cannot go on without the configuration:
/// throws `std::runtime_error` with the error's text instead.
conf_ptr make_conf(const std::map<std::string, std::string>& props);

/// Forwards librdkafka's log lines from clients made with `conf` into the
/// process log (`event=rdkafka_log fac=… msg=…`). With `quiet`, every line is
/// logged at debug level — for probes whose failures are reported anyway and
/// would otherwise print a connection error every few seconds.
void forward_logs(rd_kafka_conf_t* conf, bool quiet = false);

/// Creates a client of `type`, or `errc::invalid_config` with librdkafka's
/// reason (a property that only fails together with others, a missing
/// SASL/SSL library). librdkafka takes `conf` over on success only, so this
/// releases it then.
caf::expected<rd_kafka_ptr> try_make_client(rd_kafka_type_t type,
                                            conf_ptr conf);

/// try_make_client that throws `std::runtime_error` with the error's text.
rd_kafka_ptr make_client(rd_kafka_type_t type, conf_ptr conf);

} // namespace distiller::kafka

CAF_ERROR_CODE_ENUM(distiller::kafka::errc, "kafka")
