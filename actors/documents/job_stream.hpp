#pragma once

/// A document job on the SSE broadcaster (actors/broadcast/): every state
/// of the job is an event of the snapshot channel "job:<id>", so one SSE
/// machinery serves job streams and thought streams alike.
///
///   event: <status>        (pending, processing, …, completed, failed)
///   id: <position>         (rank of the status << 32 | processed chunks:
///                           it only grows over a job's life)
///   data: <the job as JSON, the same object as the status route>
///
/// A stream starts with the job's current state (read by the replay
/// source), then each newer state; it ends after `completed` or `failed`. A
/// reconnect with Last-Event-ID gets the current state only if it is newer.
/// Older or repeated states are dropped by the broadcaster.
///
/// Threads: pure functions, and a source that blocks on its reader (it runs
/// on the broadcaster's replay threads).

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "actors/broadcast/broadcaster.hpp"
#include "actors/broadcast/event.hpp"
#include "actors/documents/document_store.hpp"
#include "bridges/http/responder.hpp"

namespace distiller::documents {

std::string job_channel(std::string_view job_id);

/// The job's position: (status rank (records.hpp) << 32 | processed
/// chunks) + 1.
uint64_t job_seq(const job_row& job);

broadcast::event_ptr job_event(const job_row& job);

/// Reads a job's current state (blocking; nullopt when unknown).
using job_reader = std::function<std::optional<job_row>(const std::string&)>;

std::shared_ptr<broadcast::replay_source> job_source(job_reader read);

/// Subscribes `res` to the job's channel (the job is known to exist).
void open_job_stream(std::shared_ptr<broadcast::broadcaster> bc,
                     const std::string& job_id, std::optional<uint64_t> after,
                     http::responder res,
                     std::shared_ptr<broadcast::replay_source> source);

} // namespace distiller::documents
