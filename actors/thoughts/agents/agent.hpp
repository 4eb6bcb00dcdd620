#pragma once

/// The five agents of the thought pipeline (seed 003) as plain objects:
/// classify → analyse → value → plan → summarise. Each agent turns a thought
/// and the results of the agents before it into one JSON result; the
/// pipeline (actors/thoughts/pipeline.hpp) runs them in order inside actor
/// pools, saves each result and announces it. See docs/thought-pipeline.md
/// for every result's fields.
///
/// Two backends: the built-in agents (builtin.hpp) are deterministic text
/// analysis — the same input gives the same result, always; the chat agent
/// (chat_agent.hpp) asks an OpenAI-compatible chat-completions service.
///
/// Threads: `run` may be called concurrently from several threads; an agent
/// keeps no per-call state. The built-in agents never block; the chat agent
/// blocks on HTTP for at most its timeout, so agents run in detached actors.
/// Failure: `run` throws `agent_error`; `retryable()` says whether another
/// attempt may succeed (a timeout, a 5xx) or not (a malformed answer the
/// service will give again is still retryable; a rejected request, 4xx, is
/// not). Any other exception is a bug in the agent and is treated as
/// retryable by the pipeline.

#include <array>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

namespace distiller::thoughts {

/// The five steps, in pipeline order.
enum class agent_kind { classify = 0, analyse, value, plan, summarise };

inline constexpr size_t agent_count = 5;

inline constexpr std::array<agent_kind, agent_count> all_agents{
    agent_kind::classify, agent_kind::analyse, agent_kind::value,
    agent_kind::plan, agent_kind::summarise};

/// "classify", "analyse", "value", "plan", "summarise".
std::string_view agent_name(agent_kind k) noexcept;

/// The result's name in the API and the thoughts table: "classification",
/// "analysis", "value", "plan", "summary".
std::string_view result_name(agent_kind k) noexcept;

/// 1 for classify … 5 for summarise.
inline int agent_step(agent_kind k) noexcept {
  return static_cast<int>(k) + 1;
}

/// The agent of step 1..5 (precondition: 1 <= step <= 5).
inline agent_kind agent_at(int step) noexcept {
  return static_cast<agent_kind>(step - 1);
}

/// The kind named `name` (agent_name), or false.
bool parse_agent_kind(std::string_view name, agent_kind& out) noexcept;

/// What one agent sees: the thought and the results of the agents before it
/// (empty objects for steps not run yet; agent k reads only results 1..k-1).
struct agent_input {
  std::string thought_id;
  std::string user_id;
  /// The submitted text (UTF-8 as far as the API checked; agents repair
  /// invalid sequences, so any bytes are safe).
  std::string text;
  /// When the thought was submitted, RFC 3339 UTC
  /// ("2026-12-01T09:30:00.123Z"): the reference time for relative dates
  /// ("by Friday", "tomorrow"), so results do not depend on when an agent
  /// runs.
  std::string created_at;
  /// Results of the earlier agents, indexed by agent_kind.
  std::array<boost::json::object, agent_count> previous;
};

class agent_error : public std::runtime_error {
 public:
  agent_error(const std::string& what, bool retryable)
      : std::runtime_error(what), retryable_(retryable) {}
  bool retryable() const noexcept { return retryable_; }

 private:
  bool retryable_;
};

class agent {
 public:
  virtual ~agent() = default;

  virtual agent_kind kind() const noexcept = 0;

  /// "builtin" or the chat model's name, recorded with each result.
  virtual std::string backend() const = 0;

  /// The agent's result for `in` (a JSON object).
  virtual boost::json::object run(const agent_input& in) const = 0;
};

using agent_ptr = std::shared_ptr<const agent>;

} // namespace distiller::thoughts
