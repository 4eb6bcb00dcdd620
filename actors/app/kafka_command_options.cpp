// The options of `distiller topics | produce | consume | groups | kafka
// e2e` (kafka_commands_impl.hpp), declared to CLI11 with their checks.

#include <string>
#include <utility>

#include "actors/app/kafka_commands_impl.hpp"
#include "bridges/kafka_tools/key_pattern.hpp"
#include "runtime/config/schema.hpp"

namespace distiller::app {

namespace tools = kafka::tools;

std::optional<std::chrono::milliseconds>
detail::parse_seconds(const std::string& text) {
  // A bare number counts seconds here ("--timeout 10"); "500ms", "2m" too.
  try {
    size_t used = 0;
    double secs = std::stod(text, &used);
    if (used == text.size() && secs >= 0)
      return std::chrono::milliseconds{static_cast<int64_t>(secs * 1000)};
  } catch (const std::exception&) {
  }
  return config::parse_duration(text);
}

namespace {

using detail::parse_seconds;

// -- validators
// ----------------------------------------------------------------

/// A CLI11 validator from one of the tools' parsers. CLI11 prefixes the
/// option's name itself, so the parser's own prefix is cut off.
template <class Parse>
CLI::Validator checked(Parse parse, std::string description) {
  return CLI::Validator(
      [parse](std::string& text) -> std::string {
        try {
          parse(text);
          return {};
        } catch (const tools::option_error& e) {
          std::string msg = e.what();
          auto prefix = e.option() + ": ";
          if (msg.rfind(prefix, 0) == 0)
            msg.erase(0, prefix.size());
          return msg;
        }
      },
      std::move(description));
}

CLI::Validator seconds_validator() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        return parse_seconds(text) ? std::string{}
                                   : "expected seconds (10, 0.5) or a "
                                     "duration (500ms, 2m), got \"" +
                                         text + "\"";
      },
      "SECONDS");
}

CLI::Validator bytes_validator() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        return config::parse_bytes(text)
                   ? std::string{}
                   : "expected a size (512, 4KiB, 1MiB), got \"" + text + "\"";
      },
      "BYTES");
}

} // namespace

kafka_commands::kafka_commands(CLI::App& app, config_flags& flags)
    : impl_(std::make_unique<impl>()) {
  auto& x = *impl_;
  auto client_cmd = [&](CLI::App& parent, const char* name, const char* help) {
    auto cmd = parent.add_subcommand(name, help);
    add_client_config_flags(*cmd, flags);
    return cmd;
  };

  // -- topics
  // ------------------------------------------------------------------
  x.topics = app.add_subcommand(
      "topics", "Create, check, list, describe or delete the catalog's topics "
                "(kafka.catalog)");
  x.topics->require_subcommand(1);
  x.apply = client_cmd(*x.topics, "apply",
                       "Create the catalog's missing topics (idempotent); on "
                       "the embedded cluster, report exists/missing");
  x.apply->add_flag("--grow", x.grow,
                    "Add partitions to topics that have fewer than the "
                    "catalog declares (moves keys to other partitions)");
  x.verify = client_cmd(*x.topics, "verify",
                        "Exit 1 naming every catalog topic that is missing "
                        "or has too few partitions");
  x.list = client_cmd(*x.topics, "list", "Topics with partition counts");
  x.list->add_flag("--all", x.list_all, "Include internal topics (__…)");
  x.describe = client_cmd(*x.topics, "describe",
                          "Partitions with leader, replicas and watermarks");
  x.describe->add_option("topic", x.topic_names,
                         "Topics (default: all but internal ones)");
  x.del = client_cmd(*x.topics, "delete",
                     "Delete topics (DeleteTopics; not on the embedded "
                     "cluster)");
  x.del->add_option("topic", x.topic_names, "Topics to delete")->required();

  // -- produce
  // -----------------------------------------------------------------
  x.produce = client_cmd(app, "produce",
                         "Produce test records with per-message lines and a "
                         "throughput/latency summary (seed 000)");
  auto& po = x.po;
  x.produce->add_option("-t,--topic", po.topic, "Topic")->required();
  x.produce->add_option("-n,--count", po.count, "Number of records")
      ->check(CLI::Range(int64_t{1}, int64_t{1'000'000'000}))
      ->capture_default_str();
  x.produce
      ->add_option("--rate", po.rate,
                   "Records per second (0 = as fast as possible)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  x.produce
      ->add_option("--key-pattern", po.key_pattern,
                   "Record keys: {i} {i0} {n} {uuid} {rand} {ts}, e.g. "
                   "job-{i}; empty for keyless records")
      ->check(checked(
          [](const std::string& t) {
            static_cast<void>(tools::key_pattern{t});
          },
          "PATTERN"))
      ->capture_default_str();
  x.produce
      ->add_option("--value-size", x.value_size,
                   "Pad each JSON value to this size (512, 4KiB)")
      ->check(bytes_validator())
      ->capture_default_str();
  x.compression_opt =
      x.produce
          ->add_option("--compression", x.compression,
                       "none, gzip, snappy, lz4 or zstd (default: the "
                       "topic's compression in kafka.catalog, else "
                       "kafka.compression)")
          ->check(checked(tools::parse_compression, "CODEC"));
  x.produce
      ->add_option("--partitioner", x.partitioner,
                   "murmur2 (by key), round-robin, sticky (keyless, one "
                   "partition per batch) or random")
      ->check(checked(tools::parse_partitioner, "NAME"))
      ->capture_default_str();
  x.produce->add_option("--acks", x.acks, "0, 1 or all")
      ->check(checked(tools::parse_acks, "ACKS"))
      ->capture_default_str();
  auto idem = x.produce->add_flag(
      "--idempotent", x.idempotent,
      "Idempotent producer (default with --acks all; requires it)");
  x.produce
      ->add_flag("--no-idempotent", x.no_idempotent,
                 "Plain producer even with --acks all")
      ->excludes(idem);
  x.produce
      ->add_option("--delivery-timeout", x.delivery_timeout,
                   "Seconds a record may wait for delivery before it fails")
      ->check(seconds_validator())
      ->capture_default_str();
  x.produce->add_flag("--json", po.json,
                      "JSON Lines (one per message, then a summary)");
  x.produce->add_flag("-v,--verbose", po.verbose,
                      "One line per message even for more than 20");

  // -- consume
  // -----------------------------------------------------------------
  x.consume = client_cmd(app, "consume",
                         "Consume in a consumer group, printing records, "
                         "assignments and stats (seed 000)");
  auto& co = x.co;
  x.consume->add_option("-t,--topic", co.topics, "Topic (repeatable)")
      ->required();
  x.consume->add_option("-g,--group", co.group, "Consumer group")
      ->capture_default_str();
  co.id = "worker-1";
  x.consume
      ->add_option("--id", co.id,
                   "This consumer's name and client.id (seed: worker-1, "
                   "$CONSUMER_ID)")
      ->envname("CONSUMER_ID")
      ->capture_default_str();
  x.consume->add_flag("--from-beginning", co.from_beginning,
                      "Start at the earliest offset where the group has "
                      "none committed");
  x.consume->add_option("--max", co.max, "Stop after N records (0 = no limit)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  x.consume
      ->add_option("--timeout", x.idle,
                   "Stop after this many seconds without records (0 = run "
                   "until Ctrl+C)")
      ->check(seconds_validator())
      ->capture_default_str();
  x.consume->add_option("--commit", x.commit, "auto, manual or none")
      ->check(checked(tools::parse_commit_mode, "MODE"))
      ->capture_default_str();
  x.consume
      ->add_option("--assignment", x.assignment,
                   "range, roundrobin or cooperative-sticky")
      ->check(checked(tools::parse_assignment, "STRATEGY"))
      ->capture_default_str();
  x.consume
      ->add_option("--session-timeout", x.session_timeout,
                   "Seconds before the group drops a silent member; the "
                   "embedded cluster also waits about this long to finish a "
                   "rebalance of a running group")
      ->check(seconds_validator())
      ->capture_default_str();
  x.consume->add_flag("-q,--quiet", x.quiet,
                      "No per-record lines; a stats line every 10 records");

  // -- groups
  // ------------------------------------------------------------------
  x.groups = app.add_subcommand(
      "groups", "Consumer groups: list, describe, lag, reset-offsets");
  x.groups->require_subcommand(1);
  x.g_list = client_cmd(*x.groups, "list",
                        "All groups (ListGroups; not on the embedded cluster)");
  x.g_describe = client_cmd(*x.groups, "describe",
                            "Members, assignments, committed offsets and lag");
  x.g_describe->add_option("group", x.group, "Group")->required();
  x.g_lag = client_cmd(*x.groups, "lag",
                       "Committed offsets, watermarks and lag per partition");
  x.g_lag->add_option("group", x.group, "Group")->required();
  x.g_lag->add_option("-t,--topic", x.group_topic,
                      "Only this topic (default: every topic the group "
                      "committed on)");
  x.g_reset = client_cmd(*x.groups, "reset-offsets",
                         "Move a group's committed offsets (dry run unless "
                         "--execute)");
  x.g_reset->add_option("group", x.group, "Group")->required();
  x.g_reset->add_option("-t,--topic", x.group_topic, "Topic")->required();
  auto earliest =
      x.g_reset->add_flag("--to-earliest", x.to_earliest, "To the log start");
  auto latest =
      x.g_reset->add_flag("--to-latest", x.to_latest, "To the log end");
  x.to_offset_opt = x.g_reset->add_option(
      "--to-offset", x.to_offset, "To this offset (clamped to the log)");
  x.to_offset_opt->check(CLI::NonNegativeNumber);
  earliest->excludes(latest)->excludes(x.to_offset_opt);
  latest->excludes(x.to_offset_opt);
  x.g_reset->add_flag("--execute", x.execute,
                      "Commit the new offsets (stop the group first)");

  // -- kafka e2e
  // ---------------------------------------------------------------
  x.kafka = app.add_subcommand("kafka", "Kafka checks");
  x.kafka->require_subcommand(1);
  x.e2e = client_cmd(*x.kafka, "e2e",
                     "End-to-end check: create a topic, produce, consume, "
                     "commit, verify, clean up (seed 004)");
  // Unlike the other tools, e2e needs no node: without --brokers it runs
  // against a cluster of its own.
  x.e2e->get_option("--brokers")
      ->description("Kafka bootstrap servers; omit to start an in-process "
                    "embedded cluster for the run (or pass --use-node for the "
                    "running node's)");
  x.e2e->add_option("--partitions", x.eo.partitions, "Partitions")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  x.e2e->add_option("--messages", x.eo.messages, "Messages")
      ->check(CLI::Range(int64_t{1}, int64_t{10'000'000}))
      ->capture_default_str();
  x.e2e->add_option("--topic", x.eo.topic,
                    "Topic (default: a fresh distiller-e2e-<random>)");
  x.e2e->add_flag("--cleanup", x.eo.cleanup, "Delete the topic afterwards");
  x.e2e->add_flag("--use-node", x.eo.use_node,
                  "Use the running node's embedded cluster instead of an "
                  "in-process one (when no --brokers is given)");
  x.e2e
      ->add_option("--timeout", x.e2e_timeout,
                   "Seconds to wait for the messages to be consumed")
      ->check(seconds_validator())
      ->capture_default_str();
}

} // namespace distiller::app
