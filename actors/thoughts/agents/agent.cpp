#include "actors/thoughts/agents/agent.hpp"

namespace distiller::thoughts {

namespace {

constexpr std::array<std::string_view, agent_count> agent_names{
    "classify", "analyse", "value", "plan", "summarise"};

constexpr std::array<std::string_view, agent_count> result_names{
    "classification", "analysis", "value", "plan", "summary"};

} // namespace

std::string_view agent_name(agent_kind k) noexcept {
  const auto i = static_cast<size_t>(k);
  return i < agent_count ? agent_names[i] : std::string_view{"unknown"};
}

std::string_view result_name(agent_kind k) noexcept {
  const auto i = static_cast<size_t>(k);
  return i < agent_count ? result_names[i] : std::string_view{"unknown"};
}

bool parse_agent_kind(std::string_view name, agent_kind& out) noexcept {
  for (size_t i = 0; i < agent_count; ++i) {
    if (agent_names[i] == name) {
      out = static_cast<agent_kind>(i);
      return true;
    }
  }
  return false;
}

} // namespace distiller::thoughts
