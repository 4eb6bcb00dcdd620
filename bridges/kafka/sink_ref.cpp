#include "bridges/kafka/sink_ref.hpp"

#include <caf/all.hpp>

#include "bridges/kafka/type_ids.hpp"
#include "runtime/core/errc.hpp"

namespace distiller::kafka {

void sink_ref::set(sink_actor sink) {
  std::lock_guard<std::mutex> guard{mtx_};
  sink_ = std::move(sink);
}

sink_actor sink_ref::get() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return sink_;
}

caf::error sink_ref::produce(caf::actor_system& sys,
                             std::vector<out_record> records,
                             std::chrono::milliseconds timeout) const {
  if (records.empty())
    return {};
  auto s = get();
  if (!s)
    return caf::make_error(runtime_errc::service_unavailable,
                           "the sink is not running");
  caf::scoped_actor self{sys};
  caf::error result;
  self->request(s, timeout, atoms::produce_atom_v, std::move(records))
      .receive([](std::vector<delivery>&) {},
               [&](caf::error& e) { result = std::move(e); });
  return result;
}

bool sink_ref::send(out_record record) const {
  auto s = get();
  if (!s)
    return false;
  caf::anon_send(s, atoms::produce_atom_v, std::move(record));
  return true;
}

} // namespace distiller::kafka
