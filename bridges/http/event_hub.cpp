#include "bridges/http/event_hub.hpp"

#include <algorithm>
#include <exception>

#include "runtime/logging/log.hpp"

namespace distiller::http {

// -- subscription ------------------------------------------------------------

subscription::subscription(std::shared_ptr<detail::hub_core> core,
                           std::string key, uint64_t id)
    : core_(std::move(core)), key_(std::move(key)), id_(id) {}

subscription::subscription(subscription&& other) noexcept
    : core_(std::move(other.core_)), key_(std::move(other.key_)),
      id_(other.id_) {
  other.core_.reset();
}

subscription& subscription::operator=(subscription&& other) noexcept {
  if (this != &other) {
    reset();
    core_ = std::move(other.core_);
    key_ = std::move(other.key_);
    id_ = other.id_;
    other.core_.reset();
  }
  return *this;
}

subscription::~subscription() {
  reset();
}

void subscription::reset() {
  if (auto core = std::move(core_)) {
    core_.reset();
    core->unsubscribe(key_, id_);
  }
}

// -- hub_core ----------------------------------------------------------------

namespace detail {

subscription hub_core::subscribe(std::string key, sink fn) {
  auto sub = std::make_shared<subscriber>();
  sub->fn = std::move(fn);
  std::lock_guard<std::mutex> guard{mtx_};
  sub->id = next_id_++;
  auto& ch = channels_[key];
  if (!ch)
    ch = std::make_shared<channel>();
  ch->subs.push_back(sub);
  return subscription{shared_from_this(), std::move(key), sub->id};
}

size_t hub_core::publish(const std::string& key, const void* event) {
  std::shared_ptr<channel> ch;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    auto i = channels_.find(key);
    if (i == channels_.end())
      return 0;
    ch = i->second;
  }
  // One publish at a time per key: every subscriber sees the same order.
  std::lock_guard<std::mutex> delivering{ch->delivering};
  std::vector<std::shared_ptr<subscriber>> subs;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    subs = ch->subs;
  }
  ch->deliverer.store(std::this_thread::get_id());
  size_t delivered = 0;
  for (auto& s : subs) {
    if (!s->live.load())
      continue;
    try {
      s->fn(event);
      ++delivered;
    } catch (const std::exception& e) {
      log::warn("event_hub_callback_failed",
                {{"key", key}, {"what", e.what()}});
    } catch (...) {
      log::warn("event_hub_callback_failed",
                {{"key", key}, {"what", "unknown exception"}});
    }
  }
  ch->deliverer.store(std::thread::id{});
  return delivered;
}

void hub_core::unsubscribe(const std::string& key, uint64_t id) {
  std::shared_ptr<channel> ch;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    auto i = channels_.find(key);
    if (i == channels_.end())
      return;
    ch = i->second;
    auto& subs = ch->subs;
    auto j = std::find_if(subs.begin(), subs.end(),
                          [id](auto& s) { return s->id == id; });
    if (j == subs.end())
      return;
    (*j)->live.store(false);
    subs.erase(j);
    if (subs.empty())
      channels_.erase(i);
  }
  // Wait for a delivery in flight on another thread, so the callback is not
  // running once we return; inside the callback itself that would deadlock.
  if (ch->deliverer.load() == std::this_thread::get_id())
    return;
  std::lock_guard<std::mutex> wait{ch->delivering};
}

size_t hub_core::subscribers(const std::string& key) const {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = channels_.find(key);
  return i == channels_.end() ? 0 : i->second->subs.size();
}

size_t hub_core::keys() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return channels_.size();
}

} // namespace detail

} // namespace distiller::http
