#include "bridges/kafka/flow_gate.hpp"

namespace distiller::kafka {

bool flow_gate::wait_open(std::chrono::milliseconds timeout) {
  if (!enabled())
    return true;
  auto level = outstanding();
  if (closed_ ? level <= low_water_ : level < limit_) {
    closed_ = false;
    return true;
  }
  if (!closed_) {
    closed_ = true;
    closings_.fetch_add(1, std::memory_order_relaxed);
  }
  std::unique_lock<std::mutex> guard{mtx_};
  waiting_.store(true);
  // The bridge may have caught up between the check above and `waiting_`.
  if (outstanding() > low_water_ && !woken_)
    cv_.wait_for(guard, timeout,
                 [this] { return woken_ || outstanding() <= low_water_; });
  waiting_.store(false, std::memory_order_relaxed);
  woken_ = false;
  guard.unlock();
  if (outstanding() <= low_water_) {
    closed_ = false;
    return true;
  }
  return false;
}

void flow_gate::wake() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    woken_ = true;
  }
  cv_.notify_one();
}

} // namespace distiller::kafka
