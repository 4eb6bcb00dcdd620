#include "actors/broadcast/admission.hpp"

namespace distiller::broadcast {

admission::ticket::ticket(std::shared_ptr<admission> owner, std::string key)
    : owner_(std::move(owner)), key_(std::move(key)) {}

admission::ticket::~ticket() {
  owner_->release(key_);
}

admission::admission(size_t max_total, size_t max_per_key, gauge_fn gauge)
    : max_total_(max_total), max_per_key_(max_per_key),
      gauge_(std::move(gauge)) {}

std::pair<admission::verdict, std::shared_ptr<admission::ticket>>
admission::try_admit(const std::string& key) {
  size_t now_open = 0;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (open_ >= max_total_)
      return {verdict::node_full, nullptr};
    auto& n = per_key_[key];
    if (n >= max_per_key_) {
      if (n == 0)
        per_key_.erase(key);
      return {verdict::key_full, nullptr};
    }
    ++n;
    now_open = ++open_;
  }
  if (gauge_)
    gauge_(now_open);
  return {verdict::admitted, std::make_shared<ticket>(shared_from_this(), key)};
}

void admission::release(const std::string& key) {
  size_t now_open = 0;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (auto i = per_key_.find(key); i != per_key_.end() && --i->second == 0)
      per_key_.erase(i);
    now_open = --open_;
  }
  if (gauge_)
    gauge_(now_open);
}

size_t admission::open() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return open_;
}

size_t admission::open(const std::string& key) const {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = per_key_.find(key);
  return i == per_key_.end() ? 0 : i->second;
}

} // namespace distiller::broadcast
