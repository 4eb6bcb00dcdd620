#include "actors/app/kafka_commands.hpp"
#include "actors/app/kafka_commands_impl.hpp"

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
using detail::parse_seconds;

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

} // namespace

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
