#pragma once

/// The broadcaster actor's interface (`broadcaster_actor`) and the message
/// types only its handle (broadcaster.hpp) and its replay workers send.
/// They carry callbacks and shared pointers and stay on one node, so they
/// are allowed as unsafe message types instead of taking type IDs.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/typed_actor.hpp>

#include "actors/broadcast/event.hpp"
#include "actors/broadcast/hub.hpp"
#include "actors/broadcast/type_ids.hpp"

namespace distiller::broadcast::detail {

/// A stream subscribes to a channel (see hub::subscribe).
struct subscribe_msg {
  uint64_t id = 0;
  std::string channel;
  std::optional<uint64_t> after;
  std::shared_ptr<replay_source> source;
  std::shared_ptr<client> sink;
  subscribe_options options;
};

/// An event for a channel's subscribers.
struct publish_msg {
  std::string channel;
  event_ptr e;
};

/// A replay worker's answer for subscriber `id`.
struct replay_msg {
  uint64_t id = 0;
  bool failed = false;
  replay_result result;
};

} // namespace distiller::broadcast::detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(distiller::broadcast::detail::subscribe_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(distiller::broadcast::detail::publish_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(distiller::broadcast::detail::replay_msg)

namespace distiller::broadcast {

/// Everything the broadcaster actor handles (the atoms: type_ids.hpp).
using broadcaster_actor = caf::typed_actor<
    caf::reacts_to<detail::subscribe_msg>,
    caf::reacts_to<detail::unsubscribe_atom, uint64_t>,
    caf::reacts_to<detail::publish_msg>, caf::reacts_to<detail::replay_msg>,
    caf::reacts_to<detail::head_atom, std::string, uint64_t>,
    caf::reacts_to<detail::gap_atom, uint64_t>,
    caf::replies_to<detail::channels_atom,
                    std::string>::with<std::vector<std::string>>,
    caf::reacts_to<detail::shutdown_atom>>;

} // namespace distiller::broadcast
