#include "actors/app/kafka_commands.hpp"

#include <atomic>
#include <chrono>
#include <signal.h>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "bridges/kafka/catalog.hpp"
#include "bridges/kafka/handles.hpp"
#include "bridges/kafka_tools/consumer.hpp"
#include "bridges/kafka_tools/e2e.hpp"
#include "bridges/kafka_tools/groups.hpp"
#include "bridges/kafka_tools/key_pattern.hpp"
#include "bridges/kafka_tools/options.hpp"
#include "bridges/kafka_tools/producer.hpp"
#include "bridges/kafka_tools/session.hpp"
#include "bridges/kafka_tools/topics.hpp"
#include "runtime/config/schema.hpp"

namespace distiller::app {

namespace tools = kafka::tools;

namespace {

// -- Ctrl-C
// ----------------------------------------------------------------------

std::atomic<bool> stop_requested{false};

extern "C" void on_stop_signal(int) {
  stop_requested = true;
}

/// Lets produce/consume/e2e finish cleanly on SIGINT/SIGTERM (summary,
/// commit, leave the group) instead of dying mid-way. The handler is reset
/// after the first signal, so a second Ctrl+C ends the process at once.
void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESETHAND;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

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

std::optional<std::chrono::milliseconds>
parse_seconds(const std::string& text) {
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

// -- the commands' options
// ---------------------------------------------------------

struct kafka_commands::impl {
  // topics
  CLI::App* topics = nullptr;
  CLI::App* apply = nullptr;
  CLI::App* verify = nullptr;
  CLI::App* list = nullptr;
  CLI::App* describe = nullptr;
  CLI::App* del = nullptr;
  bool grow = false;
  bool list_all = false;
  std::vector<std::string> topic_names;

  // produce
  CLI::App* produce = nullptr;
  tools::produce_options po;
  std::string acks = "all", compression, partitioner = "murmur2";
  CLI::Option* compression_opt = nullptr;
  std::string value_size = "256", delivery_timeout = "30";
  bool idempotent = false, no_idempotent = false;

  // consume
  CLI::App* consume = nullptr;
  tools::consume_options co;
  std::string commit = "auto", assignment = "range", idle = "0";
  std::string session_timeout = "10";
  bool quiet = false;

  // groups
  CLI::App* groups = nullptr;
  CLI::App* g_list = nullptr;
  CLI::App* g_describe = nullptr;
  CLI::App* g_lag = nullptr;
  CLI::App* g_reset = nullptr;
  std::string group, group_topic;
  bool to_earliest = false, to_latest = false, execute = false;
  int64_t to_offset = -1;
  CLI::Option* to_offset_opt = nullptr;

  // kafka e2e
  CLI::App* kafka = nullptr;
  CLI::App* e2e = nullptr;
  tools::e2e_options eo;
  std::string e2e_timeout = "60";

  int run_topics(const node::node_config& cfg);
  int run_produce(const node::node_config& cfg);
  int run_consume(const node::node_config& cfg);
  int run_groups(const node::node_config& cfg);
  int run_e2e(const node::node_config& cfg);
};

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

kafka_commands::~kafka_commands() = default;

bool kafka_commands::parsed() const {
  auto& x = *impl_;
  return x.topics->parsed() || x.produce->parsed() || x.consume->parsed() ||
         x.groups->parsed() || x.kafka->parsed();
}

namespace {

/// Where the cluster is; prints why not and returns nullopt.
std::optional<tools::cluster_target> locate(const node::node_config& cfg) {
  auto where = tools::locate_cluster(cfg.kafka, cfg.runtime.node.data_dir);
  if (!where) {
    std::fprintf(stderr, "distiller: %s\n",
                 kafka::error_text(where.error()).c_str());
    return std::nullopt;
  }
  return std::move(*where);
}

/// Connects to `target` with the configured retries; prints why not and
/// returns null.
std::unique_ptr<tools::session> open(const node::node_config& cfg,
                                     const tools::cluster_target& target) {
  auto how = tools::settings_of(cfg.kafka);
  how.stop = &stop_requested;
  auto opened = tools::open_session(target, cfg.kafka, how);
  if (!opened) {
    std::fprintf(stderr, "distiller: %s\n",
                 kafka::error_text(opened.error()).c_str());
    return nullptr;
  }
  return std::move(*opened);
}

/// Both of the above.
std::unique_ptr<tools::session> connect(const node::node_config& cfg) {
  auto target = locate(cfg);
  return target ? open(cfg, *target) : nullptr;
}

} // namespace

int kafka_commands::run(const node::node_config& cfg) {
  auto& x = *impl_;
  try {
    if (x.topics->parsed())
      return x.run_topics(cfg);
    if (x.produce->parsed())
      return x.run_produce(cfg);
    if (x.consume->parsed())
      return x.run_consume(cfg);
    if (x.groups->parsed())
      return x.run_groups(cfg);
    if (x.kafka->parsed())
      return x.run_e2e(cfg);
  } catch (const tools::option_error& e) {
    std::fprintf(stderr, "distiller: %s\n", e.what());
    return exit_config_error;
  } catch (const config::config_error& e) {
    std::fprintf(stderr, "distiller: %s\n", e.what());
    return exit_config_error;
  } catch (const std::exception& e) {
    std::cout << std::flush;
    std::fprintf(stderr, "distiller: %s\n", e.what());
    return 1;
  }
  return 0;
}

int kafka_commands::impl::run_topics(const node::node_config& cfg) {
  auto target = locate(cfg);
  if (!target)
    return 1;
  auto catalog = kafka::load_catalog(cfg.kafka.catalog);
  auto s = open(cfg, *target);
  if (!s)
    return 1;
  if (apply->parsed())
    return tools::topics_apply(*s, catalog, grow, std::cout);
  if (verify->parsed())
    return tools::topics_verify(*s, catalog, std::cout);
  if (list->parsed())
    return tools::topics_list(*s, catalog, list_all, std::cout);
  if (describe->parsed())
    return tools::topics_describe(*s, catalog, topic_names, std::cout);
  return tools::topics_delete(*s, topic_names, std::cout);
}

int kafka_commands::impl::run_produce(const node::node_config& cfg) {
  po.required_acks = tools::parse_acks(acks);
  // An explicit flag wins; otherwise the rule of every Distiller producer.
  po.codec = compression_opt->count() > 0
                 ? tools::parse_compression(compression)
                 : tools::default_codec(cfg.kafka, po.topic);
  po.partitioning = tools::parse_partitioner(partitioner);
  po.value_size = static_cast<size_t>(*config::parse_bytes(value_size));
  po.delivery_timeout = *parse_seconds(delivery_timeout);
  if (idempotent)
    po.idempotent = true;
  if (no_idempotent)
    po.idempotent = false;
  po.properties["security.protocol"] = cfg.kafka.security_protocol;
  tools::validate(po);
  install_stop_handlers();
  auto s = connect(cfg);
  if (!s)
    return 1;
  return tools::run_produce(*s, po, std::cout, &stop_requested);
}

int kafka_commands::impl::run_consume(const node::node_config& cfg) {
  co.commit = tools::parse_commit_mode(commit);
  co.strategy = tools::parse_assignment(assignment);
  co.idle_timeout = *parse_seconds(idle);
  co.session_timeout = *parse_seconds(session_timeout);
  co.print_records = !quiet;
  tools::validate(co);
  install_stop_handlers();
  auto s = connect(cfg);
  if (!s)
    return 1;
  return tools::run_consume(*s, co, std::cout, &stop_requested);
}

int kafka_commands::impl::run_groups(const node::node_config& cfg) {
  if (g_reset->parsed() && !to_earliest && !to_latest &&
      to_offset_opt->count() == 0)
    throw tools::option_error("--to-earliest|--to-latest|--to-offset",
                              "choose where to reset the offsets to");
  auto s = connect(cfg);
  if (!s)
    return 1;
  if (g_list->parsed())
    return tools::groups_list(*s, std::cout);
  if (g_describe->parsed())
    return tools::groups_describe(*s, group, std::cout);
  if (g_lag->parsed())
    return tools::groups_lag(*s, group, group_topic, std::cout);
  tools::reset_spec spec;
  if (to_latest)
    spec.to = tools::reset_to::latest;
  else if (to_offset_opt->count() > 0)
    spec = {tools::reset_to::offset, to_offset};
  return tools::groups_reset_offsets(*s, group, group_topic, spec, execute,
                                     std::cout);
}

int kafka_commands::impl::run_e2e(const node::node_config& cfg) {
  eo.consume_timeout = *parse_seconds(e2e_timeout);
  install_stop_handlers();
  return tools::run_e2e(cfg.kafka, cfg.runtime.node.data_dir, eo, std::cout,
                        &stop_requested);
}

std::unique_ptr<kafka_commands> add_kafka_commands(CLI::App& app,
                                                   config_flags& flags) {
  return std::make_unique<kafka_commands>(app, flags);
}

} // namespace distiller::app
