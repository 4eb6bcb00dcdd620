#pragma once

/// Cluster membership as plain logic: what each node knows about the others,
/// judged from the heartbeats they write to a shared store (PostgreSQL's
/// `cluster_members`, actors/cluster/), and the events a change of judgment
/// raises. No clock of its own: the caller passes each member's heartbeat
/// age as measured by the store's clock, so every observer of the same
/// store reaches the same judgment.
///
///   up           heartbeat younger than `unreachable_after` (~3 s)
///   unreachable  older than that, younger than `down_after` (4 s by default)
///   down         older than `down_after`
///   left         the member said goodbye (a clean stop)
///
/// Events: member_up (a member first seen up, back up, or a new incarnation
/// — a restart), member_unreachable, member_down, member_left. A member is
/// judged only from the shared store, never from one observer's network
/// link to it, and an observer that cannot read the store judges nothing
/// (`observe` is not called): so no observer declares a member down that
/// the others see alive, and a node cut off from the store is down for all
/// of them alike — the rule that keeps the cluster from splitting.
///
/// Threads: not thread-safe; one owner (the membership actor) calls it.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace distiller::cluster {

enum class member_state { up, unreachable, down, left };

const char* to_string(member_state s) noexcept;

/// One member as the store has it.
struct member_row {
  std::string node;
  std::string incarnation;
  std::vector<std::string> roles;
  std::string http_url;
  std::string cluster_host;
  uint16_t cluster_port = 0;
  std::string version;
  /// RFC 3339 UTC.
  std::string started_at;
  /// Age of the last heartbeat on the store's clock.
  std::chrono::milliseconds heartbeat_age{0};
  bool left = false;
};

/// One member as an observer judges it.
struct member {
  member_row row;
  member_state state = member_state::up;
  /// When (the observer's steady clock) the state was entered.
  std::chrono::steady_clock::time_point since;
};

struct member_event {
  /// member_up, member_unreachable, member_down, member_left.
  std::string type;
  std::string node;
  std::string incarnation;
  member_state state = member_state::up;
  /// The previous state, none for a member seen for the first time.
  std::optional<member_state> previous;
};

struct membership_settings {
  std::chrono::milliseconds unreachable_after{3000};
  std::chrono::milliseconds down_after{5000};
};

class membership {
 public:
  explicit membership(membership_settings s) : settings_(s) {}

  /// The state a heartbeat of this age means.
  member_state judge(const member_row& r) const noexcept;

  /// Takes a fresh read of every row; returns what changed, in node order.
  std::vector<member_event> observe(const std::vector<member_row>& rows,
                                    std::chrono::steady_clock::time_point now);

  /// Every member known, by name.
  const std::map<std::string, member>& members() const noexcept {
    return members_;
  }

  /// The member called `node`, or null.
  const member* find(const std::string& node) const;

  /// How many members are in `s`.
  size_t count(member_state s) const;

 private:
  membership_settings settings_;
  std::map<std::string, member> members_;
};

} // namespace distiller::cluster
