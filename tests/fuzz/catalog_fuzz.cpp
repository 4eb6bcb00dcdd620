// libFuzzer target for the topic catalog loader (bridges/kafka/catalog.hpp):
// the input is a `config/topics.toml`, parsed and validated as the embedded
// cluster, `distiller topics apply|verify` and start-up do.
//
// Invariants besides "no crash, no sanitizer report": the only exception
// is config_error, naming a key; every topic of an accepted catalog has a
// legal Kafka name, at least one partition, 1..replication in-sync
// replicas, a known compression and cleanup policy, a dead-letter topic
// that is another topic of the catalog, and is found by its name; and its
// CreateTopics configs name the five keys the catalog promises.
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "bridges/kafka/catalog.hpp"
#include "runtime/config/schema.hpp"
#include "tests/fuzz/support/check.hpp"

using namespace distiller::kafka;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  catalog c;
  try {
    c = parse_catalog(text, "fuzz.toml");
  } catch (const distiller::config::config_error& e) {
    FUZZ_CHECK(!e.key().empty(), "a catalog error names its key");
    return 0;
  }
  static const std::set<std::string> compressions{"none", "gzip", "snappy",
                                                  "lz4",  "zstd", "producer"};
  std::set<std::string> names;
  for (auto& t : c.topics) {
    FUZZ_CHECK(valid_topic_name(t.name), "a topic has a legal name");
    FUZZ_CHECK(names.insert(t.name).second, "topic names are unique");
    FUZZ_CHECK(c.find(t.name) == &t, "a topic is found by its name");
    FUZZ_CHECK(t.partitions >= 1 && t.replication >= 1,
               "partitions and replication are positive");
    FUZZ_CHECK(t.min_insync_replicas >= 1 &&
                   t.min_insync_replicas <= t.replication,
               "min.insync.replicas is 1..replication");
    FUZZ_CHECK(compressions.count(compression_type(t)) == 1,
               "a known compression.type");
    FUZZ_CHECK(t.cleanup_policy == "delete" || t.cleanup_policy == "compact",
               "a known cleanup.policy");
    auto configs = topic_configs(t);
    for (auto* key : {"retention.ms", "compression.type", "cleanup.policy",
                      "min.insync.replicas", "segment.ms"})
      FUZZ_CHECK(configs.count(key) == 1, "CreateTopics sets the five configs");
  }
  for (auto& t : c.topics)
    if (!t.dead_letter.empty())
      FUZZ_CHECK(t.dead_letter != t.name && c.find(t.dead_letter) != nullptr,
                 "a dead-letter topic is another catalog topic");
  return 0;
}
