#include "bridges/outbox/relay.hpp"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include <caf/all.hpp>

#include "bridges/outbox/type_ids.hpp"
#include "runtime/core/ids.hpp"
#include "runtime/core/type_ids.hpp"
#include "runtime/logging/log.hpp"

namespace distiller::outbox {

namespace {

using namespace std::chrono_literals;

using detail::relay_timer_atom; // type_ids.hpp

std::chrono::milliseconds retry_delay(int attempts) {
  auto d = 500ms * (1 << std::min(attempts, 6));
  return std::min<std::chrono::milliseconds>(d, 30s);
}

kafka::out_record to_record(const postgres::outbox_row& row) {
  kafka::out_record r;
  r.topic = row.message.topic;
  r.key = row.message.key;
  r.value = row.message.payload;
  for (auto& [k, v] : row.message.headers) {
    if (k == trace_header)
      r.trace = trace_id{v};
    else
      r.headers.push_back({k, v});
  }
  return r;
}

} // namespace

size_t relay_round(caf::actor_system& sys, const relay_config& cfg,
                   const relay_deps& deps) {
  auto rows = deps.outbox->lease(cfg.batch, cfg.lease);
  if (rows.empty())
    return 0;
  std::vector<kafka::out_record> records;
  records.reserve(rows.size());
  for (auto& row : rows)
    records.push_back(to_record(row));
  auto err = deps.sink->produce(sys, std::move(records), cfg.produce_timeout);
  if (!err) {
    std::vector<int64_t> ids;
    ids.reserve(rows.size());
    for (auto& row : rows)
      ids.push_back(row.id);
    deps.outbox->mark_sent(ids);
    log::debug("outbox_published", {{"rows", rows.size()},
                                    {"first_id", rows.front().id},
                                    {"last_id", rows.back().id}});
    return rows.size();
  }
  auto text = caf::to_string(err);
  for (auto& row : rows)
    deps.outbox->mark_failed(row.id, text, retry_delay(row.attempts));
  log::warn("outbox_publish_failed", {{"rows", rows.size()}, {"error", text}});
  return 0;
}

relay_actor spawn_outbox_relay(caf::actor_system& sys, relay_config cfg,
                               relay_deps deps,
                               inspect::actor_entry_ptr entry) {
  return sys.spawn<caf::detached>(
      [](relay_actor::pointer self, relay_config cfg, relay_deps deps,
         inspect::actor_entry_ptr entry) -> relay_actor::behavior_type {
        if (entry)
          entry->set_state("running");
        // One round; a full batch asks for another at once.
        auto round = [self, cfg, deps, entry] {
          try {
            auto n = relay_round(self->system(), cfg, deps);
            if (entry)
              entry->on_message(self->mailbox().size());
            if (n >= static_cast<size_t>(cfg.batch))
              self->send(self, atoms::tick_atom_v);
          } catch (const postgres::db_error& e) {
            if (entry)
              entry->add_failure();
            log::warn("outbox_relay_store_error", {{"error", e.what()}});
          }
        };
        self->send(self, relay_timer_atom::value);
        return {
            [round](atoms::tick_atom) { round(); },
            [self, cfg, round](relay_timer_atom) {
              round();
              self->delayed_send(self, cfg.interval, relay_timer_atom::value);
            },
        };
      },
      std::move(cfg), std::move(deps), std::move(entry));
}

void relay_waker::set(relay_actor relay) {
  std::lock_guard<std::mutex> guard{mtx_};
  relay_ = std::move(relay);
}

void relay_waker::wake() const {
  relay_actor r;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    r = relay_;
  }
  if (r)
    caf::anon_send(r, atoms::tick_atom_v);
}

} // namespace distiller::outbox
