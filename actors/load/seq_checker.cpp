#include "actors/load/seq_checker.hpp"

namespace distiller::load {

void seq_checker::start_at(uint64_t seq) {
  if (started_)
    return;
  started_ = true;
  last_ = seq;
}

void seq_checker::reset_to(uint64_t seq) {
  started_ = true;
  last_ = seq;
  missing_.clear();
  uncounted_missing_ = 0;
}

seq_checker::verdict seq_checker::check(uint64_t seq) {
  if (!started_) {
    started_ = true;
    last_ = seq;
    return verdict::next;
  }
  if (seq == last_ + 1) {
    last_ = seq;
    return verdict::next;
  }
  if (seq > last_) {
    for (uint64_t s = last_ + 1; s < seq; ++s) {
      if (missing_.size() < max_missing_) {
        missing_.insert(s);
      } else {
        uncounted_missing_ += seq - s;
        break;
      }
    }
    last_ = seq;
    return verdict::gap;
  }
  if (missing_.erase(seq) > 0) {
    ++reorders_;
    return verdict::late;
  }
  ++duplicates_;
  return verdict::duplicate;
}

} // namespace distiller::load
