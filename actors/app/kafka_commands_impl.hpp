#pragma once

/// The state behind kafka_commands (kafka_commands.hpp): each command's
/// parsed options, shared by kafka_commands.cpp (running them) and
/// kafka_command_options.cpp (declaring them to CLI11). Private to
/// actors/app.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "actors/app/kafka_commands.hpp"
#include "bridges/kafka_tools/e2e.hpp"
#include "bridges/kafka_tools/options.hpp"

namespace distiller::app {

namespace detail {

/// Seconds as the tools' options take them: a bare number ("10", "0.5")
/// or a duration ("500ms", "2m"); nullopt if it is neither.
std::optional<std::chrono::milliseconds> parse_seconds(const std::string& text);

} // namespace detail

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
  kafka::tools::produce_options po;
  std::string acks = "all", compression, partitioner = "murmur2";
  CLI::Option* compression_opt = nullptr;
  std::string value_size = "256", delivery_timeout = "30";
  bool idempotent = false, no_idempotent = false;

  // consume
  CLI::App* consume = nullptr;
  kafka::tools::consume_options co;
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
  kafka::tools::e2e_options eo;
  std::string e2e_timeout = "60";

  int run_topics(const node::node_config& cfg);
  int run_produce(const node::node_config& cfg);
  int run_consume(const node::node_config& cfg);
  int run_groups(const node::node_config& cfg);
  int run_e2e(const node::node_config& cfg);
};

} // namespace distiller::app
