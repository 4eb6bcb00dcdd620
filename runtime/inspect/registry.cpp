#include "runtime/inspect/registry.hpp"

#include <algorithm>
#include <string_view>
#include <utility>

#include "runtime/core/time.hpp"

namespace distiller::inspect {

actor_entry::actor_entry(std::string name, std::string role, std::string node,
                         std::string parent)
    : name_(std::move(name)), role_(std::move(role)), node_(std::move(node)),
      parent_(std::move(parent)) {}

void actor_entry::set_state(std::string state) {
  std::lock_guard<std::mutex> guard{state_mtx_};
  state_ = std::move(state);
}

std::string actor_entry::state() const {
  std::lock_guard<std::mutex> guard{state_mtx_};
  return state_;
}

namespace {

/// `text` cut to at most `max` bytes (the cut marked with "…", which
/// counts), never inside a UTF-8 sequence.
void truncate_utf8(std::string& text, size_t max) {
  static constexpr std::string_view ellipsis = "\u2026";
  if (text.size() <= max)
    return;
  auto keep = max - ellipsis.size();
  // Back up over continuation bytes (10xxxxxx) to a character start.
  while (keep > 0 && (static_cast<unsigned char>(text[keep]) & 0xC0) == 0x80)
    --keep;
  text.resize(keep);
  text += ellipsis;
}

} // namespace

void actor_entry::record_error(std::string text) {
  truncate_utf8(text, max_error_bytes);
  auto t = now_us();
  std::lock_guard<std::mutex> guard{errors_mtx_};
  auto& slot = errors_[next_error_ % max_errors];
  slot.time_us = t;
  slot.text = std::move(text);
  ++next_error_;
}

std::vector<recent_error> actor_entry::recent_errors() const {
  std::vector<std::pair<int64_t, std::string>> copy;
  {
    std::lock_guard<std::mutex> guard{errors_mtx_};
    auto n = std::min<uint64_t>(next_error_, max_errors);
    copy.reserve(n);
    for (uint64_t k = 1; k <= n; ++k) {
      auto& slot = errors_[(next_error_ - k) % max_errors];
      copy.emplace_back(slot.time_us, slot.text);
    }
  }
  // Formatting the times needs no lock.
  std::vector<recent_error> result;
  result.reserve(copy.size());
  for (auto& [t, text] : copy)
    result.push_back({us_to_rfc3339(t), std::move(text)});
  return result;
}

registry::registry(std::string node_name) : node_(std::move(node_name)) {}

actor_entry_ptr registry::enroll(const std::string& name,
                                 const std::string& role,
                                 const std::string& parent) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto& slot = entries_[name];
  if (!slot)
    slot = std::make_shared<actor_entry>(name, role, node_, parent);
  return slot;
}

void registry::remove(const std::string& name) {
  std::lock_guard<std::mutex> guard{mtx_};
  entries_.erase(name);
}

actor_entry_ptr registry::find(const std::string& name) const {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = entries_.find(name);
  return i != entries_.end() ? i->second : nullptr;
}

std::vector<actor_snapshot> registry::snapshot() const {
  std::vector<actor_entry_ptr> entries;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    entries.reserve(entries_.size());
    for (auto& [name, entry] : entries_)
      entries.push_back(entry);
  }
  std::vector<actor_snapshot> result;
  result.reserve(entries.size());
  for (auto& e : entries)
    result.push_back(actor_snapshot{e->name(), e->role(), e->node(),
                                    e->parent(), e->mailbox(), e->processed(),
                                    e->failures(), e->restarts(), e->state(),
                                    e->recent_errors()});
  return result;
}

} // namespace distiller::inspect
