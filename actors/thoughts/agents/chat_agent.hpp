#pragma once

/// An `agent` backed by an OpenAI-compatible chat-completions service
/// (OpenAI, vLLM, Ollama, LocalAI, llama.cpp server …):
/// `POST {url}/v1/chat/completions` (a `url` already ending in "/v1" gets
/// only "/chat/completions") with {"model", "temperature": 0,
/// "response_format": {"type": "json_object"}, "messages": [system prompt,
/// user message]}. The system prompt names the agent's result fields — the
/// same as the built-in agent's (docs/thought-pipeline.md); the user message is
/// a JSON object {"text", "created_at", "previous": {result name: result}} with
/// the results of the earlier agents. The answer's
/// choices[0].message.content must be one JSON object (```json fences and
/// text around the object are tolerated) with every required field
/// (results.hpp).
///
/// Plain HTTP only: https:// is refused at construction (put a local
/// TLS-terminating proxy in front of a remote HTTPS service).
///
/// Threads: `run` may be called concurrently; each call opens its own
/// connection on its own io_context on the calling thread and blocks it
/// for at most `timeout` (resolve, connect, send and receive together), so
/// run it in a detached actor, never on the shared scheduler.
/// Ownership: holds only its configuration.
/// Failure: the factory throws std::invalid_argument naming the
/// configuration key (agents.chat_url or agents.<agent>_url,
/// agents.chat_model or agents.<agent>_model, agents.chat_timeout). `run`
/// throws `agent_error`: retryable for resolve/connect failures, timeouts,
/// a dropped connection, HTTP 408, 429 and 5xx, and a malformed answer
/// ("malformed answer: …", the model may do better next time); not
/// retryable for other HTTP statuses (a rejected request, a wrong key or
/// model). Messages name the agent, the endpoint, the HTTP status and the
/// start of the response body.

#include <chrono>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "actors/thoughts/agents/agent.hpp"

namespace distiller::thoughts {

struct chat_agent_config {
  /// Base URL, "http://host[:port][/prefix]" (agents.chat_url, or
  /// agents.<agent>_url).
  std::string url;
  /// Sent as "model"; the agent's backend() (agents.chat_model, or
  /// agents.<agent>_model).
  std::string model;
  /// Sent as "Authorization: Bearer …" when not empty
  /// (agents.chat_api_key).
  std::string api_key;
  /// Deadline of one request, connection included (agents.chat_timeout).
  std::chrono::milliseconds timeout{30000};
};

/// The chat agent of kind `k`. Validates `config` and parses the URL;
/// makes no request.
agent_ptr make_chat_agent(agent_kind k, chat_agent_config config);

/// The system prompt of agent `k`: its task and result fields.
std::string chat_system_prompt(agent_kind k);

/// The request body the agent of kind `k` sends for `in`.
boost::json::object chat_request(agent_kind k, const std::string& model,
                                 const agent_input& in);

/// Agent `k`'s result from a chat-completions response body. Throws a
/// retryable agent_error "malformed answer: …" when the body is not a
/// completion or its content is not a JSON object with every required
/// field.
boost::json::object parse_chat_response(agent_kind k, std::string_view body);

} // namespace distiller::thoughts
