#pragma once

#include <memory>
#include <string>

#include "actors/load/workload.hpp"

/// `distiller load thoughts` and `distiller load sse`: thoughts submitted
/// (POST /thoughts {text, user_id}) for fresh users whose streams
/// (GET /thoughts/stream/{user_id}) are open before the clock starts.
///
/// thoughts — one stream per user; histograms `submit` (planned send →
/// 202, primary) and `completed` (planned send → `thought_completed`). A
/// user's submission order is the order of its `thought_created` events
/// (their `seq`, the order the node committed them); every
/// `thought_completed`/`thought_failed` must be for the oldest unfinished
/// thought of that user, else it counts as an order violation. Thoughts
/// accepted but never finished by the end of the drain are `missing`.
///
/// sse — `streams` streams spread over `users` users (stream i follows user
/// i mod users); the thoughts only publish events. Histograms `delivery`
/// (the event's `time` → its arrival, primary), `publish` (planned send →
/// 202) and `reconnect` (a reconnect storm's close → `ready`). Every stream
/// checks its `seq` (gaps, duplicates, reorders); at the end each stream
/// must have reached the newest event of its user (`tail_missing`).
/// `reconnect_every` closes every stream at once that often and resumes it
/// with Last-Event-ID: nothing may be missed or repeated.
///
/// Both reconnect a stream that ends early (Last-Event-ID) and retry a 503
/// after 250 ms. Tracked thoughts are bounded (`max_tracked`).
namespace distiller::load {

struct thoughts_options {
  bool sse = false;
  int users = 100;
  int streams = 100;
  std::chrono::nanoseconds reconnect_every{0};
  size_t max_tracked = 200000;
  std::string run_id;
};

std::unique_ptr<http_workload>
make_thoughts_workload(const thoughts_options& o);

/// The text of thought `index` (pure; a few everyday shapes so the agents
/// see dates, actions and feelings).
std::string generated_thought(const std::string& run_id, uint64_t index);

} // namespace distiller::load
