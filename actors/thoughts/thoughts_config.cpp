#include "actors/thoughts/thoughts_config.hpp"

namespace distiller::thoughts {

using std::chrono::milliseconds;

std::string thoughts_config::backend_of(agent_kind k) const {
  auto& a = agents[static_cast<size_t>(k)];
  return a.kind == "default" ? backend : a.kind;
}

void declare(config::schema& s, thoughts_config& cfg) {
  s.add_int("thoughts.max_text_chars", cfg.max_text_chars, 1, 1000000,
            "Longest accepted thought, in characters (Unicode code points); "
            "longer ones get 413.");
  s.add_int("thoughts.api_workers", cfg.api_workers, 1, 64,
            "Actors that serve the thought API's database work.");
  s.add_int("thoughts.pg_pool", cfg.pg_pool, 1, 64,
            "PostgreSQL connections of the thought store.");
  s.add_int("thoughts.max_queued", cfg.max_queued, 1, 1000000,
            "Thought API requests waiting for a worker before new ones get "
            "503 with Retry-After.");
  s.add_string("thoughts.topic", cfg.topic,
               "Topic of submitted thoughts (ThoughtCreated, key user_id).");
  s.alias_env("thoughts.topic", "KAFKA_TOPIC");
  s.add_string("thoughts.updates_topic", cfg.updates_topic,
               "Topic of the thought events every API node consumes.");
  s.add_string("thoughts.group", cfg.group,
               "Consumer group of the five-agent pipeline.");
  s.alias_env("thoughts.group", "KAFKA_CONSUMER_GROUP");
  s.add_string("thoughts.dead_letter_topic", cfg.dead_letter_topic,
               "Where thoughts that failed every attempt go.");
  s.alias_env("thoughts.dead_letter_topic", "KAFKA_DEAD_LETTER_TOPIC");
  s.add_int("thoughts.max_attempts", cfg.max_attempts, 1, 100,
            "Processing attempts per thought (first try included); then it "
            "is failed, thought_failed is sent and the record is "
            "dead-lettered.");
  s.alias_env("thoughts.max_attempts", "KAFKA_MAX_RETRIES");
  s.add_duration("thoughts.retry_backoff", cfg.retry_backoff, milliseconds{1},
                 "Delay before the second attempt; it doubles per attempt "
                 "(at most 30 s), with 20 % jitter.");
  s.alias_env("thoughts.retry_backoff", "KAFKA_RETRY_BACKOFF_MS");
  s.add_int("thoughts.workers", cfg.workers, 1, 256,
            "Workers consuming thought-processing (each runs a batch of "
            "users' thoughts through the five agents).");
  s.add_int("thoughts.batch", cfg.batch, 1, 1024,
            "Most records one worker takes at once.");
  s.add_int("thoughts.agent_pool", cfg.agent_pool, 1, 256,
            "Actors per agent (classify, analyse, value, plan, summarise).");
  s.add_duration("thoughts.agent_timeout", cfg.agent_timeout, milliseconds{1},
                 "Longest wait for one agent's answer (counts as a failed "
                 "attempt).");
  s.add_duration("thoughts.stuck_after", cfg.stuck_after, milliseconds{100},
                 "A thought not final and unchanged for this long is "
                 "re-driven (real Kafka; with the embedded one every "
                 "unfinished thought is re-driven at start).");
  s.add_duration("thoughts.reconcile_interval", cfg.reconcile_interval,
                 milliseconds{10},
                 "How often stuck thoughts are looked for and old events "
                 "pruned.");
  s.add_choice("agents.backend", cfg.backend, {"builtin", "chat"},
               "builtin: deterministic text analysis; chat: an "
               "OpenAI-compatible /v1/chat/completions service.");
  s.add_string("agents.chat_url", cfg.chat_url,
               "Base URL of the chat-completions service (http://host:port).");
  s.add_string("agents.chat_model", cfg.chat_model,
               "Model name sent to the chat-completions service.");
  s.add_string("agents.chat_api_key", cfg.chat_api_key,
               "Bearer token for the chat-completions service (empty: none).");
  s.add_duration("agents.chat_timeout", cfg.chat_timeout, milliseconds{1},
                 "Timeout of one chat-completions request.");
  for (auto k : all_agents) {
    auto& a = cfg.agents[static_cast<size_t>(k)];
    std::string name{agent_name(k)};
    s.add_choice("agents." + name, a.kind, {"default", "builtin", "chat"},
                 "Backend of the " + name + " agent; default: agents.backend.");
    s.add_string("agents." + name + "_url", a.url,
                 "Chat-completions URL of the " + name +
                     " agent; empty: agents.chat_url.");
    s.add_string("agents." + name + "_model", a.model,
                 "Chat model of the " + name +
                     " agent; empty: agents.chat_model.");
  }
}

void validate(const thoughts_config& cfg) {
  for (auto k : all_agents) {
    if (cfg.backend_of(k) != "chat")
      continue;
    auto& a = cfg.agents[static_cast<size_t>(k)];
    if (a.url.empty() && cfg.chat_url.empty())
      throw config::config_error(
          "agents.chat_url", "required when the " + std::string{agent_name(k)} +
                                 " agent uses the chat backend");
  }
}

} // namespace distiller::thoughts
