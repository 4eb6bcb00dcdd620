#pragma once

/// The built-in agents: deterministic text analysis on ICU segmentation,
/// word lists and small classic algorithms (RAKE keywords, lexicon
/// sentiment with negation, TextRank-style sentence centrality), so the
/// pipeline works without any model. Each agent is a pure function of its
/// `agent_input` and an `agent` around it:
///
///   classify  → {category, confidence, scores, signals}
///   analyse   → {keywords, sentiment, entities, dates, numbers, words,
///                sentences}
///   value     → {importance, urgency, actionability, score, priority,
///                reasons}            (reads classification and analysis)
///   plan      → {actions, next_step}
///   summarise → {title, summary, category, priority, action_count}
///                                    (reads classification, value, plan)
///
/// Every field is described in docs/thought-pipeline.md. An agent
/// that reads earlier results takes them from `in.previous` and computes
/// them itself when they are missing or malformed, so each function also
/// works alone.
///
/// Determinism: the same input gives byte-identical JSON — no clock (dates
/// are relative to `in.created_at`), no randomness, no hash-map order, and
/// fractional numbers rounded to 3 decimals.
/// Robustness: any bytes (invalid UTF-8 is repaired first), empty text,
/// emoji, 10,000 characters, any language (segmentation is ICU's; the word
/// lists are mostly English with some German, French and Japanese).
/// Threads: pure functions; the agents keep no state and may run
/// concurrently (ICU break iterators are cached per thread).
/// Ownership: results are fresh JSON objects owned by the caller.
/// Failure: bad input never throws. If ICU itself fails (out of memory,
/// missing data) the `agent::run` of these agents throws a retryable
/// `agent_error`; the functions below let the std::runtime_error through.

#include <boost/json/object.hpp>

#include "actors/thoughts/agents/agent.hpp"

namespace distiller::thoughts {

boost::json::object classify_thought(const agent_input& in);

boost::json::object analyse_thought(const agent_input& in);

boost::json::object value_thought(const agent_input& in);

boost::json::object plan_thought(const agent_input& in);

boost::json::object summarise_thought(const agent_input& in);

/// The function of agent `k`.
boost::json::object run_builtin(agent_kind k, const agent_input& in);

/// The built-in agent `k` (backend() == "builtin").
agent_ptr make_builtin_agent(agent_kind k);

} // namespace distiller::thoughts
