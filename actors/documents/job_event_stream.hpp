#pragma once

/// One `GET /api/v2/documents/{job_id}/events` stream: the job's current
/// state, then each later change, as Server-Sent Events
///
///   event: <status>          (pending, processing, …, completed, failed)
///   data: <the job as JSON, the same object as the status route>
///
/// ending (close) after `completed` or `failed`.
///
///   start ──watch()──► waiting ──status() ok──► streaming ──final──► closed
///                        │  updates buffered        │ newer updates sent
///                        └──status() error──► 404/…  (plain JSON, no stream)
///
/// The watch subscribes before the state is read, so no change between the
/// two is lost; updates that arrive before the initial event are buffered,
/// and any update not newer than what was sent (status rank, then
/// processed_chunks — states only move forward) is dropped.
///
/// Threads: `start` runs on the I/O thread; the status reply and the watch
/// callback arrive on the service's threads. A mutex guards the state;
/// events are sent outside it by one thread at a time, in decision order.
/// Ownership: the stream object lives while its status reply is pending
/// and then while the SSE stream is open (its on_close callback holds it);
/// the watch callback holds it weakly. The watch handle is dropped as soon
/// as the final event is queued (often inside the watch callback itself) or
/// when the stream closes (client gone, server stopped).
/// Failure: a status error is answered as JSON (not_found 404, …) and the
/// watch dropped; a closed stream ends everything quietly.

#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "actors/documents/service.hpp"
#include "bridges/http/responder.hpp"

namespace distiller::http {
class sse_stream;
} // namespace distiller::http

namespace distiller::documents {

class job_event_stream : public std::enable_shared_from_this<job_event_stream> {
 public:
  /// Subscribes, reads the state and answers `res` (with a stream or an
  /// error).
  static void start(std::shared_ptr<document_service> svc, std::string job_id,
                    http::responder res, std::chrono::milliseconds heartbeat);

  job_event_stream(std::string job_id, http::responder res,
                   std::chrono::milliseconds heartbeat);

 private:
  struct frame {
    std::string event;
    std::string data;
  };

  void on_status(outcome<job_row> o);
  void on_update(const job_row& job);
  /// Queues `job` when it is newer than the last event (mtx_ held).
  void queue_locked(const job_row& job, bool initial);
  /// Sends the queued frames (and the close) outside the lock.
  void drain();
  /// The stream closed: drop the watch.
  void finish();

  std::string job_id_;
  std::chrono::milliseconds heartbeat_;
  std::mutex mtx_;
  http::responder res_;
  std::shared_ptr<http::sse_stream> stream_;
  std::unique_ptr<watch_handle> watch_;
  bool streaming_ = false; // the initial event was queued
  bool ended_ = false;     // final event queued, error sent, or closed
  std::vector<job_row> buffered_;
  int last_rank_ = -1;
  int last_processed_ = -1;
  std::deque<frame> outbox_;
  bool close_requested_ = false;
  bool close_sent_ = false;
  bool draining_ = false;
};

} // namespace distiller::documents
