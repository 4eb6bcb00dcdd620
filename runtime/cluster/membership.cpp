#include "runtime/cluster/membership.hpp"

#include <set>

namespace distiller::cluster {

const char* to_string(member_state s) noexcept {
  switch (s) {
  case member_state::up:
    return "up";
  case member_state::unreachable:
    return "unreachable";
  case member_state::down:
    return "down";
  case member_state::left:
    break;
  }
  return "left";
}

namespace {

const char* event_of(member_state s) noexcept {
  switch (s) {
  case member_state::up:
    return "member_up";
  case member_state::unreachable:
    return "member_unreachable";
  case member_state::down:
    return "member_down";
  case member_state::left:
    break;
  }
  return "member_left";
}

} // namespace

member_state membership::judge(const member_row& r) const noexcept {
  if (r.left)
    return member_state::left;
  if (r.heartbeat_age < settings_.unreachable_after)
    return member_state::up;
  if (r.heartbeat_age < settings_.down_after)
    return member_state::unreachable;
  return member_state::down;
}

std::vector<member_event>
membership::observe(const std::vector<member_row>& rows,
                    std::chrono::steady_clock::time_point now) {
  std::vector<member_event> out;
  std::set<std::string> seen;
  for (auto& r : rows) {
    seen.insert(r.node);
    auto state = judge(r);
    auto i = members_.find(r.node);
    if (i == members_.end()) {
      members_.emplace(r.node, member{r, state, now});
      // A member met for the first time is announced as it is — except a
      // long-gone one, which is only listed.
      if (state == member_state::up || state == member_state::unreachable)
        out.push_back({event_of(state), r.node, r.incarnation, state, {}});
      continue;
    }
    auto& m = i->second;
    bool restarted = m.row.incarnation != r.incarnation;
    auto previous = m.state;
    m.row = r;
    if (restarted && state == member_state::up) {
      // A new incarnation: the old one ended without a word (or did leave).
      if (previous != member_state::down && previous != member_state::left)
        out.push_back({"member_down", r.node, r.incarnation, member_state::down,
                       previous});
      m.state = state;
      m.since = now;
      out.push_back(
          {"member_up", r.node, r.incarnation, state, member_state::down});
      continue;
    }
    if (state == previous)
      continue;
    // Unreachable is passed through on the way down only as it is seen: a
    // member silent for longer than down_after between two reads goes
    // straight to down.
    m.state = state;
    m.since = now;
    out.push_back({event_of(state), r.node, r.incarnation, state, previous});
  }
  // A row that vanished (deleted by an operator) is a member that left.
  for (auto i = members_.begin(); i != members_.end();) {
    if (seen.count(i->first)) {
      ++i;
      continue;
    }
    if (i->second.state != member_state::left)
      out.push_back({"member_left", i->first, i->second.row.incarnation,
                     member_state::left, i->second.state});
    i = members_.erase(i);
  }
  return out;
}

const member* membership::find(const std::string& node) const {
  auto i = members_.find(node);
  return i == members_.end() ? nullptr : &i->second;
}

size_t membership::count(member_state s) const {
  size_t n = 0;
  for (auto& [name, m] : members_)
    n += m.state == s;
  return n;
}

} // namespace distiller::cluster
