#include "runtime/core/errc.hpp"

namespace distiller {

std::string to_string(runtime_errc x) {
  switch (x) {
    case runtime_errc::unspecified:
      return "unspecified";
    case runtime_errc::invalid_config:
      return "invalid_config";
    case runtime_errc::restart_intensity:
      return "restart_intensity";
    case runtime_errc::no_such_child:
      return "no_such_child";
    case runtime_errc::service_unavailable:
      return "service_unavailable";
    case runtime_errc::timeout:
      return "timeout";
  }
  return "runtime_errc(" + std::to_string(static_cast<int>(x)) + ")";
}

} // namespace distiller
