#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

/// A small open-addressing hash map (linear probing, backward-shift
/// deletion, power-of-two capacity, load ≤ 1/2) for the source bridge's hot
/// paths, where std::unordered_map's node per entry costs an allocation and
/// a cache miss per lookup. Keys and values must be cheap to move; `Hash`
/// must mix well (the low bits pick the slot).
namespace distiller::kafka {

/// The finalizer of splitmix64: a fast, well-mixing 64-bit hash.
inline uint64_t mix64(uint64_t x) noexcept {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

template <class K, class V, class Hash>
class flat_map {
 public:
  V* find(const K& key) noexcept {
    return const_cast<V*>(std::as_const(*this).find(key));
  }

  const V* find(const K& key) const noexcept {
    if (size_ == 0)
      return nullptr;
    for (auto i = home(key);; i = (i + 1) & mask_) {
      auto& s = slots_[i];
      if (!s.used)
        return nullptr;
      if (s.key == key)
        return &s.value;
    }
  }

  /// Inserts `key` (which must not be present) and returns its value.
  V& insert(const K& key, V value) {
    if ((size_ + 1) * 2 > slots_.size())
      grow();
    auto i = home(key);
    while (slots_[i].used)
      i = (i + 1) & mask_;
    auto& s = slots_[i];
    s.used = true;
    s.key = key;
    s.value = std::move(value);
    ++size_;
    return s.value;
  }

  /// Removes `key`; returns false if it was not present.
  bool erase(const K& key) noexcept {
    if (size_ == 0)
      return false;
    auto i = home(key);
    for (;; i = (i + 1) & mask_) {
      if (!slots_[i].used)
        return false;
      if (slots_[i].key == key)
        break;
    }
    // Backward shift: move later entries of the probe run into the hole
    // unless that would put them before their home slot.
    for (auto j = (i + 1) & mask_; slots_[j].used; j = (j + 1) & mask_) {
      auto h = home(slots_[j].key);
      bool movable = i <= j ? (h <= i || h > j) : (h <= i && h > j);
      if (movable) {
        slots_[i].key = std::move(slots_[j].key);
        slots_[i].value = std::move(slots_[j].value);
        i = j;
      }
    }
    slots_[i].used = false;
    slots_[i].value = V{};
    --size_;
    return true;
  }

  size_t size() const noexcept { return size_; }

  template <class F>
  void for_each(F&& f) {
    for (auto& s : slots_)
      if (s.used)
        f(s.key, s.value);
  }

 private:
  struct slot {
    K key{};
    V value{};
    bool used = false;
  };

  size_t home(const K& key) const noexcept {
    return static_cast<size_t>(Hash{}(key)) & mask_;
  }

  void grow() {
    std::vector<slot> old;
    old.swap(slots_);
    slots_.resize(old.empty() ? 16 : old.size() * 2);
    mask_ = slots_.size() - 1;
    size_ = 0;
    for (auto& s : old)
      if (s.used)
        insert(s.key, std::move(s.value));
  }

  std::vector<slot> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

} // namespace distiller::kafka
