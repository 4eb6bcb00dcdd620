#include "bridges/kafka/in_record_pool.hpp"

#include <utility>

namespace distiller::kafka {

bool in_record_pool::give(std::vector<in_record>&& spent) {
  if (spent.empty())
    return false;
  std::lock_guard<std::mutex> guard{mtx_};
  if (size_ + spent.size() > capacity_)
    return false;
  size_ += spent.size();
  batches_.push_back(std::move(spent));
  spent.clear();
  return true;
}

std::vector<in_record> in_record_pool::take() {
  std::lock_guard<std::mutex> guard{mtx_};
  if (batches_.empty())
    return {};
  auto out = std::move(batches_.back());
  batches_.pop_back();
  size_ -= out.size();
  return out;
}

void in_record_pool::give_buffer(std::vector<in_record>&& used) {
  // Destroys what is left in it (moved-from records) outside the lock.
  used.clear();
  if (used.capacity() == 0)
    return;
  std::lock_guard<std::mutex> guard{mtx_};
  if (buffers_.size() < max_buffers)
    buffers_.push_back(std::move(used));
}

std::vector<in_record> in_record_pool::take_buffer(size_t n) {
  std::vector<in_record> out;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (!buffers_.empty()) {
      out = std::move(buffers_.back());
      buffers_.pop_back();
    }
  }
  out.reserve(n);
  return out;
}

void in_record_pool::set_capacity(size_t capacity) {
  std::lock_guard<std::mutex> guard{mtx_};
  capacity_ = capacity;
}

size_t in_record_pool::size() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return size_;
}

} // namespace distiller::kafka
