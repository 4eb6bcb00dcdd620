#pragma once

/// The shape of each agent's result: the top-level fields every backend
/// must produce (the built-in agents always do; a chat model's answer is
/// checked against this), with their JSON types and allowed values. The
/// full description of every field, nested ones included, is the table in
/// docs/thought-pipeline.md.
///
/// Threads: pure functions on immutable tables.
/// Ownership: the tables are static; field names are views into them.
/// Failure: `check_result` reports problems as text, it never throws.

#include <span>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "actors/thoughts/agents/agent.hpp"

namespace distiller::thoughts {

enum class field_type {
  string,
  string_or_null,
  number, // any JSON number
  count,  // a non-negative integer
  unit,   // a number in 0..1
  array,
  object,
};

struct field_spec {
  std::string_view name;
  field_type type;
  /// For strings: the allowed values, "|"-separated ("low|medium|high");
  /// empty for any string.
  std::string_view allowed;
};

/// The required top-level fields of agent `k`'s result, in output order.
std::span<const field_spec> result_fields(agent_kind k) noexcept;

/// Empty if `result` has every required field of agent `k` with the right
/// type and an allowed value; otherwise the first problem, e.g.
/// "missing field 'category'" or "field 'priority' is \"urgent\", expected
/// low|medium|high".
std::string check_result(agent_kind k, const boost::json::object& result);

} // namespace distiller::thoughts
