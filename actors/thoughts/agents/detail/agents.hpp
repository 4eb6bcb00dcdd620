#pragma once

/// The built-in agents on a prepared thought (internal): builtin.hpp's
/// functions prepare the thought once and call these, and an agent that
/// needs an earlier result it was not given computes it here from the same
/// prepared thought.
///
/// Threads: pure functions. Failure: never throw on bad input.

#include <boost/json/object.hpp>

#include "actors/thoughts/agents/agent.hpp"
#include "actors/thoughts/agents/detail/prepared.hpp"

namespace distiller::thoughts::detail {

boost::json::object classify(const prepared_thought& p);

boost::json::object analyse(const prepared_thought& p);

boost::json::object value(const prepared_thought& p,
                          const boost::json::object& classification,
                          const boost::json::object& analysis);

boost::json::object plan(const prepared_thought& p);

boost::json::object summarise(const prepared_thought& p,
                              const boost::json::object& classification,
                              const boost::json::object& value,
                              const boost::json::object& plan);

/// `in.previous[k]` if it is a well-formed result of agent `k`
/// (check_result), otherwise agent `k`'s built-in result for `p`.
boost::json::object earlier_result(agent_kind k, const agent_input& in,
                                   const prepared_thought& p);

} // namespace distiller::thoughts::detail
