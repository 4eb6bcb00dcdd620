#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include <boost/json/object.hpp>

#include "actors/load/http_driver.hpp"
#include "actors/load/recorder.hpp"
#include "bridges/kafka_tools/session.hpp"

/// `distiller load kafka`: records produced at the schedule's pace (librdkafka
/// directly) and consumed again from the same topic in the same process.
///
/// Each value starts with a 32-byte header — magic "DLK1", this run's tag,
/// the sequence number and the planned send time (steady clock, ns) — and is
/// padded to `size`; records of other producers or runs are skipped.
/// Histograms: `e2e` (planned send → consumed, primary) and `produce`
/// (planned send → delivery report). The consumer is assigned every
/// partition at its high watermark before the first record is sent
/// (fetch.wait.max.ms 10), on a thread of its own; the producer, its
/// delivery reports and the progress run on the calling thread.
///
/// Topic: `topic`, or a fresh `load-<run>`: on the embedded cluster (the
/// librdkafka mock, no admin API) created by asking for its metadata (4
/// partitions); on a real cluster created with CreateTopics (`partitions`,
/// replication 1) and deleted afterwards unless `keep_topic`. Duplicates are
/// found in a sliding window of 2^20 sequence numbers (128 KiB); `missing`
/// is delivered − consumed at the end of the drain.
namespace distiller::load {

struct kafka_load_options {
  std::string topic;
  int partitions = 3;
  std::string acks = "all";
  uint64_t size = 256;
  bool keep_topic = false;
  std::string run_id;
};

struct kafka_run {
  run_times times;
  boost::json::object fields;
  boost::json::object config;
};

kafka_run run_kafka(kafka::tools::session& s, const kafka_load_options& o,
                    recorder& rec, const http_run_settings& settings);

} // namespace distiller::load
