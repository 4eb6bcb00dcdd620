#include "actors/thoughts/agents/builtin.hpp"

#include <new>
#include <string>

#include "actors/thoughts/agents/detail/agents.hpp"
#include "actors/thoughts/agents/results.hpp"

namespace distiller::thoughts {

namespace detail {

boost::json::object earlier_result(agent_kind k, const agent_input& in,
                                   const prepared_thought& p) {
  const auto& given = in.previous[static_cast<size_t>(k)];
  if (!given.empty() && check_result(k, given).empty())
    return given;
  switch (k) {
  case agent_kind::classify:
    return classify(p);
  case agent_kind::analyse:
    return analyse(p);
  case agent_kind::value:
    return value(p, earlier_result(agent_kind::classify, in, p),
                 earlier_result(agent_kind::analyse, in, p));
  case agent_kind::plan:
    return plan(p);
  case agent_kind::summarise:
    return summarise(p, earlier_result(agent_kind::classify, in, p),
                     earlier_result(agent_kind::value, in, p),
                     earlier_result(agent_kind::plan, in, p));
  }
  return {};
}

} // namespace detail

namespace {

class builtin_agent final : public agent {
 public:
  explicit builtin_agent(agent_kind k) : kind_(k) {}

  agent_kind kind() const noexcept override { return kind_; }

  std::string backend() const override { return "builtin"; }

  boost::json::object run(const agent_input& in) const override {
    try {
      return run_builtin(kind_, in);
    } catch (const std::bad_alloc&) {
      throw agent_error(std::string(agent_name(kind_)) + ": out of memory",
                        true);
    } catch (const std::exception& e) {
      // Only ICU failures get here; a later attempt may have the memory or
      // data it lacked.
      throw agent_error(std::string(agent_name(kind_)) + ": " + e.what(), true);
    }
  }

 private:
  agent_kind kind_;
};

} // namespace

boost::json::object run_builtin(agent_kind k, const agent_input& in) {
  switch (k) {
  case agent_kind::classify:
    return classify_thought(in);
  case agent_kind::analyse:
    return analyse_thought(in);
  case agent_kind::value:
    return value_thought(in);
  case agent_kind::plan:
    return plan_thought(in);
  case agent_kind::summarise:
    return summarise_thought(in);
  }
  throw agent_error("unknown agent kind " + std::to_string(static_cast<int>(k)),
                    false);
}

agent_ptr make_builtin_agent(agent_kind k) {
  return std::make_shared<const builtin_agent>(k);
}

} // namespace distiller::thoughts
