#pragma once

#include <chrono>
#include <map>
#include <string>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "bridges/kafka/compression.hpp"
#include "bridges/kafka/handles.hpp"
#include "bridges/kafka/partitioner.hpp"
#include "bridges/kafka/record.hpp"
#include "bridges/kafka/type_ids.hpp"
#include "runtime/inspect/registry.hpp"
#include "runtime/metrics/metrics.hpp"

/// The Kafka sink bridge: one actor that owns an idempotent librdkafka
/// producer (enable.idempotence=true, acks=all) and answers every produce
/// request only once the brokers acknowledged the records — so a source
/// record is acknowledged only after everything it produced is durable.
///
/// Accepts (request → reply):
///   (produce_atom, out_record)              → delivery (topic, partition,
///       offset) once acknowledged, or a caf::error of category `kafka`
///       (errc::timeout after delivery_timeout, errc::broker_unavailable,
///       errc::produce_failed, errc::fatal …) when delivery failed for good.
///   (produce_atom, std::vector<out_record>) → std::vector<delivery> in
///       request order once *all* are acknowledged; if any failed, the first
///       failure's error — sent only after every record of the request has
///       settled, so nothing of it is still in flight when the error
///       arrives. An empty vector is answered at once.
///   (caf::flush_atom)                       → an empty reply
///       once every record accepted before the flush has settled
///       (delivered or failed).
///   exit_msg                                → orderly shutdown, see below.
/// Sends nothing unasked; internally its poll thread sends it
/// (delivered_atom) to collect delivery reports.
///
/// Where it runs: a `detached` actor (its own thread), plus one poll thread
/// the sink owns that calls rd_kafka_poll and hands delivery reports to the
/// actor through a mutex-guarded inbox and a (delivered_atom) wake-up, so
/// neither librdkafka's callbacks nor its waits touch the CAF scheduler.
/// Records are enqueued with rd_kafka_produceva; when librdkafka's queue is
/// full (RD_KAFKA_RESP_ERR__QUEUE_FULL) the rest wait in the actor's backlog,
/// in order, and are retried as deliveries free space — nothing fails for
/// being too fast. Per-key order holds: idempotence keeps librdkafka's
/// retries in order, and the backlog never reorders.
///
/// Owns: the producer and the poll thread.
///
/// Failures: per-record failures are answered to the requester, counted
/// (distiller_kafka_produce_errors_total) and logged (event=
/// kafka_produce_failed with topic, trace_id, error). A fatal producer error
/// (e.g. the idempotent producer lost its sequence) fails every outstanding
/// record with errc::fatal and the actor quits with that error, so its
/// supervisor starts a fresh producer.
///
/// Shutdown: on an exit_msg the sink stops its poll thread, flushes for at
/// most `shutdown_timeout` (answering requests as records settle), purges
/// what is left (those requests get errc::timeout), destroys the producer and
/// quits with the exit_msg's reason. Destroy sinks before the cluster they
/// talk to.
///
/// Metrics (when given node_metrics):
///   distiller_kafka_produced_total{sink,topic}
///   distiller_kafka_produce_errors_total{sink,topic}
///   distiller_kafka_produce_latency_seconds{sink} (enqueue → delivery report)
namespace distiller::kafka {

/// The sink's messages, as the compiler checks them (the text above says
/// what each does). `delivered_atom` is the sink's own poll thread's.
using sink_actor = caf::typed_actor<
    caf::replies_to<atoms::produce_atom, out_record>::with<delivery>,
    caf::replies_to<atoms::produce_atom,
                    std::vector<out_record>>::with<std::vector<delivery>>,
    caf::reacts_to<caf::flush_atom>, caf::reacts_to<atoms::delivered_atom>>;

/// How a sink produces. Filled once from configuration, validated by
/// `producer_properties`.
struct sink_config {
  /// bootstrap.servers.
  std::string brokers;
  /// client.id.
  std::string client_id = "distiller-sink";
  /// The codec per topic (compression.hpp): `codecs.fallback` becomes
  /// compression.codec (default snappy), every topic of `codecs.topics`
  /// with another codec gets its own topic handle with compression.type.
  /// The node fills it from the catalog and kafka.compression.
  compression_plan codecs;
  /// How records without a partition are spread (partitioner.hpp;
  /// `partitioner_properties` maps it to librdkafka's, sticky and
  /// round_robin with the linger below). A record's explicit `partition`
  /// always wins.
  kafka::partitioner partitioner = kafka::partitioner::murmur2_random;
  /// linger.ms: how long records wait to fill a batch.
  std::chrono::milliseconds linger{5};
  /// batch.size: the most bytes in one batch (librdkafka's default).
  int batch_size = 1'000'000;
  /// delivery.timeout.ms: after this a record fails with errc::timeout.
  /// While every broker is down librdkafka notices the timeout when a
  /// broker thread wakes from its reconnect backoff, up to
  /// reconnect.backoff.max.ms (10 s) later.
  std::chrono::milliseconds delivery_timeout{30000};
  /// How long shutdown waits for outstanding records.
  std::chrono::milliseconds shutdown_timeout{5000};
  /// Raw librdkafka properties, applied last. They may not weaken the
  /// sink's guarantees: acks other than all/-1, enable.idempotence=false,
  /// delivery.report.only.error=true and transactional.id are rejected.
  std::map<std::string, std::string> extra;
};

/// The librdkafka properties of a sink: bootstrap.servers, client.id,
/// enable.idempotence=true, acks=all, compression.codec (the plan's
/// fallback; per-topic codecs are topic properties, see
/// `topic_compression_properties`), partitioner (and
/// sticky.partitioning.linger.ms for sticky/round-robin), linger.ms,
/// batch.size, delivery.timeout.ms, then `extra`. Throws
/// std::invalid_argument naming the option ("sink.batch_size: …") for a
/// non-positive batch size or timeout, or an `extra`
/// entry that weakens the guarantees.
std::map<std::string, std::string> producer_properties(const sink_config& cfg);

/// Hands one record to librdkafka with rd_kafka_produceva (payloads copied,
/// `trace` written as the x-trace-id header, `msg_opaque` for the delivery
/// report), through the topic handle `rkt` if given (its topic must be
/// `rec.topic`; see topic_codecs), else by topic name. Returns librdkafka's
/// immediate verdict: RD_KAFKA_RESP_ERR__QUEUE_FULL means "poll and try
/// again". Shared by the sink and the transactional stage.
rd_kafka_resp_err_t enqueue_record(rd_kafka_t* rk, const out_record& rec,
                                   void* msg_opaque,
                                   rd_kafka_topic_t* rkt = nullptr);

/// Spawns a sink named `name` (metric label, log field, registry entry).
/// Throws std::invalid_argument for a bad configuration and
/// std::runtime_error if librdkafka refuses to create the producer.
/// A supervisor's child factory returns `caf::actor_cast<caf::actor>(…)`.
sink_actor spawn_sink(caf::actor_system& sys, std::string name, sink_config cfg,
                      metrics::node_metrics* metrics = nullptr,
                      inspect::actor_entry_ptr entry = nullptr);

} // namespace distiller::kafka
