#include "actors/documents/job_stream.hpp"

#include <boost/json/serialize.hpp>

#include "actors/broadcast/stream.hpp"
#include "actors/documents/records.hpp"
#include "runtime/core/time.hpp"

namespace distiller::documents {

namespace {

class reader_source : public broadcast::replay_source {
 public:
  explicit reader_source(job_reader read) : read_(std::move(read)) {}

  broadcast::replay_result replay(const std::string& channel,
                                  std::optional<uint64_t> after,
                                  size_t) override {
    broadcast::replay_result r;
    auto job = read_(channel.substr(channel.find(':') + 1));
    if (!job)
      return r;
    auto e = job_event(*job);
    r.head = e->seq;
    if (!after || e->seq > *after)
      r.events.push_back(std::move(e));
    return r;
  }

 private:
  job_reader read_;
};

} // namespace

std::string job_channel(std::string_view job_id) {
  return "job:" + std::string{job_id};
}

uint64_t job_seq(const job_row& job) {
  auto rank = order(job.status);
  auto processed = job.processed_chunks < 0 ? 0 : job.processed_chunks;
  // + 1: position 0 would read as "no id"; a pending job is 1.
  return ((static_cast<uint64_t>(rank) << 32) |
          static_cast<uint64_t>(static_cast<uint32_t>(processed))) +
         1;
}

broadcast::event_ptr job_event(const job_row& job) {
  auto e = std::make_shared<broadcast::event>();
  e->seq = job_seq(job);
  e->type = std::string{to_string(job.status)};
  e->data = boost::json::serialize(job_json(job));
  e->time_us = rfc3339_to_us(job.updated_at);
  e->final = is_final(job.status);
  return e;
}

std::shared_ptr<broadcast::replay_source> job_source(job_reader read) {
  return std::make_shared<reader_source>(std::move(read));
}

void open_job_stream(std::shared_ptr<broadcast::broadcaster> bc,
                     const std::string& job_id, std::optional<uint64_t> after,
                     http::responder res,
                     std::shared_ptr<broadcast::replay_source> source) {
  broadcast::stream_request req;
  req.channel = job_channel(job_id);
  req.after = after;
  req.source = std::move(source);
  req.options.stream = "jobs";
  req.options.order = broadcast::channel_order::snapshot;
  req.options.ready_event = false;
  req.options.close_on_final = true;
  broadcast::open_stream(std::move(bc), std::move(res), std::move(req));
}

} // namespace distiller::documents
