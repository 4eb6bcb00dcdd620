#pragma once

/// Configuration of the thought pipeline (sections `thoughts` and
/// `agents`), bound into the node's schema by `declare`. Plain data, filled
/// once at start. Seed 003's KAFKA_TOPIC, KAFKA_CONSUMER_GROUP,
/// KAFKA_DEAD_LETTER_TOPIC, KAFKA_MAX_RETRIES and KAFKA_RETRY_BACKOFF_MS set
/// the matching keys. See docs/configuration.md for every key.

#include <array>
#include <chrono>
#include <string>

#include "actors/thoughts/agents/agent.hpp"
#include "runtime/config/schema.hpp"

namespace distiller::thoughts {

/// Where one agent runs: the built-in analysis or a chat-completions
/// service.
struct agent_backend {
  /// "default" (agents.backend), "builtin" or "chat".
  std::string kind = "default";
  /// Overrides of agents.chat_url / agents.chat_model ("": the default).
  std::string url;
  std::string model;
};

struct thoughts_config {
  // -- the API ---------------------------------------------------------------
  int max_text_chars = 10000;
  int api_workers = 4;
  int pg_pool = 6;
  /// Submissions waiting for an API worker before new ones get 503.
  int max_queued = 2000;

  // -- topics and processing -------------------------------------------------
  std::string topic = "thought-processing";
  std::string updates_topic = "thought-updates";
  std::string group = "thought-workers";
  std::string dead_letter_topic = "thought-processing.dlq";
  int max_attempts = 3;
  std::chrono::milliseconds retry_backoff{1000};
  int workers = 4;
  int batch = 32;
  int agent_pool = 2;
  std::chrono::milliseconds agent_timeout{120000};

  // -- recovery --------------------------------------------------------------
  std::chrono::milliseconds stuck_after{120000};
  std::chrono::milliseconds reconcile_interval{15000};

  // -- agents ----------------------------------------------------------------
  std::string backend = "builtin";
  std::string chat_url;
  std::string chat_model = "gpt-4o-mini";
  std::string chat_api_key;
  std::chrono::milliseconds chat_timeout{60000};
  std::array<agent_backend, agent_count> agents;

  /// The backend in effect for `k` ("builtin" or "chat").
  std::string backend_of(agent_kind k) const;
};

void declare(config::schema& s, thoughts_config& cfg);

/// Rules across keys (a URL for chat agents); throws config::config_error
/// naming the key.
void validate(const thoughts_config& cfg);

} // namespace distiller::thoughts
