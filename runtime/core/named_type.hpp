#pragma once

#include <compare>
#include <functional>
#include <ostream>
#include <string>
#include <utility>

namespace distiller {

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

} // namespace distiller

template <class T, class Tag>
struct std::hash<distiller::named_type<T, Tag>> {
  size_t operator()(const distiller::named_type<T, Tag>& x) const noexcept {
    return std::hash<T>{}(x.value());
  }
};
