#pragma once

#include <cstdint>
#include <string>

#include <caf/error.hpp>
#include <caf/fwd.hpp>
#include <caf/message.hpp>

namespace distiller {

/// Errors raised by the runtime itself (configuration, supervision, services).
enum class runtime_errc : uint8_t {
  unspecified = 1,
  /// A configuration key is unknown or its value invalid.
  invalid_config,
  /// A supervisor exceeded its restart intensity and gave up.
  restart_intensity,
  /// A child name is not known to the supervisor.
  no_such_child,
  /// An embedded or external service did not start or is unreachable.
  service_unavailable,
  /// An operation did not finish before its deadline.
  timeout,
};

std::string to_string(runtime_errc x);

/// Teaches `cfg` to render runtime errors as "runtime: restart_intensity (…)"
/// instead of a bare number.
void add_runtime_error_category(caf::actor_system_config& cfg);

} // namespace distiller

CAF_ERROR_CODE_ENUM(distiller::runtime_errc, "runtime")
