#include "bridges/kafka/record_chunk.hpp"

#include <utility>

namespace distiller::kafka {

chunk_ptr record_chunk_pool::take() {
  std::unique_ptr<record_chunk> c;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (!spare_.empty()) {
      c = std::move(spare_.back());
      spare_.pop_back();
    }
  }
  if (!c)
    c = std::make_unique<record_chunk>();
  c->size = 0;
  std::weak_ptr<record_chunk_pool> home = weak_from_this();
  return chunk_ptr{c.release(), [home](record_chunk* spent) {
                     if (auto pool = home.lock())
                       pool->give_back(spent);
                     else
                       delete spent;
                   }};
}

void record_chunk_pool::give_back(record_chunk* c) noexcept {
  std::unique_ptr<record_chunk> owned{c};
  std::lock_guard<std::mutex> guard{mtx_};
  if (spare_.size() < capacity_) {
    try {
      spare_.push_back(std::move(owned));
    } catch (...) { // out of memory: free it instead
    }
  }
  // else freed when `owned` goes, after the lock (declared before it).
}

size_t record_chunk_pool::size() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return spare_.size();
}

void record_chunk_pool::set_capacity(size_t capacity) {
  std::lock_guard<std::mutex> guard{mtx_};
  capacity_ = capacity;
}

} // namespace distiller::kafka
