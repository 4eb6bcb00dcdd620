// Compiled (never linked) by typed_interfaces_test.py: with DISTILLER_MISUSE
// undefined it uses the typed actors' interfaces as they are meant and must
// compile; each DISTILLER_MISUSE=n sends a message an interface lacks or
// expects a reply of the wrong type, and must fail CAF's static checks.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "actors/broadcast/messages.hpp"
#include "bridges/kafka/record_worker.hpp"
#include "bridges/kafka/sink.hpp"
#include "bridges/kafka/source_binding.hpp"
#include "bridges/kafka/source_bridge.hpp"
#include "runtime/health/probe.hpp"
#include "runtime/supervision/supervisor.hpp"

#ifndef DISTILLER_MISUSE
#  define DISTILLER_MISUSE 0
#endif

using namespace distiller;
using namespace std::chrono_literals;

void use(caf::scoped_actor& self, const kafka::sink_actor& sink,
         const supervision::supervisor_actor& sup,
         const kafka::source_bridge_actor& bridge,
         const health::probe_actor& probe,
         const broadcast::broadcaster_actor& hub) {
  auto ignore = [](caf::error&) {
  };
#if DISTILLER_MISUSE == 1
  // The sink takes no stats request.
  self->request(sink, 1s, atoms::stats_atom_v).receive([] {}, ignore);
#elif DISTILLER_MISUSE == 2
  // One record is answered with one delivery, not a vector.
  self->request(sink, 1s, atoms::produce_atom_v, kafka::out_record{})
      .receive([](std::vector<kafka::delivery>&) {}, ignore);
#elif DISTILLER_MISUSE == 3
  // A supervisor's children are named by strings.
  self->request(sup, 1s, atoms::children_atom_v)
      .receive([](std::vector<int>&) {}, ignore);
#elif DISTILLER_MISUSE == 4
  // scale takes a count.
  self->request(bridge, 1s, atoms::scale_atom_v, std::string{"two"})
      .receive([](int32_t) {}, ignore);
#elif DISTILLER_MISUSE == 7
  // A probe answers with its state's name.
  self->request(probe, 1s, atoms::health_atom_v).receive([](bool) {}, ignore);
#elif DISTILLER_MISUSE == 8
  // The broadcaster's channels are asked for by a prefix.
  self->request(hub, 1s, broadcast::detail::channels_atom_v)
      .receive([](std::vector<std::string>&) {}, ignore);
#else
  self->request(sink, 1s, atoms::produce_atom_v, kafka::out_record{})
      .receive([](kafka::delivery&) {}, ignore);
  self->request(sink, 1s, atoms::produce_atom_v,
                std::vector<kafka::out_record>{})
      .receive([](std::vector<kafka::delivery>&) {}, ignore);
  self->request(sink, 1s, caf::flush_atom_v).receive([] {}, ignore);
  self->request(sup, 1s, atoms::children_atom_v)
      .receive([](std::vector<std::string>&) {}, ignore);
  self->request(sup, 1s, atoms::child_atom_v, std::string{"w"})
      .receive([](caf::actor&) {}, ignore);
  self->request(bridge, 1s, atoms::scale_atom_v, int32_t{2})
      .receive([](int32_t) {}, ignore);
  self->request(bridge, 1s, atoms::stats_atom_v)
      .receive([](kafka::source_stats&) {}, ignore);
  self->request(bridge, 1s, atoms::pause_atom_v).receive([] {}, ignore);
  self->request(probe, 1s, atoms::health_atom_v)
      .receive([](std::string&) {}, ignore);
  self->request(hub, 1s, broadcast::detail::channels_atom_v,
                std::string{"user:"})
      .receive([](std::vector<std::string>&) {}, ignore);
#endif
}

// A bridge's workers: built by the binding's factory, which must return a
// record_worker_actor.
kafka::record_worker_actor::behavior_type
batch_worker(kafka::record_worker_actor::pointer) {
  return {
#if DISTILLER_MISUSE == 6
    // A batch is answered with one error per record, not one in all.
    [](const kafka::record_batch&) { return caf::error{}; },
#else
    [](const kafka::record_batch& batch) {
      return std::vector<caf::error>(batch.size());
    },
#endif
  };
}

void bind(kafka::source_binding& b) {
#if DISTILLER_MISUSE == 5
  // An untyped actor cannot be a bridge's worker.
  b.worker = [](caf::actor_system& sys, inspect::actor_entry_ptr) {
    return sys.spawn([] {
      return caf::behavior{[](const kafka::record_batch&) {
      }};
    });
  };
#else
  b.worker = [](caf::actor_system& sys, inspect::actor_entry_ptr) {
    return sys.spawn(batch_worker);
  };
#endif
}
