#pragma once

/// A stand-in for an OpenAI-compatible chat-completions service, for tests
/// of whole nodes whose agents use the chat backend: `POST
/// /v1/chat/completions` answers, after a configurable delay, with the
/// built-in agent's result for the agent the system prompt names and the
/// thought in the user message — so results are valid and deterministic —
/// and counts the calls per (thought text, agent). One thread per
/// connection on 127.0.0.1, port 0.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

namespace distiller::testing {

class fake_chat_service {
 public:
  fake_chat_service();
  ~fake_chat_service();
  fake_chat_service(const fake_chat_service&) = delete;
  fake_chat_service& operator=(const fake_chat_service&) = delete;

  /// "http://127.0.0.1:<port>".
  std::string url() const;

  /// Every answer waits this long.
  void set_delay(std::chrono::milliseconds d);

  /// Calls so far per (thought text, agent name).
  std::map<std::pair<std::string, std::string>, int> calls() const;

  /// Calls so far in all.
  int total_calls() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace distiller::testing
