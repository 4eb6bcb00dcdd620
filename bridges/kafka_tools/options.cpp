#include "bridges/kafka_tools/options.hpp"

#include <array>
#include <utility>

namespace distiller::kafka::tools {

option_error::option_error(std::string option, const std::string& message)
    : std::invalid_argument(option + ": " + message),
      option_(std::move(option)) {}

namespace {

/// Looks `text` up in `names`; throws option_error listing them otherwise.
template <class Enum, size_t N>
Enum parse_choice(const char* option, std::string_view text,
                  const std::array<std::pair<const char*, Enum>, N>& names) {
  for (auto& [name, value] : names)
    if (text == name)
      return value;
  std::string allowed;
  for (size_t i = 0; i < N; ++i) {
    if (i > 0)
      allowed += i + 1 == N ? " or " : ", ";
    allowed += names[i].first;
  }
  throw option_error(option, "expected " + allowed + ", got \"" +
                                 std::string{text} + "\"");
}

template <class Enum, size_t N>
std::string name_of(Enum x,
                    const std::array<std::pair<const char*, Enum>, N>& names) {
  for (auto& [name, value] : names)
    if (value == x)
      return name;
  return "?";
}

constexpr std::array<std::pair<const char*, acks>, 3> acks_names{{
    {"0", acks::none},
    {"1", acks::leader},
    {"all", acks::all},
}};

constexpr std::array<std::pair<const char*, partitioner>, 4> partitioner_names{{
    {"murmur2", partitioner::murmur2_random},
    {"round-robin", partitioner::round_robin},
    {"sticky", partitioner::sticky},
    {"random", partitioner::random},
}};

constexpr std::array<std::pair<const char*, commit_mode>, 3> commit_names{{
    {"auto", commit_mode::automatic},
    {"manual", commit_mode::manual},
    {"none", commit_mode::none},
}};

constexpr std::array<std::pair<const char*, assignment>, 3> assignment_names{{
    {"range", assignment::range},
    {"roundrobin", assignment::roundrobin},
    {"cooperative-sticky", assignment::cooperative_sticky},
}};

} // namespace

acks parse_acks(std::string_view text) {
  // "-1" is Kafka's own spelling of all.
  if (text == "-1")
    return acks::all;
  return parse_choice("--acks", text, acks_names);
}

compression parse_compression(std::string_view text) {
  if (auto codec = compression_from_name(text))
    return *codec;
  throw option_error("--compression",
                     "expected none, gzip, snappy, lz4 or zstd, got \"" +
                         std::string{text} + "\"");
}

partitioner parse_partitioner(std::string_view text) {
  return parse_choice("--partitioner", text, partitioner_names);
}

commit_mode parse_commit_mode(std::string_view text) {
  return parse_choice("--commit", text, commit_names);
}

assignment parse_assignment(std::string_view text) {
  return parse_choice("--assignment", text, assignment_names);
}

std::string to_rdkafka(acks x) {
  return name_of(x, acks_names);
}

std::string to_string(acks x) {
  return name_of(x, acks_names);
}

std::string cli_name(partitioner x) {
  auto name = name_of(x, partitioner_names);
  return name != "?" ? name : kafka::to_string(x);
}

std::string to_string(commit_mode x) {
  return name_of(x, commit_names);
}

std::string to_string(assignment x) {
  return name_of(x, assignment_names);
}

bool produce_options::idempotence() const noexcept {
  return idempotent.value_or(required_acks == acks::all);
}

void validate(const produce_options& x) {
  if (x.topic.empty())
    throw option_error("--topic", "is required");
  if (x.count < 1)
    throw option_error("--count",
                       "must be at least 1, got " + std::to_string(x.count));
  if (x.rate < 0)
    throw option_error("--rate", "must not be negative");
  if (x.value_size > 16 * 1024 * 1024)
    throw option_error("--value-size", "must be at most 16 MiB");
  // librdkafka refuses the combination at start-up with a less helpful text.
  if (x.idempotent.value_or(false) && x.required_acks != acks::all)
    throw option_error("--idempotent", "requires --acks all (got --acks " +
                                           to_string(x.required_acks) + ")");
  if (x.delivery_timeout.count() < 1)
    throw option_error("--delivery-timeout", "must be positive");
}

void validate(const consume_options& x) {
  if (x.topics.empty())
    throw option_error("--topic", "is required");
  if (x.group.empty())
    throw option_error("--group", "must not be empty");
  if (x.max < 0)
    throw option_error("--max", "must not be negative");
  if (x.idle_timeout.count() < 0)
    throw option_error("--timeout", "must not be negative");
  if (x.session_timeout < std::chrono::seconds{1})
    throw option_error("--session-timeout", "must be at least 1 s");
}

} // namespace distiller::kafka::tools
