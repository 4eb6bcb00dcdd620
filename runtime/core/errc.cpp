#include "runtime/core/errc.hpp"

#include <caf/actor_system_config.hpp>

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

void add_runtime_error_category(caf::actor_system_config& cfg) {
  cfg.add_error_category(caf::atom("runtime"), [](uint8_t code, caf::atom_value,
                                                  const caf::message& ctx) {
    auto text = "runtime: " + to_string(static_cast<runtime_errc>(code));
    if (!ctx.empty())
      text += " (" + to_string(ctx) + ")";
    return text;
  });
}

} // namespace distiller
