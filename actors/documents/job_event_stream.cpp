#include "actors/documents/job_event_stream.hpp"

#include <utility>

#include <boost/json/serialize.hpp>

#include "actors/documents/document_routes.hpp"
#include "bridges/http/sse_stream.hpp"

namespace distiller::documents {

job_event_stream::job_event_stream(std::string job_id, http::responder res,
                                   std::chrono::milliseconds heartbeat)
    : job_id_(std::move(job_id)), heartbeat_(heartbeat), res_(std::move(res)) {}

void job_event_stream::start(std::shared_ptr<document_service> svc,
                             std::string job_id, http::responder res,
                             std::chrono::milliseconds heartbeat) {
  auto self =
      std::make_shared<job_event_stream>(job_id, std::move(res), heartbeat);
  std::weak_ptr<job_event_stream> weak = self;
  // Subscribe first: a change between watch() and the status read is then
  // buffered instead of lost.
  auto handle = svc->watch(job_id, [weak](const job_row& job) {
    if (auto s = weak.lock())
      s->on_update(job);
  });
  {
    std::lock_guard<std::mutex> guard{self->mtx_};
    if (!self->ended_)
      self->watch_ = std::move(handle);
  }
  // `handle` is empty here unless the stream already ended.
  handle.reset();
  svc->status(job_id,
              [self](outcome<job_row> o) { self->on_status(std::move(o)); });
}

void job_event_stream::on_status(outcome<job_row> o) {
  if (auto* e = std::get_if<service_error>(&o)) {
    std::unique_ptr<watch_handle> dropped;
    http::responder res;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      ended_ = true;
      buffered_.clear();
      dropped = std::move(watch_);
      res = std::move(res_);
    }
    res.send(service_error_response(*e));
    return;
  }
  auto& job = std::get<job_row>(o);
  std::shared_ptr<http::sse_stream> stream;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stream = res_.start_sse(heartbeat_);
    stream_ = stream;
    streaming_ = true;
    queue_locked(job, true);
    for (auto& b : buffered_)
      queue_locked(b, false);
    buffered_.clear();
  }
  // Runs at once when the client is already gone.
  stream->on_close([self = shared_from_this()] { self->finish(); });
  drain();
}

void job_event_stream::on_update(const job_row& job) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (ended_)
      return;
    if (!streaming_) {
      buffered_.push_back(job);
      return;
    }
    queue_locked(job, false);
  }
  drain();
}

void job_event_stream::queue_locked(const job_row& job, bool initial) {
  if (ended_)
    return;
  int rank = status_order(job.status);
  bool newer = rank > last_rank_ ||
               (rank == last_rank_ && job.processed_chunks > last_processed_);
  if (!initial && (rank < 0 || !newer))
    return;
  last_rank_ = rank;
  last_processed_ = job.processed_chunks;
  outbox_.push_back({job.status, boost::json::serialize(job_json(job))});
  if (is_final(job.status)) {
    ended_ = true;
    close_requested_ = true;
  }
}

void job_event_stream::drain() {
  std::unique_lock<std::mutex> lock{mtx_};
  if (draining_)
    return; // the thread draining now sends ours too, in order
  draining_ = true;
  while (!outbox_.empty() || (close_requested_ && !close_sent_)) {
    auto batch = std::move(outbox_);
    outbox_.clear();
    bool close = close_requested_ && !close_sent_;
    close_sent_ = close_sent_ || close;
    // After the final event nothing more is wanted: unsubscribe now rather
    // than when the connection is finally gone.
    std::unique_ptr<watch_handle> dropped;
    if (close)
      dropped = std::move(watch_);
    auto stream = stream_;
    lock.unlock();
    // Sending may close the stream and run finish() right here.
    for (auto& f : batch)
      stream->send(f.event, f.data);
    if (close)
      stream->close();
    dropped.reset();
    lock.lock();
  }
  draining_ = false;
}

void job_event_stream::finish() {
  std::unique_ptr<watch_handle> dropped;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    ended_ = true;
    buffered_.clear();
    outbox_.clear();
    dropped = std::move(watch_);
  }
  // `dropped` unsubscribes here, outside the lock: the watch callback takes
  // mtx_, and the handle may wait for a callback in flight.
}

} // namespace distiller::documents
