#pragma once

#include <compare>
#include <functional>
#include <ostream>
#include <string>
#include <utility>

// named_type lives in its own namespace: CAF finds its `inspect` overload by
// argument-dependent lookup, and a function named `inspect` directly in
// namespace distiller would clash with the namespace distiller::inspect.
namespace distiller::strong {

/// A value of type `T` that cannot be confused with another `T` carrying a
/// different meaning: `job_id` and `user_id` are both strings, but a function
/// taking a `job_id` rejects a `user_id` at compile time.
template <class T, class Tag>
class named_type {
 public:
  using value_type = T;

  named_type() = default;
  explicit named_type(T value) : value_(std::move(value)) {}

  const T& value() const noexcept { return value_; }
  T& value() noexcept { return value_; }

  auto operator<=>(const named_type&) const = default;
  bool operator==(const named_type&) const = default;

  friend std::ostream& operator<<(std::ostream& out, const named_type& x) {
    return out << x.value_;
  }

  /// Lets CAF serialize the value inside messages.
  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, named_type& x) {
    return f(x.value_);
  }

 private:
  T value_{};
};

} // namespace distiller::strong

namespace distiller {
using strong::named_type;
} // namespace distiller

template <class T, class Tag>
struct std::hash<distiller::strong::named_type<T, Tag>> {
  size_t
  operator()(const distiller::strong::named_type<T, Tag>& x) const noexcept {
    return std::hash<T>{}(x.value());
  }
};
