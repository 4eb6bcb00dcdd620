#pragma once

/// The sink actor's state (sink.hpp) and what librdkafka's callbacks hand
/// to it, shared by sink.cpp (the actor) and sink_producer.cpp (the
/// producer's properties, enqueueing, the callbacks). Private to
/// bridges/kafka.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <caf/response_promise.hpp>
#include <prometheus/counter.h>
#include <prometheus/histogram.h>

#include "bridges/kafka/handles.hpp"
#include "bridges/kafka/sink.hpp"

namespace distiller::kafka {

// -- the poll thread's hand-over ----------------------------------------------

namespace sink_detail {

using clock_type = std::chrono::steady_clock;

/// One delivery report, as librdkafka's callback saw it.
struct report {
  uint64_t id = 0;
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  int32_t partition = -1;
  int64_t offset = -1;
};

/// Written by librdkafka's callbacks (on whichever thread polls), read by
/// the actor. The wake flag makes the poll thread send at most one
/// (delivered_atom) until the actor has taken the reports.
class inbox {
 public:
  void push(report r) {
    std::lock_guard<std::mutex> guard{mtx_};
    reports_.push_back(r);
  }

  std::vector<report> take() {
    std::lock_guard<std::mutex> guard{mtx_};
    std::vector<report> out;
    out.swap(reports_);
    return out;
  }

  void set_fatal(std::string reason) {
    std::lock_guard<std::mutex> guard{mtx_};
    if (!fatal_)
      fatal_ = std::move(reason);
  }

  std::optional<std::string> fatal() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return fatal_;
  }

  bool has_news() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return !reports_.empty() || fatal_.has_value();
  }

  /// True if the caller should send a wake-up (none is pending).
  bool arm() noexcept { return !wake_pending_.exchange(true); }

  /// Called by the actor before it takes the reports, so a report pushed
  /// after `take` always triggers a new wake-up.
  void disarm() noexcept { wake_pending_.store(false); }

 private:
  mutable std::mutex mtx_;
  std::vector<report> reports_;
  std::optional<std::string> fatal_;
  std::atomic<bool> wake_pending_{false};
};

/// librdkafka's delivery report callback: the report into the inbox
/// (`opaque`).
void on_delivery(rd_kafka_t*, const rd_kafka_message_t* msg, void* opaque);

/// librdkafka's error callback: a fatal error into the inbox (`opaque`),
/// others logged.
void on_error(rd_kafka_t* rk, int code, const char* reason, void* opaque);

/// The producer and what its callbacks write to. The inbox is declared
/// first so it outlives the producer; the topic handles last, so they go
/// before it.
struct producer_handle {
  explicit producer_handle(compression_plan plan) : codecs(std::move(plan)) {}

  inbox box;
  rd_kafka_ptr rk;
  topic_codecs codecs;

  /// Enqueues `rec` with its topic's codec.
  rd_kafka_resp_err_t enqueue(const out_record& rec, void* opaque) {
    return enqueue_record(rk.get(), rec, opaque,
                          codecs.handle(rk.get(), rec.topic));
  }

  /// Destroys the topic handles, then the producer.
  void destroy() {
    codecs.clear();
    rk.reset();
  }
};

// -- actor state --------------------------------------------------------------

/// One record the sink accepted and has not answered yet.
struct pending_record {
  uint64_t request = 0;
  size_t index = 0;
  std::string topic;
  distiller::trace_id trace;
  clock_type::time_point accepted;
  /// Set while the record waits in the backlog (librdkafka's queue was
  /// full); dropped once librdkafka copied it.
  std::optional<out_record> unsent;
};

/// One produce request: a single record or a vector.
struct request_state {
  caf::response_promise rp;
  bool single = true;
  size_t outstanding = 0;
  std::vector<delivery> results;
  caf::error first_error;
};

struct flush_waiter {
  /// Settled when every record id up to this one has settled.
  uint64_t last_id = 0;
  caf::response_promise rp;
};

struct sink_state {
  static inline const char* name = "kafka_sink";

  std::string sink_name;
  sink_config cfg;
  std::shared_ptr<producer_handle> producer;
  inspect::actor_entry_ptr entry;

  std::atomic<bool> stop_polling{false};
  std::thread poller;

  uint64_t next_id = 1;
  uint64_t next_request = 1;
  /// Ordered: the lowest id tells whether a flush is done.
  std::map<uint64_t, pending_record> records;
  std::deque<uint64_t> backlog;
  std::unordered_map<uint64_t, request_state> requests;
  std::vector<flush_waiter> flushes;
  bool retry_scheduled = false;

  uint64_t delivered = 0;
  uint64_t failed = 0;

  prometheus::Family<prometheus::Counter>* produced_family = nullptr;
  prometheus::Family<prometheus::Counter>* errors_family = nullptr;
  prometheus::Histogram* latency = nullptr;
  std::unordered_map<std::string, prometheus::Counter*> produced_by_topic;
  std::unordered_map<std::string, prometheus::Counter*> errors_by_topic;

  sink_state() = default;
  sink_state(const sink_state&) = delete;
  sink_state& operator=(const sink_state&) = delete;

  ~sink_state() {
    stop_poller();
    if (producer && producer->rk) {
      // Nothing is waiting for these any more (shutdown answered them, or
      // the actor died); do not let rd_kafka_destroy linger over them.
      rd_kafka_purge(producer->rk.get(),
                     RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
      producer->destroy();
    }
  }

  void stop_poller() {
    stop_polling.store(true);
    if (poller.joinable())
      poller.join();
  }

  rd_kafka_t* rk() const noexcept { return producer->rk.get(); }

  void count(const std::string& topic, bool ok) {
    if (ok)
      ++delivered;
    else
      ++failed;
    auto family = ok ? produced_family : errors_family;
    if (family == nullptr)
      return;
    auto& cache = ok ? produced_by_topic : errors_by_topic;
    auto i = cache.find(topic);
    if (i == cache.end())
      i = cache
              .emplace(topic,
                       &family->Add({{"sink", sink_name}, {"topic", topic}}))
              .first;
    i->second->Increment();
  }
};

} // namespace sink_detail

} // namespace distiller::kafka
