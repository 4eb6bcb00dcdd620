#pragma once

/// What the SSE broadcaster (broadcaster.hpp) carries: events of channels,
/// where a channel is one stream's key ("user:<uuid>" for a user's thoughts,
/// "job:<uuid>" for one document job), the sources it replays from, and the
/// clients it writes to.
///
/// Every event of a channel has a sequence number, its SSE `id`, increasing
/// over the channel's life. Two kinds of channels:
///   log       every event matters (a user's thought events, 1, 2, 3 …): a
///             client gets each exactly once, in order; a gap is filled from
///             the replay source;
///   snapshot  each event carries the whole state (a job's status): a newer
///             event supersedes the older ones, so gaps do not matter.
///
/// Threads: events are immutable once published (shared_ptr<const event>);
/// a replay_source is called on the broadcaster's replay threads and may
/// block; a client is called from the broadcaster actor and must not block.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace distiller::broadcast {

struct event {
  /// The channel's sequence number, > 0; the SSE id.
  uint64_t seq = 0;
  /// The SSE event name ("thought_agent_completed", "completed" …).
  std::string type;
  /// The SSE data: one JSON object.
  std::string data;
  /// When the event was created, microseconds since the epoch (0: unknown);
  /// the publish→send latency is measured from it.
  int64_t time_us = 0;
  /// The channel ends with this event (a job's completed or failed).
  bool final = false;
};

using event_ptr = std::shared_ptr<const event>;

enum class channel_order { log, snapshot };

/// What a replay source answers.
struct replay_result {
  /// Events after the asked position, ascending by seq.
  std::vector<event_ptr> events;
  /// The channel's latest sequence number the source knows.
  uint64_t head = 0;
  /// True when the asked position cannot be served (older than what is
  /// kept, or newer than the head): the client must refetch its state.
  bool reset = false;
  /// Why, for the `reset` event.
  std::string reason;
  /// More events follow the last one returned (ask again after it).
  bool more = false;
};

/// Reads a channel's past. Called on a replay thread; may block; throws on
/// failure (the broadcaster retries).
class replay_source {
 public:
  virtual ~replay_source() = default;

  /// Events of `channel` with seq > *after, at most `limit`; with no
  /// `after` ("from now"): no events but the head (log channels) or the
  /// current state (snapshot channels).
  virtual replay_result replay(const std::string& channel,
                               std::optional<uint64_t> after, size_t limit) = 0;
};

/// Where a subscription's events go (an SSE stream: sse_client.hpp).
class client {
 public:
  virtual ~client() = default;

  /// Queues `e`; false when the client is gone.
  virtual bool deliver(const event& e) = 0;

  /// Queues a control event (`ready`, `reset`, `closing`) with `id` unless
  /// it is 0; false when the client is gone.
  virtual bool control(std::string_view type, std::string_view data,
                       uint64_t id) = 0;

  /// Ends the stream once what is queued is written.
  virtual void finish() = 0;
};

} // namespace distiller::broadcast
