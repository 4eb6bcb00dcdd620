#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "bridges/kafka/compression.hpp"
#include "bridges/kafka/partitioner.hpp"

/// Options of the Kafka tools (`distiller produce|consume|groups|kafka e2e`)
/// as plain data, with the parsers and checks the command line uses. Every
/// check throws `option_error`, whose message starts with the option's name
/// (e.g. "--acks: expected 0, 1 or all, got \"2\""), so the CLI can print it
/// and exit 2 without knowing the rules.
namespace distiller::kafka::tools {

/// A bad command-line value; `what()` names the option.
class option_error : public std::invalid_argument {
 public:
  option_error(std::string option, const std::string& message);

  const std::string& option() const noexcept { return option_; }

 private:
  std::string option_;
};

// -- producer choices ------------------------------------------------------

enum class acks { none, leader, all };
/// The codecs of every Distiller producer (bridges/kafka/compression.hpp).
using kafka::compression;
/// The partitioners of every Distiller producer
/// (bridges/kafka/partitioner.hpp). `--partitioner` takes four of them:
/// murmur2 (partitioner::murmur2_random: keyed records hash like the Java
/// client, keyless ones go to a random partition); round-robin (record i
/// goes to partition i mod n, named explicitly); sticky (keyless records
/// stick to one partition per batch, KIP-480, the key travels in the value
/// only); random (ignores the key).
using kafka::partitioner;

acks parse_acks(std::string_view text);
compression parse_compression(std::string_view text);
partitioner parse_partitioner(std::string_view text);

/// librdkafka's spelling: "0", "1", "all".
std::string to_rdkafka(acks x);
/// The `--partitioner` spelling of `x` (murmur2_random is "murmur2").
std::string cli_name(partitioner x);
std::string to_string(acks x);

// -- consumer choices ------------------------------------------------------

enum class commit_mode { automatic, manual, none };
enum class assignment { range, roundrobin, cooperative_sticky };

commit_mode parse_commit_mode(std::string_view text);
assignment parse_assignment(std::string_view text);
std::string to_string(commit_mode x);
/// librdkafka's partition.assignment.strategy value.
std::string to_string(assignment x);

// -- the option sets ---------------------------------------------------------

struct produce_options {
  std::string topic;
  int64_t count = 10;
  /// Messages per second; 0 = as fast as possible.
  double rate = 0;
  /// See key_pattern; empty sends keyless records.
  std::string key_pattern = "{uuid}";
  /// Values are JSON documents padded to at least this many bytes.
  size_t value_size = 256;
  /// The codec: `--compression` if given, else the catalog's for the topic
  /// or kafka.compression (the CLI decides; see compression.hpp).
  compression codec = compression::snappy;
  partitioner partitioning = partitioner::murmur2_random;
  acks required_acks = acks::all;
  /// Unset = on with acks=all, off otherwise.
  std::optional<bool> idempotent;
  /// JSON Lines on stdout instead of text.
  bool json = false;
  /// Per-message lines even for more than `verbose_limit` messages.
  bool verbose = false;
  /// How long a record may wait for delivery before it counts as failed.
  std::chrono::milliseconds delivery_timeout{30'000};
  /// Extra librdkafka properties (security.protocol …).
  std::map<std::string, std::string> properties;

  /// Up to this many messages, each one gets a line (seed 000).
  static constexpr int64_t verbose_limit = 20;

  /// True if enable.idempotence is set (explicitly or by acks=all).
  bool idempotence() const noexcept;
};

/// Checks rules across options; throws option_error.
void validate(const produce_options& x);

struct consume_options {
  std::vector<std::string> topics;
  std::string group = "distiller-consumers";
  /// The consumer's name in output and its client.id (seed: worker-1).
  std::string id;
  bool from_beginning = false;
  /// Stop after this many records; 0 = no limit.
  int64_t max = 0;
  /// Stop after this long without records (counted from the start, the last
  /// assignment or the last record); zero = run until stopped.
  std::chrono::milliseconds idle_timeout{0};
  commit_mode commit = commit_mode::automatic;
  assignment strategy = assignment::range;
  /// session.timeout.ms. Shorter than librdkafka's 45 s default because the
  /// embedded mock waits this long (minus 1 s) before it completes a
  /// rebalance that a member joining or leaving a running group starts; a
  /// real broker needs at least its group.min.session.timeout.ms (6 s).
  std::chrono::milliseconds session_timeout{10'000};
  /// One block per record (seed 000); off prints stats only.
  bool print_records = true;
  /// A "Stats:" line after every this many records.
  int64_t stats_every = 10;
  std::map<std::string, std::string> properties;
};

void validate(const consume_options& x);

} // namespace distiller::kafka::tools
