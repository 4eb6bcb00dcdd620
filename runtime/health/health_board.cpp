#include "runtime/health/health_board.hpp"

namespace distiller::health {

std::string_view to_string(state x) {
  switch (x) {
  case state::starting:
    return "starting";
  case state::up:
    return "up";
  case state::degraded:
    return "degraded";
  case state::down:
    return "down";
  case state::stopped:
    return "stopped";
  }
  return "unknown";
}

void health_board::declare(const std::string& name, bool required,
                           bool serves_when_down) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto [i, added] = components_.try_emplace(name);
  if (added) {
    i->second.name = name;
    i->second.since = std::chrono::system_clock::now();
  }
  i->second.required = required;
  i->second.serves_when_down = serves_when_down;
}

void health_board::set(const std::string& name, state s, std::string detail) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto [i, added] = components_.try_emplace(name);
  auto& c = i->second;
  if (added)
    c.name = name;
  if (added || c.current != s)
    c.since = std::chrono::system_clock::now();
  c.current = s;
  c.detail = std::move(detail);
}

std::vector<component> health_board::snapshot() const {
  std::lock_guard<std::mutex> guard{mtx_};
  std::vector<component> result;
  result.reserve(components_.size());
  for (auto& [name, c] : components_)
    result.push_back(c);
  return result;
}

bool health_board::ready() const {
  return not_ready().empty();
}

std::vector<std::string> health_board::not_ready() const {
  std::lock_guard<std::mutex> guard{mtx_};
  std::vector<std::string> result;
  for (auto& [name, c] : components_)
    if (c.required && c.current != state::up && c.current != state::degraded)
      result.push_back(name);
  return result;
}

} // namespace distiller::health
