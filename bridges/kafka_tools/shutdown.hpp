#pragma once

#include <chrono>
#include <functional>

#include "bridges/kafka/handles.hpp"

/// Shutting a group consumer down so that librdkafka 2.0.2 lets go of it.
///
/// With 2.0.2, `rd_kafka_destroy` of a consumer that was fetching hangs now
/// and then (about one run in four of `distiller kafka e2e` here): an internal
/// op left in a partition's fetch queue keeps a reference to the partition,
/// so its broker thread never terminates (librdkafka #4486, #4674; fixed
/// upstream by purging those queues, #4724). Leaving the group through
/// `rd_kafka_unsubscribe` and serving the queue until the revocation has run
/// lets those ops be consumed first; `destroy_closed_consumer` bounds what is
/// left, so a command can never hang on it.
namespace distiller::kafka::tools {

/// Unsubscribes and serves the consumer queue until `still_assigned` returns
/// false (the revocation callback has run) or `timeout` passes, then drops
/// whatever is still queued. Records returned meanwhile are discarded, not
/// processed, so their offsets are never stored. Call before
/// `rd_kafka_consumer_close`, on the thread that polls.
void leave_group(rd_kafka_t* rk, const std::function<bool()>& still_assigned,
                 std::chrono::milliseconds timeout = std::chrono::seconds{10});

/// Destroys a consumer already closed with `rd_kafka_consumer_close`, waiting
/// at most `timeout`; if librdkafka has not returned by then, the handle is
/// left to the process (its threads end with it) and event=
/// consumer_destroy_stuck is logged.
void destroy_closed_consumer(
    rd_kafka_ptr rk,
    std::chrono::milliseconds timeout = std::chrono::seconds{10});

} // namespace distiller::kafka::tools
