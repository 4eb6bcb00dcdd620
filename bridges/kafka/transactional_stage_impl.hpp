#pragma once

/// The state behind a transactional_stage (transactional_stage.hpp) and the
/// helpers its files share: transactional_stage.cpp (start, stop, crash,
/// stats) and transactional_stage_loop.cpp (the stage's thread). Private to
/// bridges/kafka.

#include <chrono>
#include <memory>
#include <string>

#include "bridges/kafka/handles.hpp"
#include "bridges/kafka/transactional_stage.hpp"
#include "runtime/logging/log.hpp"

namespace distiller::kafka {

namespace detail {

/// Throws std::invalid_argument naming the first field of `cfg` that is
/// wrong ("eos_stage.<field>: <why>").
void validate(const eos_stage_config& cfg);

using clock_type = std::chrono::steady_clock;

struct error_deleter {
  void operator()(rd_kafka_error_t* x) const noexcept {
    rd_kafka_error_destroy(x);
  }
};
using error_ptr = std::unique_ptr<rd_kafka_error_t, error_deleter>;

struct group_metadata_deleter {
  void operator()(rd_kafka_consumer_group_metadata_t* x) const noexcept {
    rd_kafka_consumer_group_metadata_destroy(x);
  }
};
using group_metadata_ptr =
    std::unique_ptr<rd_kafka_consumer_group_metadata_t, group_metadata_deleter>;

/// Thrown on the stage's thread to leave it at once (the crash hook).
struct crash_signal {};

/// Thrown on the stage's thread to stop it with an error.
struct stage_failure {
  std::string why;
};

inline std::string describe(const rd_kafka_error_t* e) {
  return std::string{rd_kafka_error_name(e)} + ": " + rd_kafka_error_string(e);
}

inline std::string describe(const rd_kafka_topic_partition_list_t* parts) {
  std::string out;
  for (int i = 0; i < parts->cnt; ++i) {
    if (!out.empty())
      out += ',';
    out += parts->elems[i].topic;
    out += '[' + std::to_string(parts->elems[i].partition) + ']';
  }
  return out;
}

/// Consecutive aborted transactions before the stage gives up: a batch that
/// can never commit (say, a record the broker always rejects) must not spin
/// forever.
constexpr int max_consecutive_aborts = 10;

/// Retriable errors of one transactional call before it counts as failed.
constexpr int max_retries = 10;

/// How long the crash hook lets librdkafka register partitions (see
/// process_batch).
constexpr auto crash_registration_grace = std::chrono::milliseconds{500};

} // namespace detail

// -- the clients and the open batch -------------------------------------------

struct transactional_stage::impl {
  std::string name;
  rd_kafka_ptr consumer;
  rd_kafka_ptr producer;
  /// Polled, not yet committed; in offset order per partition.
  std::vector<message_ptr> batch;
  bool in_txn = false;
  int consecutive_aborts = 0;
  std::string last_delivery_error;

  prometheus::Counter* consumed = nullptr;
  prometheus::Counter* produced = nullptr;
  prometheus::Counter* committed = nullptr;
  prometheus::Counter* aborted = nullptr;

  /// Drops polled records of revoked partitions: their new owner reads them
  /// again from the committed offsets.
  void drop(const rd_kafka_topic_partition_list_t* parts) {
    auto revoked = [parts](const message_ptr& m) {
      auto topic = rd_kafka_topic_name(m->rkt);
      for (int i = 0; i < parts->cnt; ++i)
        if (parts->elems[i].partition == m->partition &&
            std::string_view{parts->elems[i].topic} == topic)
          return true;
      return false;
    };
    batch.erase(std::remove_if(batch.begin(), batch.end(), revoked),
                batch.end());
  }

  // Runs inside rd_kafka_consumer_poll on the stage's thread, i.e. while a
  // batch is being collected and no transaction is open.
  static void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                           rd_kafka_topic_partition_list_t* parts,
                           void* opaque) {
    auto* self = static_cast<impl*>(opaque);
    auto cooperative =
        std::string_view{rd_kafka_rebalance_protocol(rk)} == "COOPERATIVE";
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      log::info(
          "eos_partitions_assigned",
          {{"stage", self->name}, {"partitions", detail::describe(parts)}});
      if (cooperative)
        detail::error_ptr{rd_kafka_incremental_assign(rk, parts)};
      else
        rd_kafka_assign(rk, parts);
      return;
    }
    if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS)
      log::info(
          "eos_partitions_revoked",
          {{"stage", self->name}, {"partitions", detail::describe(parts)}});
    else
      log::warn("eos_rebalance_error",
                {{"stage", self->name}, {"error", rd_kafka_err2name(err)}});
    self->drop(parts);
    if (cooperative)
      detail::error_ptr{rd_kafka_incremental_unassign(rk, parts)};
    else
      rd_kafka_assign(rk, nullptr);
  }

  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* msg,
                          void* opaque) {
    // A failed delivery makes commit_transaction fail with an abortable
    // error; remember why for the log line.
    if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR)
      static_cast<impl*>(opaque)->last_delivery_error =
          std::string{rd_kafka_topic_name(msg->rkt)} + ": " +
          rd_kafka_err2name(msg->err);
  }

  static void on_error(rd_kafka_t* rk, int code, const char* reason,
                       void* opaque) {
    auto err = static_cast<rd_kafka_resp_err_t>(code);
    auto lvl = err == RD_KAFKA_RESP_ERR__TRANSPORT ? log::level::debug
                                                   : log::level::warn;
    if (log::enabled(lvl))
      log::write(lvl, "kafka_client_error",
                 {{"stage", static_cast<impl*>(opaque)->name},
                  {"client", rd_kafka_name(rk)},
                  {"error", rd_kafka_err2name(err)},
                  {"reason", reason}});
  }
};

} // namespace distiller::kafka
