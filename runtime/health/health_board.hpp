#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

/// The node's view of its dependencies: one line per component (kafka,
/// postgres, http, a pool …) with a state and a human-readable detail.
/// Probes and services write it; `/health` and `/ready` read it.
/// Thread-safe.
namespace distiller::health {

enum class state { starting, up, degraded, down, stopped };

std::string_view to_string(state x);

struct component {
  std::string name;
  state current = state::starting;
  std::string detail;
  /// Whether `/ready` waits for this component to be `up`.
  bool required = true;
  /// Whether the node still does its job while this component is down (Kafka
  /// behind an outbox): `/health` then says `degraded` with HTTP 200 instead
  /// of `down` with 503.
  bool serves_when_down = false;
  std::chrono::system_clock::time_point since;
};

class health_board {
 public:
  /// Declares a component (idempotent); it starts in `starting`.
  void declare(const std::string& name, bool required = true,
               bool serves_when_down = false);

  /// Sets a component's state; declares it (required) if unknown.
  void set(const std::string& name, state s, std::string detail = "");

  /// All components, sorted by name.
  std::vector<component> snapshot() const;

  /// True when every required component is `up` (or `degraded`).
  bool ready() const;

  /// The names of required components that are not ready.
  std::vector<std::string> not_ready() const;

 private:
  mutable std::mutex mtx_;
  std::map<std::string, component> components_;
};

} // namespace distiller::health
