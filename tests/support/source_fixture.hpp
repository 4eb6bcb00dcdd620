#pragma once

/// Shared by the source bridge's integration tests
/// (tests/integration/kafka/source_*_test.cpp): an embedded Kafka, an actor
/// system with the bridges' error categories, an inspection registry and
/// node metrics to assert on, captured log lines, a producer and readers for
/// topics and committed offsets, and a thread-safe log of what workers
/// processed. The fixture's members are in source_fixture.cpp.

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <caf/all.hpp>
#include <gtest/gtest.h>

#include "bridges/embedded/kafka_cluster.hpp"
#include "bridges/kafka/handles.hpp"
#include "bridges/kafka/in_record.hpp"
#include "bridges/kafka/record_worker.hpp"
#include "bridges/kafka/source_bridge.hpp"
#include "runtime/core/errc.hpp"
#include "runtime/core/type_ids.hpp"
#include "runtime/inspect/registry.hpp"
#include "runtime/inspect/trace_ring.hpp"
#include "runtime/logging/log.hpp"
#include "runtime/metrics/metrics.hpp"
#include "tests/support/kafka_reader.hpp"
#include "tests/support/testing.hpp"

namespace distiller::kafka::test {

namespace dt = distiller::testing;
using namespace std::chrono_literals;

// -- data
// -----------------------------------------------------------------------

/// A record to produce.
struct test_message {
  int32_t partition = RD_KAFKA_PARTITION_UA;
  std::optional<std::string> key;
  std::string value;
  std::vector<kafka_header> headers;
};

/// What a worker saw, in the order workers reported it.
struct seen_record {
  int32_t partition = 0;
  int64_t offset = 0;
  std::string key;
  std::string value;
  int attempt = 0;
  int64_t at_ns = 0;
  std::vector<kafka_header> headers;
  std::string trace;
};

/// Thread-safe log of processed records.
class record_log {
 public:
  void add(const in_record& r) {
    seen_record s{r.partition,
                  r.offset,
                  r.key.value_or(""),
                  r.value,
                  r.attempt,
                  std::chrono::steady_clock::now().time_since_epoch().count(),
                  r.headers,
                  r.trace.value()};
    std::lock_guard<std::mutex> guard{mtx_};
    done_.insert({r.partition, r.offset});
    items_.push_back(std::move(s));
  }
  std::vector<seen_record> items() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return items_;
  }
  size_t size() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return items_.size();
  }
  /// Distinct (partition, offset) pairs processed.
  size_t distinct() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return done_.size();
  }
  bool contains(int32_t partition, int64_t offset) const {
    std::lock_guard<std::mutex> guard{mtx_};
    return done_.count({partition, offset}) != 0;
  }
  /// True if every offset of `partition` below `offset`, from `from` on,
  /// was processed.
  bool all_below(int32_t partition, int64_t from, int64_t offset) const {
    std::lock_guard<std::mutex> guard{mtx_};
    for (auto o = from; o < offset; ++o)
      if (done_.count({partition, o}) == 0)
        return false;
    return true;
  }

 private:
  mutable std::mutex mtx_;
  std::vector<seen_record> items_;
  std::set<std::pair<int32_t, int64_t>> done_;
};

/// Thread-safe captured log lines.
class line_log {
 public:
  void push(std::string_view line) {
    std::lock_guard<std::mutex> guard{mtx_};
    lines_.emplace_back(line);
  }
  std::vector<std::string>
  matching(const std::vector<std::string>& parts) const {
    std::lock_guard<std::mutex> guard{mtx_};
    std::vector<std::string> out;
    for (auto& l : lines_) {
      bool all = true;
      for (auto& p : parts)
        all = all && l.find(p) != std::string::npos;
      if (all)
        out.push_back(l);
    }
    return out;
  }
  bool contains(const std::vector<std::string>& parts) const {
    return !matching(parts).empty();
  }

 private:
  mutable std::mutex mtx_;
  std::vector<std::string> lines_;
};

/// Value of `key=` in a logfmt line ("" if absent).
inline std::string field_of(const std::string& line, const std::string& key) {
  auto needle = " " + key + "=";
  auto i = line.find(needle);
  if (i == std::string::npos)
    return "";
  i += needle.size();
  if (i < line.size() && line[i] == '"') {
    auto j = line.find('"', i + 1);
    return line.substr(i + 1, j == std::string::npos ? j : j - i - 1);
  }
  auto j = line.find(' ', i);
  return line.substr(i, j == std::string::npos ? j : j - i);
}

// -- fixture
// --------------------------------------------------------------------

class source_fixture : public ::testing::Test {
 protected:
  source_fixture();
  ~source_fixture() override;

  const std::string& brokers() const { return cluster->bootstrap(); }

  /// Creates a topic with a name unique to this test.
  std::string make_topic(const std::string& base, int partitions);

  /// Produces `msgs` (idempotent, acks=all) and waits for every delivery.
  void produce(const std::string& topic, const std::vector<test_message>& msgs);

  /// Reads `count` records of `topic` from the beginning with a fresh group,
  /// or what arrived before `timeout`.
  std::vector<in_record> read_topic(const std::string& topic, size_t count,
                                    std::chrono::milliseconds timeout = 60s);

  /// The offsets `group` committed for `topic` (partitions 0..n-1); -1 when
  /// nothing was committed.
  std::map<int32_t, int64_t> committed(const std::string& group,
                                       const std::string& topic, int n);

  /// The high watermark of each partition.
  std::map<int32_t, int64_t> end_offsets(const std::string& topic, int n);

  /// A binding with test-friendly timings (fast commits, short sessions).
  source_binding make_binding(const std::string& name, const std::string& topic,
                              const std::string& group);

  caf::actor start(source_binding b, commit_observer observer = {});

  /// Orderly stop; returns the bridge's exit reason.
  caf::error stop(const caf::actor& bridge,
                  std::chrono::milliseconds timeout = 60s);

  /// Kills the bridge (a crash) and waits until it is gone.
  void crash(const caf::actor& bridge);

  source_stats stats(const caf::actor& bridge);

  std::shared_ptr<line_log> lines = std::make_shared<line_log>();
  // Registry and metrics outlive the actor system that updates them.
  inspect::registry actors{"test-node"};
  metrics::node_metrics node_metrics{"test-node"};
  std::unique_ptr<embedded::kafka_cluster> cluster;
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::unique_ptr<caf::scoped_actor> self;
  std::vector<caf::actor> bridges;
  /// Passed to the bridges `start` spawns (bridge_deps::trace) when set.
  inspect::trace_ring* trace = nullptr;
};

/// A worker factory that calls `extra` (which may sleep, fail or throw) and
/// records each record it succeeded with in `log`.
inline worker_factory
logging_worker(std::shared_ptr<record_log> log,
               std::function<caf::error(const in_record&)> extra = {}) {
  return record_worker_factory([log, extra](const in_record& r) -> caf::error {
    if (extra)
      if (auto err = extra(r))
        return err;
    log->add(r);
    return caf::none;
  });
}

} // namespace distiller::kafka::test
