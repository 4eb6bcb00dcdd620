#include "actors/thoughts/processor.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>
#include <utility>

#include <boost/json.hpp>
#include <caf/sec.hpp>

#include "bridges/kafka/in_record.hpp"
#include "bridges/postgres/pool.hpp"
#include "runtime/logging/log.hpp"

namespace distiller::thoughts {

namespace json = boost::json;

namespace {

caf::error permanent(std::string what) {
  return caf::make_error(kafka::record_errc::permanent, std::move(what));
}

caf::error undecodable(std::string what) {
  return caf::make_error(kafka::record_errc::undecodable, std::move(what));
}

caf::error retry(std::string what) {
  return caf::make_error(caf::sec::runtime_error, std::move(what));
}

caf::error from_store(const postgres::db_error& e) {
  return e.retryable() ? retry(e.what()) : permanent(e.what());
}

json::object parse_object(const std::optional<std::string>& text) {
  if (!text)
    return {};
  boost::system::error_code ec;
  auto v = json::parse(*text, ec);
  if (ec || !v.is_object())
    return {};
  return std::move(v.as_object());
}

} // namespace

/// A thought of the current wave.
struct processor::active {
  size_t index = 0; // position in the batch
  thought_row row;
  int attempt = 1;
  bool done = false;
};

bool inflight_thoughts::claim(const std::string& thought_id,
                              std::chrono::milliseconds wait) {
  std::unique_lock<std::mutex> guard{mtx_};
  ++waiting_;
  auto free = released_.wait_for(guard, wait,
                                 [&] { return ids_.count(thought_id) == 0; });
  --waiting_;
  if (!free)
    return false;
  ids_.insert(thought_id);
  return true;
}

void inflight_thoughts::release(const std::string& thought_id) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    ids_.erase(thought_id);
  }
  released_.notify_all();
}

size_t inflight_thoughts::size() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return ids_.size();
}

size_t inflight_thoughts::waiting() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return waiting_;
}

processor::processor(processor_config cfg, thought_store& store,
                     agent_runner& agents, event_sink& events)
    : cfg_(cfg), store_(store), agents_(agents), events_(events) {}

std::vector<caf::error>
processor::process(const std::vector<work_item>& batch) {
  std::vector<caf::error> results(batch.size());
  std::vector<bool> ran(batch.size(), false);
  // Waves: the n-th record of a lane goes into wave n.
  std::unordered_map<std::string, size_t> seen;
  std::vector<std::vector<size_t>> waves;
  for (size_t i = 0; i < batch.size(); ++i) {
    auto n = seen[batch[i].lane]++;
    if (waves.size() <= n)
      waves.resize(n + 1);
    waves[n].push_back(i);
  }
  std::set<std::string> failed_lanes;
  for (auto& wave : waves) {
    // A lane whose earlier record failed waits for that record's retry.
    std::vector<size_t> runnable;
    for (auto i : wave)
      if (!failed_lanes.count(batch[i].lane))
        runnable.push_back(i);
    if (runnable.empty())
      continue;
    run_wave(runnable, batch, results, ran);
    for (auto i : runnable)
      if (results[i])
        failed_lanes.insert(batch[i].lane);
  }
  // The reply: in batch order up to and including the first failure (or
  // up to the first record that did not run).
  std::vector<caf::error> reply;
  for (size_t i = 0; i < batch.size() && ran[i]; ++i) {
    reply.push_back(std::move(results[i]));
    if (reply.back())
      break;
  }
  return reply;
}

void processor::run_wave(const std::vector<size_t>& wave,
                         const std::vector<work_item>& batch,
                         std::vector<caf::error>& results,
                         std::vector<bool>& ran) {
  std::vector<active> live;
  std::vector<std::string> ids;
  for (auto i : wave) {
    ran[i] = true;
    if (!batch[i].undecodable.empty()) {
      results[i] = undecodable(batch[i].undecodable);
      continue;
    }
    ids.push_back(batch[i].created.thought_id);
  }
  // -- one attempt per thought in this node
  // ------------------------------------ Claimed before the rows are read, so a
  // redelivery that waited for the attempt running here reads what that attempt
  // left; released when the wave ends (also by an exception).
  std::vector<std::string> claimed;
  struct release_claims {
    inflight_thoughts* set;
    std::vector<std::string>& ids;
    ~release_claims() {
      if (set)
        for (auto& id : ids)
          set->release(id);
    }
  } releaser{cfg_.inflight.get(), claimed};
  if (cfg_.inflight) {
    // In id order: two waves that wait for each other's thoughts cannot
    // hold one each.
    std::vector<size_t> order;
    for (auto i : wave)
      if (batch[i].undecodable.empty())
        order.push_back(i);
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return batch[a].created.thought_id < batch[b].created.thought_id;
    });
    std::vector<std::string> free;
    for (auto i : order) {
      auto& id = batch[i].created.thought_id;
      if (cfg_.inflight->claim(id, cfg_.inflight_wait)) {
        claimed.push_back(id);
        free.push_back(id);
      } else {
        results[i] = retry("thought " + id +
                           " is still being processed on this node (a "
                           "redelivery)");
      }
    }
    ids = std::move(free);
  }
  // -- load ------------------------------------------------------------------
  std::unordered_map<std::string, thought_row> rows;
  try {
    for (auto& r : store_.load(ids))
      rows.emplace(r.thought_id, std::move(r));
  } catch (const postgres::db_error& e) {
    for (auto i : wave)
      if (!results[i])
        results[i] = from_store(e);
    return;
  }
  std::vector<thought_event> reannounce;
  for (auto i : wave) {
    if (results[i])
      continue;
    auto& c = batch[i].created;
    auto r = rows.find(c.thought_id);
    if (r == rows.end()) {
      results[i] = permanent("unknown thought " + c.thought_id);
      continue;
    }
    if (is_final(r->second.status)) {
      // A redelivery after the end: say it again (the broadcasters drop
      // what they have), change nothing.
      try {
        auto evs = store_.events_of(c.thought_id);
        reannounce.insert(reannounce.end(), evs.begin(), evs.end());
      } catch (const postgres::db_error& e) {
        results[i] = from_store(e);
      }
      continue;
    }
    active a;
    a.index = i;
    a.row = r->second;
    a.attempt = std::max(batch[i].attempt, a.row.attempts + 1);
    live.push_back(std::move(a));
  }
  if (!reannounce.empty())
    events_.publish(reannounce);
  // -- attempts
  // ----------------------------------------------------------------
  std::vector<fail_item> failures;
  auto finish_failed = [&](active& a, std::string error) {
    a.done = true;
    failures.push_back({a.row.thought_id, error, a.attempt});
    results[a.index] = permanent(std::move(error));
  };
  {
    std::vector<begin_item> begins;
    for (auto& a : live) {
      if (a.attempt > cfg_.max_attempts) {
        // Crashed attempts used up the budget (restarts mid-thought).
        finish_failed(a, "gave up after " + std::to_string(cfg_.max_attempts) +
                             " attempts (the last ones did not finish)");
        continue;
      }
      begins.push_back({a.row.thought_id, a.attempt});
    }
    try {
      auto evs = store_.begin(begins);
      events_.publish(evs);
      for (auto& a : live)
        if (!a.done) {
          a.row.status = thought_status::processing;
          a.row.attempts = a.attempt;
        }
    } catch (const postgres::db_error& e) {
      for (auto& a : live)
        if (!a.done) {
          a.done = true;
          results[a.index] = from_store(e);
        }
    }
  }
  // -- the five steps
  // ----------------------------------------------------------
  for (int step = 1; step <= static_cast<int>(agent_count); ++step) {
    auto kind = agent_at(step);
    std::vector<active*> todo;
    std::vector<std::shared_ptr<const agent_input>> inputs;
    for (auto& a : live) {
      if (a.done || a.row.agents_completed != step - 1)
        continue;
      auto in = std::make_shared<agent_input>();
      in->thought_id = a.row.thought_id;
      in->user_id = a.row.user_id;
      in->text = a.row.text;
      in->created_at = a.row.created_at;
      for (int k = 1; k < step; ++k)
        in->previous[static_cast<size_t>(k - 1)] =
            parse_object(a.row.results[static_cast<size_t>(k - 1)]);
      todo.push_back(&a);
      inputs.push_back(std::move(in));
    }
    if (todo.empty())
      continue;
    auto outcomes = agents_.run(kind, inputs);
    std::vector<step_item> items;
    std::vector<active*> saved;
    for (size_t j = 0; j < todo.size(); ++j) {
      auto& a = *todo[j];
      agent_outcome o;
      if (j < outcomes.size())
        o = std::move(outcomes[j]);
      else
        o.error = "no answer from the agent";
      if (o.ok) {
        items.push_back({a.row.thought_id, json::serialize(o.result), o.backend,
                         o.duration_ms});
        saved.push_back(&a);
        continue;
      }
      auto what = std::string{agent_name(kind)} + " failed: " + o.error;
      log::warn("thought_agent_failed", {{"thought_id", a.row.thought_id},
                                         {"agent", agent_name(kind)},
                                         {"attempt", a.attempt},
                                         {"retryable", o.retryable},
                                         {"error", o.error},
                                         {"trace_id", a.row.trace_id}});
      if (!o.retryable || a.attempt >= cfg_.max_attempts)
        finish_failed(a, what + " (attempt " + std::to_string(a.attempt) +
                             " of " + std::to_string(cfg_.max_attempts) + ")");
      else {
        a.done = true;
        results[a.index] = retry(what);
      }
    }
    if (items.empty())
      continue;
    try {
      auto evs = store_.save_step(step, items);
      std::set<std::string> stored;
      for (auto& e : evs)
        stored.insert(e.thought_id);
      events_.publish(evs);
      for (size_t j = 0; j < saved.size(); ++j) {
        auto& a = *saved[j];
        if (!stored.count(a.row.thought_id)) {
          // Someone else moved it (another delivery of the same thought):
          // try again later from what the database says.
          a.done = true;
          results[a.index] =
              retry("thought " + a.row.thought_id + " changed while step " +
                    std::to_string(step) + " ran");
          continue;
        }
        a.row.agents_completed = step;
        a.row.results[static_cast<size_t>(step - 1)] = items[j].result;
      }
    } catch (const postgres::db_error& e) {
      for (auto* a : saved) {
        a->done = true;
        results[a->index] = from_store(e);
      }
    }
  }
  // -- failures and durability
  // -------------------------------------------------
  if (!failures.empty()) {
    try {
      events_.publish(store_.fail(failures));
      for (auto& f : failures)
        log::warn("thought_failed", {{"thought_id", f.thought_id},
                                     {"attempts", f.attempts},
                                     {"error", f.error}});
    } catch (const postgres::db_error& e) {
      // Not marked failed: retry the whole thing later (it resumes).
      for (auto& a : live)
        if (results[a.index] && kafka::is_permanent(results[a.index]))
          results[a.index] = from_store(e);
    }
  }
  if (auto err = events_.flush()) {
    // The state is saved; the announcement is not durable yet. A retry
    // finds the thought further on and announces again.
    auto text = "thought-updates: " + caf::to_string(err);
    for (auto i : wave)
      if (!results[i])
        results[i] = retry(text);
  }
}

} // namespace distiller::thoughts
