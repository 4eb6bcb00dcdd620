#include "actors/broadcast/hub.hpp"

#include <algorithm>
#include <utility>

#include <boost/json/serialize.hpp>

namespace distiller::broadcast {

hub::hub(hub_settings settings, hub_observer* observer)
    : settings_(settings), observer_(observer ? observer : &no_observer_) {}

// -- subscriptions ------------------------------------------------------------

void hub::subscribe(uint64_t id, std::string channel,
                    std::optional<uint64_t> after,
                    std::shared_ptr<replay_source> source,
                    std::shared_ptr<client> sink, subscribe_options options,
                    clock::time_point now, effects& out) {
  (void)now;
  auto s = std::make_shared<subscriber>();
  s->id = id;
  s->channel = std::move(channel);
  s->options = std::move(options);
  s->source = std::move(source);
  s->sink = std::move(sink);
  s->start_after = after;
  s->last = after.value_or(0);
  subs_[id] = s;
  channels_[s->channel].push_back(id);
  request_replay(s, after, out);
}

void hub::unsubscribe(uint64_t id) {
  remove(id);
}

void hub::remove(uint64_t id) {
  auto i = subs_.find(id);
  if (i == subs_.end())
    return;
  auto c = channels_.find(i->second->channel);
  if (c != channels_.end()) {
    auto& ids = c->second;
    ids.erase(std::remove(ids.begin(), ids.end(), id), ids.end());
    if (ids.empty())
      channels_.erase(c);
  }
  subs_.erase(i);
}

// -- events -------------------------------------------------------------------

void hub::publish(const std::string& channel, const event_ptr& e,
                  clock::time_point now, effects& out) {
  auto c = channels_.find(channel);
  if (c == channels_.end() || !e)
    return;
  // A copy: delivering may remove subscribers (gone, final).
  auto ids = c->second;
  for (auto id : ids)
    if (auto i = subs_.find(id); i != subs_.end()) {
      auto s = i->second; // keeps it alive while it may be removed
      on_event(s, e, now, out);
    }
}

void hub::on_event(const sub_ptr& s, const event_ptr& e, clock::time_point now,
                   effects& out) {
  bool log_order = s->options.order == channel_order::log;
  if (s->ph != phase::syncing && e->seq <= s->last) {
    observer_->dropped(s->options.stream, log_order ? "duplicate" : "stale");
    return;
  }
  if (s->ph != phase::live) {
    // A replay is running: keep what may follow it.
    hold(s, e, now, out);
    return;
  }
  if (!log_order || e->seq == s->last + 1) {
    if (deliver(s, *e, false, now))
      drain_held(s, now, out);
    return;
  }
  hold(s, e, now, out);
  drain_held(s, now, out);
}

void hub::hold(const sub_ptr& s, const event_ptr& e, clock::time_point now,
               effects& out) {
  (void)now;
  if (s->ph != phase::syncing && e->seq <= s->last)
    return;
  if (!s->held.emplace(e->seq, e).second) {
    observer_->dropped(s->options.stream, "duplicate");
    return;
  }
  if (s->held.size() <= settings_.max_held)
    return;
  // Too much waits: the newest held events go (a replay brings them back),
  // and a live subscriber stops waiting for the gap to close by itself.
  while (s->held.size() > settings_.max_held)
    s->held.erase(std::prev(s->held.end()));
  if (s->ph == phase::live) {
    s->ph = phase::filling;
    observer_->recovered(s->options.stream, "fill");
    request_replay(s, s->last, out);
  }
}

bool hub::deliver(const sub_ptr& s, const event& e, bool replayed,
                  clock::time_point now) {
  if (!s->sink->deliver(e)) {
    observer_->dropped(s->options.stream, "gone");
    remove(s->id);
    return false;
  }
  s->last = e.seq;
  observer_->sent(s->options.stream, e, replayed, now);
  if (e.final && s->options.close_on_final) {
    s->sink->finish();
    remove(s->id);
    return false;
  }
  return true;
}

void hub::drain_held(const sub_ptr& s, clock::time_point now, effects& out) {
  bool log_order = s->options.order == channel_order::log;
  while (!s->held.empty() && alive(s->id)) {
    auto i = s->held.begin();
    if (i->first <= s->last) {
      s->held.erase(i);
      continue;
    }
    if (log_order && i->first != s->last + 1)
      break;
    auto e = i->second;
    s->held.erase(i);
    if (!deliver(s, *e, false, now))
      return;
  }
  if (!alive(s->id) || s->ph != phase::live)
    return;
  if (!has_gap(*s)) {
    s->gap_since.reset();
    return;
  }
  // A gap: give the missing events the reorder window to arrive.
  if (!s->gap_since)
    s->gap_since = now;
  if (!s->timer_armed) {
    s->timer_armed = true;
    out.timers.push_back({s->id, *s->gap_since + settings_.reorder_window});
  }
}

// -- replays ------------------------------------------------------------------

bool hub::has_gap(const subscriber& s) const {
  if (s.options.order != channel_order::log)
    return false;
  if (s.known_head > s.last)
    return true;
  return !s.held.empty() && s.held.begin()->first > s.last + 1;
}

void hub::head(const std::string& channel, uint64_t head, clock::time_point now,
               effects& out) {
  auto c = channels_.find(channel);
  if (c == channels_.end())
    return;
  auto ids = c->second;
  for (auto id : ids) {
    auto i = subs_.find(id);
    if (i == subs_.end())
      continue;
    auto s = i->second;
    if (s->options.order != channel_order::log || s->ph != phase::live ||
        head <= s->last)
      continue;
    s->known_head = std::max(s->known_head, head);
    if (!s->gap_since)
      s->gap_since = now;
    if (!s->timer_armed) {
      s->timer_armed = true;
      out.timers.push_back({s->id, *s->gap_since + settings_.reorder_window});
    }
  }
}

void hub::request_replay(const sub_ptr& s, std::optional<uint64_t> after,
                         effects& out) {
  if (s->replay_pending)
    return;
  s->replay_pending = true;
  out.replays.push_back(
      {s->id, s->channel, after, settings_.replay_limit, s->source});
}

void hub::replayed(uint64_t id, replay_result r, clock::time_point now,
                   effects& out) {
  auto i = subs_.find(id);
  if (i == subs_.end())
    return;
  auto s = i->second;
  s->replay_pending = false;
  bool log_order = s->options.order == channel_order::log;
  // A client that asks to resume after an id the channel never reached (a
  // database reset, another deployment) is out of sync too.
  bool from_future = log_order && !s->synced_once && s->start_after &&
                     *s->start_after > r.head;
  if (r.reset || from_future) {
    std::string reason = r.reset ? r.reason : "unknown event id";
    boost::json::object data{{"reason", reason},
                             {"detail", "the missed events cannot be "
                                        "replayed; refetch the current "
                                        "state"},
                             {"last_event_id", r.head}};
    if (!s->sink->control("reset", boost::json::serialize(data), 0)) {
      observer_->dropped(s->options.stream, "gone");
      remove(id);
      return;
    }
    observer_->recovered(s->options.stream, "reset");
    s->last = r.head;
  } else {
    for (auto& e : r.events) {
      if (!e || e->seq <= s->last)
        continue;
      if (!deliver(s, *e, true, now))
        return;
      ++s->replayed;
    }
    if (r.more && !r.events.empty()) {
      request_replay(s, s->last, out);
      return;
    }
    s->last = std::max(s->last, r.head);
  }
  s->known_head = std::max(s->known_head, r.head);
  if (!s->synced_once) {
    send_ready(s);
    if (!alive(id))
      return;
  }
  s->ph = phase::live;
  s->gap_since.reset();
  drain_held(s, now, out);
}

void hub::replay_failed(uint64_t id, clock::time_point now, effects& out) {
  auto i = subs_.find(id);
  if (i == subs_.end())
    return;
  auto& s = i->second;
  s->replay_pending = false;
  s->retry_pending = true;
  s->timer_armed = true;
  out.timers.push_back({id, now + settings_.retry_delay});
}

void hub::timer(uint64_t id, clock::time_point now, effects& out) {
  auto i = subs_.find(id);
  if (i == subs_.end())
    return;
  auto s = i->second;
  s->timer_armed = false;
  if (s->retry_pending) {
    s->retry_pending = false;
    request_replay(s,
                   s->synced_once || s->replayed > 0
                       ? std::optional<uint64_t>{s->last}
                       : s->start_after,
                   out);
    return;
  }
  if (s->ph != phase::live || !s->gap_since)
    return;
  if (!has_gap(*s)) {
    drain_held(s, now, out);
    return;
  }
  auto due = *s->gap_since + settings_.reorder_window;
  if (now < due) {
    s->timer_armed = true;
    out.timers.push_back({id, due});
    return;
  }
  if (!s->held.empty() && s->held.begin()->first <= s->last + 1) {
    drain_held(s, now, out);
    return;
  }
  s->ph = phase::filling;
  observer_->recovered(s->options.stream, "fill");
  request_replay(s, s->last, out);
}

void hub::send_ready(const sub_ptr& s) {
  s->synced_once = true;
  if (!s->options.ready_event)
    return;
  auto data = s->options.ready_fields;
  data["last_event_id"] = s->last;
  data["replayed"] = s->replayed;
  if (!s->sink->control("ready", boost::json::serialize(data), s->last)) {
    observer_->dropped(s->options.stream, "gone");
    remove(s->id);
  }
}

// -- the whole hub ------------------------------------------------------------

void hub::close_all(const std::string& reason, const std::string& detail) {
  auto text = boost::json::serialize(
      boost::json::object{{"reason", reason}, {"detail", detail}});
  for (auto& [id, s] : subs_) {
    s->sink->control("closing", text, 0);
    s->sink->finish();
  }
  subs_.clear();
  channels_.clear();
}

std::vector<std::string> hub::channel_names(const std::string& prefix) const {
  std::vector<std::string> out;
  for (auto& [name, ids] : channels_)
    if (name.compare(0, prefix.size(), prefix) == 0)
      out.push_back(name);
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<subscriber_view> hub::view(uint64_t id) const {
  auto i = subs_.find(id);
  if (i == subs_.end())
    return std::nullopt;
  auto& s = *i->second;
  subscriber_view v;
  v.id = s.id;
  v.channel = s.channel;
  v.phase = s.ph == phase::syncing ? "syncing"
            : s.ph == phase::live  ? "live"
                                   : "filling";
  v.last = s.last;
  v.held = s.held.size();
  return v;
}

} // namespace distiller::broadcast
