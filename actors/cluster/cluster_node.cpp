#include "actors/cluster/cluster_node.hpp"
#include "actors/cluster/cluster_node_state.hpp"

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include <boost/json.hpp>
#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>

#include "actors/cluster/member_store.hpp"
#include "actors/cluster/type_ids.hpp"
#include "bridges/kafka/source_bridge.hpp"
#include "runtime/cluster/membership.hpp"
#include "runtime/cluster/tunnel.hpp"
#include "runtime/core/ids.hpp"
#include "runtime/core/time.hpp"
#include "runtime/core/type_ids.hpp"
#include "runtime/logging/log.hpp"

namespace distiller::cluster {

namespace json = boost::json;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

using detail::fail;

namespace {

// The cluster's atoms (type_ids.hpp).
using detail::beat_atom;
using detail::observe_atom;
using detail::query_atom;

/// The membership actor: its own two timers are its only input.
using membership_actor =
    caf::typed_actor<caf::reacts_to<beat_atom>, caf::reacts_to<observe_atom>>;

std::string now_rfc3339() {
  return us_to_rfc3339(now_us());
}

json::array roles_json(const std::vector<std::string>& roles) {
  json::array out;
  for (auto& r : roles)
    out.emplace_back(r);
  return out;
}

/// "<node answer>" as a wire string: ok answers are their JSON, errors
/// {"error": …, "detail": …}.
std::string to_wire(const node_answer& a) {
  if (a.ok)
    return a.body;
  return json::serialize(json::object{{"error", a.error}, {"detail", a.body}});
}

node_answer from_wire(const std::string& node, const std::string& text) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (!ec && v.is_object() && v.as_object().contains("error") &&
      v.as_object().contains("detail") && v.as_object().size() == 2)
    return fail(node, std::string{v.at("error").as_string()},
                std::string{v.at("detail").as_string()});
  node_answer a;
  a.node = node;
  a.ok = true;
  a.body = text;
  return a;
}

} // namespace

// -- shared state -------------------------------------------------------------

// -- membership -------------------------------------------------------------

void cluster_node::state::publish_event(const member_event& e) {
  log::info(e.type,
            {{"member", e.node},
             {"incarnation", e.incarnation},
             {"state", to_string(e.state)},
             {"previous", e.previous ? to_string(*e.previous) : "none"}});
  if (events_counter)
    events_counter->Add({{"event", e.type}}).Increment();
  auto ev = std::make_shared<broadcast::event>();
  {
    std::lock_guard<std::mutex> guard{events_mtx};
    ev->seq = next_seq++;
    ev->type = e.type;
    ev->time_us = now_us();
    json::object data{{"type", e.type},
                      {"seq", ev->seq},
                      {"node", e.node},
                      {"incarnation", e.incarnation},
                      {"state", to_string(e.state)},
                      {"previous", e.previous
                                       ? json::value(to_string(*e.previous))
                                       : json::value(nullptr)},
                      {"time", now_rfc3339()},
                      {"observer", deps.node_name}};
    ev->data = json::serialize(data);
    events.push_back(ev);
    while (events.size() > 1000)
      events.pop_front();
  }
  if (deps.broadcaster)
    deps.broadcaster->publish("cluster", ev);
}

void cluster_node::state::connect_peers() {
  std::vector<member_row> up;
  std::vector<std::string> gone;
  {
    std::lock_guard<std::mutex> guard{view_mtx};
    for (auto& [name, m] : view.members()) {
      if (name == deps.node_name)
        continue;
      if (m.state == member_state::up)
        up.push_back(m.row);
      else if (m.state == member_state::down || m.state == member_state::left)
        gone.push_back(name);
    }
  }
  {
    std::lock_guard<std::mutex> guard{peers_mtx};
    for (auto& g : gone)
      peers.erase(g);
  }
  for (auto& r : up) {
    {
      std::lock_guard<std::mutex> guard{peers_mtx};
      auto i = peers.find(r.node);
      if (i != peers.end() && i->second->incarnation == r.incarnation &&
          i->second->agent)
        continue;
    }
    auto p = std::make_shared<peer>();
    p->incarnation = r.incarnation;
    try {
      p->tunnel = std::make_unique<tunnel_client>(r.cluster_host,
                                                  r.cluster_port, cfg.secret);
    } catch (const std::exception& e) {
      log::warn("cluster_connect_failed",
                {{"member", r.node}, {"error", e.what()}});
      continue;
    }
    auto remote = sys.middleman().remote_actor<agent_actor>(
        "127.0.0.1", p->tunnel->local_port());
    if (!remote) {
      log::warn(
          "cluster_connect_failed",
          {{"member", r.node},
           {"address", r.cluster_host + ":" + std::to_string(r.cluster_port)},
           {"error", sys.render(remote.error())}});
      continue;
    }
    p->agent = std::move(*remote);
    log::info(
        "cluster_connected",
        {{"member", r.node},
         {"address", r.cluster_host + ":" + std::to_string(r.cluster_port)}});
    std::lock_guard<std::mutex> guard{peers_mtx};
    peers[r.node] = std::move(p);
  }
}

void cluster_node::state::beat() {
  // One beat at a time against stop(): a beat that began before the node
  // left must not write the row back.
  std::lock_guard<std::mutex> beating{beat_mtx};
  if (stopped || !store || self.incarnation.empty())
    return;
  try {
    bool mine = store->heartbeat(self, cfg.down_after);
    if (!mine && !name_conflict)
      log::error("cluster_name_conflict",
                 {{"node", deps.node_name},
                  {"detail", "another live node has this name; this one "
                             "does not join until that one is gone"}});
    name_conflict = !mine;
  } catch (const std::exception& e) {
    lost_table(e);
    return;
  }
  observe_locked();
}

void cluster_node::state::observe() {
  std::lock_guard<std::mutex> beating{beat_mtx};
  if (stopped || !store || self.incarnation.empty())
    return;
  observe_locked();
}

void cluster_node::state::observe_locked() {
  try {
    auto rows = store->read();
    std::vector<member_event> evs;
    {
      std::lock_guard<std::mutex> guard{view_mtx};
      evs = view.observe(rows, steady::now());
      view_known = true;
      if (members_gauge)
        for (auto s2 : {member_state::up, member_state::unreachable,
                        member_state::down, member_state::left})
          members_gauge->Add({{"state", to_string(s2)}})
              .Set(static_cast<double>(view.count(s2)));
    }
    for (auto& e : evs)
      publish_event(e);
    connect_peers();
  } catch (const std::exception& e) {
    lost_table(e);
  }
}

void cluster_node::state::lost_table(const std::exception& e) {
  // The table is out of reach: judge nobody (docs/cluster.md).
  std::lock_guard<std::mutex> guard{view_mtx};
  if (view_known)
    log::warn("cluster_view_stale", {{"error", e.what()}});
  view_known = false;
}

// -- the agent
// ------------------------------------------------------------------

namespace {

agent_actor::behavior_type run_agent(agent_actor::pointer,
                                     std::shared_ptr<cluster_node::state> st) {
  return {
      [st](query_atom, const std::string& what, const std::string& args) {
        return to_wire(st->answer(what, args));
      },
  };
}

membership_actor::behavior_type
run_membership(membership_actor::pointer self,
               std::shared_ptr<cluster_node::state> st,
               inspect::actor_entry_ptr entry) {
  if (entry)
    entry->set_state("running");
  self->send(self, beat_atom::value);
  auto observe_every =
      std::max(st->cfg.heartbeat / 4, std::chrono::milliseconds{10});
  self->delayed_send(self, observe_every, observe_atom::value);
  return {
      [self, st, entry](beat_atom) {
        st->beat();
        if (entry)
          entry->on_message(0);
        if (!st->stopped)
          self->delayed_send(self, st->cfg.heartbeat, beat_atom::value);
      },
      [self, st, entry, observe_every](observe_atom) {
        st->observe();
        if (entry)
          entry->on_message(0);
        if (!st->stopped)
          self->delayed_send(self, observe_every, observe_atom::value);
      },
  };
}

} // namespace

// -- cluster_node
// ------------------------------------------------------------------

cluster_node::cluster_node(caf::actor_system& sys, cluster_config cfg,
                           shell_config shell, cluster_deps deps)
    : st_(std::make_shared<state>(sys, std::move(cfg), shell,
                                  std::move(deps))) {}

cluster_node::~cluster_node() {
  stop();
}

void cluster_node::start(std::string http_url) {
  auto& st = *st_;
  st.store = std::make_unique<member_store>(st.deps.dsn, 5s);
  st.agent = st.sys.spawn<caf::detached>(run_agent, st_);
  auto port = st.sys.middleman().publish(st.agent, 0, "127.0.0.1", true);
  if (!port)
    throw std::runtime_error("cluster: cannot publish the node agent: " +
                             st.sys.render(port.error()));
  st.mm_port = *port;
  st.gate = std::make_unique<tunnel_server>(st.cfg.host,
                                            static_cast<uint16_t>(st.cfg.port),
                                            st.mm_port, st.cfg.secret);
  st.self.node = st.deps.node_name;
  st.self.incarnation = make_uuid();
  st.self.roles = st.deps.roles;
  st.self.http_url = std::move(http_url);
  st.self.cluster_host =
      st.cfg.advertise_host.empty() ? st.cfg.host : st.cfg.advertise_host;
  st.self.cluster_port = st.gate->port();
  st.self.version = st.deps.version;
  st.self.started_at = now_rfc3339();
  log::info("cluster_port_open",
            {{"address", st.cfg.host + ":" + std::to_string(st.gate->port())},
             {"secret", !st.cfg.secret.empty()},
             {"incarnation", st.self.incarnation}});
}

supervision::child_spec cluster_node::membership_child() {
  auto st = st_;
  return {"cluster-membership", "membership",
          [st](caf::actor_system& sys, inspect::actor_entry_ptr entry) {
            return caf::actor_cast<caf::actor>(
                sys.spawn<caf::detached>(run_membership, st, std::move(entry)));
          }};
}

void cluster_node::stop() {
  auto& st = *st_;
  std::unique_lock<std::mutex> beating{st.beat_mtx};
  if (st.stopped.exchange(true))
    return;
  if (st.store && !st.self.incarnation.empty()) {
    try {
      st.store->leave(st.self.node, st.self.incarnation);
    } catch (const std::exception& e) {
      log::warn("cluster_leave_failed", {{"error", e.what()}});
    }
  }
  beating.unlock();
  {
    std::lock_guard<std::mutex> guard{st.peers_mtx};
    st.peers.clear();
  }
  if (st.agent) {
    st.sys.middleman().unpublish(st.agent, st.mm_port);
    caf::anon_send_exit(st.agent, caf::exit_reason::user_shutdown);
    st.agent = agent_actor{};
  }
  st.gate.reset();
}

boost::json::object cluster_node::members_json() const {
  auto& st = *st_;
  json::array out;
  bool known;
  {
    std::lock_guard<std::mutex> guard{st.view_mtx};
    known = st.view_known;
    auto now = steady::now();
    for (auto& [name, m] : st.view.members())
      out.emplace_back(json::object{
          {"node", name},
          {"incarnation", m.row.incarnation},
          {"roles", roles_json(m.row.roles)},
          {"http_url", m.row.http_url},
          {"cluster_address",
           m.row.cluster_host + ":" + std::to_string(m.row.cluster_port)},
          {"version", m.row.version},
          {"started_at", m.row.started_at},
          {"state", to_string(m.state)},
          {"last_heartbeat_ms", m.row.heartbeat_age.count()},
          {"state_for_ms",
           std::chrono::duration_cast<std::chrono::milliseconds>(now - m.since)
               .count()},
          {"self", name == st.deps.node_name}});
  }
  return json::object{{"self", st.deps.node_name},
                      {"view", known ? "current" : "stale"},
                      {"members", std::move(out)}};
}

node_answer cluster_node::ask_local(const std::string& what,
                                    const std::string& args) {
  return st_->answer(what, args);
}

node_answer cluster_node::ask(const std::string& node, const std::string& what,
                              const std::string& args) {
  auto& st = *st_;
  if (node == st.deps.node_name)
    return ask_local(what, args);
  {
    std::lock_guard<std::mutex> guard{st.view_mtx};
    auto* m = st.view.find(node);
    if (!m)
      return fail(node, "not_found", "no member " + node);
    if (m->state != member_state::up)
      return fail(
          node, "node_down",
          "node " + node + " is " + to_string(m->state) + " (last heartbeat " +
              std::to_string(m->row.heartbeat_age.count()) + " ms ago)");
  }
  agent_actor agent;
  {
    std::lock_guard<std::mutex> guard{st.peers_mtx};
    if (auto i = st.peers.find(node); i != st.peers.end())
      agent = i->second->agent;
  }
  if (!agent)
    return fail(node, "node_down", "not connected to node " + node + " yet");
  caf::scoped_actor self{st.sys};
  node_answer out;
  self->request(agent, st.cfg.request_timeout, query_atom::value, what, args)
      .receive([&](std::string& text) { out = from_wire(node, text); },
               [&](caf::error& e) {
                 out = fail(
                     node, e == caf::sec::request_timeout ? "timeout" : "error",
                     st.sys.render(e));
               });
  return out;
}

std::vector<node_answer> cluster_node::ask_all(const std::string& what,
                                               const std::string& args) {
  auto& st = *st_;
  std::vector<std::string> names;
  {
    std::lock_guard<std::mutex> guard{st.view_mtx};
    for (auto& [name, m] : st.view.members())
      if (m.state != member_state::left)
        names.push_back(name);
  }
  if (std::find(names.begin(), names.end(), st.deps.node_name) == names.end())
    names.push_back(st.deps.node_name);
  std::sort(names.begin(), names.end(), [&](auto& a, auto& b) {
    // This node first, then by name.
    if (a == st.deps.node_name || b == st.deps.node_name)
      return a == st.deps.node_name && b != st.deps.node_name;
    return a < b;
  });
  // In parallel: one thread per member (a handful), each bounded by the
  // request timeout.
  std::vector<node_answer> out(names.size());
  std::vector<std::thread> ts;
  for (size_t i = 0; i < names.size(); ++i)
    ts.emplace_back([&, i] { out[i] = ask(names[i], what, args); });
  for (auto& t : ts)
    t.join();
  return out;
}

broadcast::replay_result
cluster_node::replay_events(std::optional<uint64_t> after, size_t limit) const {
  auto& st = *st_;
  broadcast::replay_result r;
  std::lock_guard<std::mutex> guard{st.events_mtx};
  r.head = st.next_seq - 1;
  if (!after || *after >= r.head)
    return r; // (an id from the future: the hub answers reset)
  auto oldest = st.events.empty() ? r.head + 1 : st.events.front()->seq;
  if (*after + 1 < oldest) {
    r.reset = true;
    r.reason = "expired";
    return r;
  }
  for (auto& e : st.events)
    if (e->seq > *after) {
      if (r.events.size() == limit) {
        r.more = true;
        break;
      }
      r.events.push_back(e);
    }
  return r;
}

uint16_t cluster_node::port() const noexcept {
  return st_->gate ? st_->gate->port() : 0;
}

const std::string& cluster_node::name() const noexcept {
  return st_->deps.node_name;
}

} // namespace distiller::cluster
