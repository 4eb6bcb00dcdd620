// The plan agent: the thought's action items with due dates and
// priorities, and the one to do first.

#include <boost/json/array.hpp>

#include "actors/thoughts/agents/builtin.hpp"
#include "actors/thoughts/agents/detail/actions.hpp"
#include "actors/thoughts/agents/detail/agents.hpp"

namespace distiller::thoughts::detail {

namespace {

namespace json = boost::json;

/// Higher priority first, then the earlier due date (none last), then
/// text order.
bool goes_first(const action_item& a, const action_item& b) {
  if (a.priority != b.priority)
    return a.priority > b.priority;
  const bool da = a.due && a.due->date, db = b.due && b.due->date;
  if (da != db)
    return da;
  if (da && *a.due->date != *b.due->date)
    return *a.due->date < *b.due->date;
  return false;
}

} // namespace

boost::json::object plan(const prepared_thought& p) {
  const auto actions = find_actions(p);
  json::array list;
  const action_item* first = nullptr;
  for (const auto& a : actions) {
    json::object o;
    o["text"] = a.text;
    if (a.due && a.due->date)
      o["due"] = format_date(*a.due->date);
    else
      o["due"] = nullptr;
    if (a.due)
      o["due_text"] = a.due->phrase;
    else
      o["due_text"] = nullptr;
    o["priority"] = priority_name(a.priority);
    list.emplace_back(std::move(o));
    if (!first || goes_first(a, *first))
      first = &a;
  }
  json::object out;
  out["actions"] = std::move(list);
  if (first)
    out["next_step"] = first->text;
  else
    out["next_step"] = nullptr;
  return out;
}

} // namespace distiller::thoughts::detail

namespace distiller::thoughts {

boost::json::object plan_thought(const agent_input& in) {
  return detail::plan(detail::prepare(in.text, in.created_at));
}

} // namespace distiller::thoughts
