#include "runtime/inspect/registry.hpp"

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
                                    e->failures(), e->restarts(), e->state()});
  return result;
}

} // namespace distiller::inspect
