// What a node's agent answers (cluster_node_state.hpp): the questions of
// the shell and the /cluster routes — actors, bridges and their partitions,
// pools, traces — and the changes they ask for (restart, send, pause,
// resume …).

#include <chrono>
#include <string>

#include <boost/json.hpp>
#include <caf/all.hpp>

#include "actors/cluster/cluster_node_state.hpp"
#include "runtime/core/type_ids.hpp"
#include "runtime/logging/log.hpp"

namespace distiller::cluster {

namespace json = boost::json;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;
using detail::fail;

namespace {

/// The message names `send` may deliver, and to whom they make sense.
struct sendable {
  const char* message;
  const char* what;
};

constexpr sendable sendables[] = {
    {"tick", "wakes the outbox relay (outbox-relay)"},
    {"reconcile", "runs a reconciler round now (reconciler)"},
    {"janitor", "runs a thought janitor round now (thought-janitor)"},
    {"heads", "runs a stream watcher round now (thought-stream-watcher)"},
    {"watchtick", "runs a job watcher round now (job-watcher)"},
};

node_answer ok(const std::string& node, const json::value& v) {
  node_answer a;
  a.node = node;
  a.ok = true;
  a.body = json::serialize(v);
  return a;
}

json::object parse_args(const std::string& args) {
  boost::system::error_code ec;
  auto v = json::parse(args, ec);
  if (ec || !v.is_object())
    return {};
  return std::move(v.as_object());
}

std::string text_arg(const json::object& o, const char* key) {
  auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string{v->as_string()} : std::string{};
}

} // namespace

std::vector<std::pair<std::string, caf::actor>> cluster_node::state::bridges() {
  std::vector<std::pair<std::string, caf::actor>> out;
  auto root = deps.root ? deps.root() : caf::actor{};
  if (!root)
    return out;
  caf::scoped_actor self{sys};
  std::vector<std::string> names;
  self->request(root, 2s, atoms::children_atom_v)
      .receive([&](std::vector<std::string>& xs) { names = std::move(xs); },
               [](caf::error&) {});
  for (auto& n : names) {
    static constexpr std::string_view suffix = "-bridge";
    if (n.size() <= suffix.size() ||
        n.compare(n.size() - suffix.size(), suffix.size(), suffix) != 0)
      continue;
    self->request(root, 2s, atoms::child_atom_v, n)
        .receive(
            [&](caf::actor& a) {
              out.emplace_back(n.substr(0, n.size() - suffix.size()),
                               std::move(a));
            },
            [](caf::error&) {});
  }
  return out;
}

std::optional<kafka::source_stats>
cluster_node::state::stats_of(const caf::actor& bridge) {
  caf::scoped_actor self{sys};
  std::optional<kafka::source_stats> out;
  self->request(bridge, 2s, atoms::stats_atom_v)
      .receive([&](kafka::source_stats& s) { out = std::move(s); },
               [](caf::error&) {});
  return out;
}

caf::actor cluster_node::state::root_child(const std::string& name) {
  auto root = deps.root ? deps.root() : caf::actor{};
  if (!root)
    return {};
  caf::scoped_actor self{sys};
  caf::actor out;
  self->request(root, 2s, atoms::child_atom_v, name)
      .receive([&](caf::actor& a) { out = std::move(a); }, [](caf::error&) {});
  return out;
}

json::object cluster_node::state::actor_json(const inspect::actor_snapshot& a,
                                             bool errors) {
  json::object o{{"node", deps.node_name}, {"name", a.name},
                 {"role", a.role},         {"parent", a.parent},
                 {"mailbox", a.mailbox},   {"processed", a.processed},
                 {"failures", a.failures}, {"restarts", a.restarts},
                 {"state", a.state}};
  if (errors) {
    json::array errs;
    for (auto& e : a.recent_errors)
      errs.emplace_back(json::object{{"time", e.time}, {"text", e.text}});
    o["recent_errors"] = std::move(errs);
  }
  return o;
}

node_answer cluster_node::state::answer(const std::string& what,
                                        const std::string& args_text) {
  auto& me = deps.node_name;
  auto args = parse_args(args_text);
  if (what == "actors") {
    json::array out;
    for (auto& a : deps.actors->snapshot())
      out.emplace_back(actor_json(a, false));
    return ok(me, out);
  }
  if (what == "inspect") {
    auto name = text_arg(args, "actor");
    for (auto& a : deps.actors->snapshot())
      if (a.name == name)
        return ok(me, actor_json(a, true));
    return fail(me, "not_found", "no actor " + name + " on " + me);
  }
  if (what == "pools" || what == "partitions") {
    json::array out;
    auto only = text_arg(args, "binding");
    std::vector<std::pair<std::string, caf::actor>> chosen;
    for (auto& b : bridges())
      if (only.empty() || b.first == only)
        chosen.push_back(b);
    std::vector<std::optional<kafka::source_stats>> stats;
    for (auto& b : chosen)
      stats.push_back(stats_of(b.second));
    std::vector<double> rates(chosen.size(), -1);
    if (what == "pools") {
      auto now = steady::now();
      bool again = false;
      std::unique_lock<std::mutex> guard{samples_mtx};
      for (size_t i = 0; i < chosen.size(); ++i) {
        auto j = samples.find(chosen[i].first);
        if (stats[i] && j != samples.end() && now - j->second.second < 60s &&
            now - j->second.second > 100ms)
          rates[i] =
              static_cast<double>(stats[i]->processed - j->second.first) /
              std::chrono::duration<double>(now - j->second.second).count();
        else if (stats[i])
          again = true;
      }
      guard.unlock();
      if (again) {
        // No recent sample of some: one second sample of those, half a
        // second later (once for all of them).
        auto t0 = steady::now();
        std::this_thread::sleep_for(500ms);
        auto dt = std::chrono::duration<double>(steady::now() - t0).count();
        for (size_t i = 0; i < chosen.size(); ++i)
          if (stats[i] && rates[i] < 0)
            if (auto s2 = stats_of(chosen[i].second)) {
              rates[i] =
                  static_cast<double>(s2->processed - stats[i]->processed) / dt;
              stats[i] = std::move(s2);
            }
      }
      guard.lock();
      for (size_t i = 0; i < chosen.size(); ++i)
        if (stats[i])
          samples[chosen[i].first] = {stats[i]->processed, steady::now()};
    }
    for (size_t i = 0; i < chosen.size(); ++i) {
      auto& binding = chosen[i].first;
      auto& s = stats[i];
      if (!s)
        continue;
      if (what == "pools") {
        out.emplace_back(
            json::object{{"node", me},
                         {"pool", binding},
                         {"size", s->pool_size},
                         {"busy", s->busy_workers},
                         {"processed", s->processed},
                         {"processed_per_s", rates[i] < 0 ? 0.0 : rates[i]},
                         {"failures", s->failed_attempts},
                         {"retried", s->retried},
                         {"dead_lettered", s->dead_lettered},
                         {"in_flight", s->in_flight},
                         {"paused", s->operator_paused},
                         {"state", s->state}});
      } else {
        for (auto& p : s->partitions)
          out.emplace_back(json::object{{"node", me},
                                        {"binding", binding},
                                        {"partition", p.partition},
                                        {"committed", p.committed},
                                        {"high_watermark", p.high_watermark},
                                        {"position", p.position},
                                        {"lag", p.lag},
                                        {"paused", p.paused}});
      }
    }
    return ok(me, out);
  }
  if (what == "trace") {
    json::array out;
    if (deps.trace)
      for (auto& e : deps.trace->find(text_arg(args, "trace_id")))
        out.emplace_back(json::object{{"node", me},
                                      {"time_us", e.time_us},
                                      {"actor", e.actor},
                                      {"what", e.what},
                                      {"detail", e.detail}});
    return ok(me, out);
  }
  if (what == "restart" || what == "pause" || what == "resume" ||
      what == "scale" || what == "send")
    return change(what, args);
  return fail(me, "invalid_argument", "unknown question '" + what + "'");
}

node_answer cluster_node::state::change(const std::string& what,
                                        const json::object& args) {
  auto& me = deps.node_name;
  auto subject = text_arg(args, what == "restart" || what == "send" ? "actor"
                                : what == "scale"                   ? "pool"
                                                  : "binding");
  log::warn("shell_command", {{"command", what},
                              {"subject", subject},
                              {"args", json::serialize(args)},
                              {"allowed", shell.allow_write},
                              {"node", me}});
  if (!shell.allow_write)
    return fail(me, "forbidden",
                "shell.allow_write is off on node " + me +
                    ": changing commands are refused");
  caf::scoped_actor self{sys};
  caf::error err;
  auto wait = [&](auto&& handle) {
    handle.receive([] {}, [&](caf::error& e) { err = std::move(e); });
  };
  if (what == "restart") {
    auto root = deps.root ? deps.root() : caf::actor{};
    if (!root || !root_child(subject))
      return fail(me, "not_found",
                  "no supervised actor " + subject + " under root on " + me);
    self->request(root, 10s, atoms::restart_atom_v, subject)
        .receive([] {}, [&](caf::error& e) { err = std::move(e); });
  } else if (what == "send") {
    auto target = root_child(subject);
    if (!target)
      return fail(me, "not_found",
                  "no supervised actor " + subject + " under root on " + me);
    auto msg = text_arg(args, "message");
    if (msg == "tick")
      caf::anon_send(target, atoms::tick_atom_v);
    else if (msg == "reconcile")
      caf::anon_send(target, atoms::reconcile_atom_v);
    else if (msg == "janitor")
      caf::anon_send(target, atoms::janitor_atom_v);
    else if (msg == "heads")
      caf::anon_send(target, atoms::heads_atom_v);
    else if (msg == "watchtick")
      caf::anon_send(target, atoms::watch_tick_atom_v);
    else {
      std::string known;
      for (auto& s : sendables)
        known += (known.empty() ? "" : ", ") + std::string{s.message};
      return fail(me, "invalid_argument",
                  "message '" + msg + "' is not one of " + known);
    }
  } else {
    caf::actor bridge;
    for (auto& [binding, a] : bridges())
      if (binding == subject)
        bridge = a;
    if (!bridge)
      return fail(me, "not_found", "no binding " + subject + " on " + me);
    if (what == "pause")
      wait(self->request(bridge, 10s, atoms::pause_atom_v));
    else if (what == "resume")
      wait(self->request(bridge, 10s, atoms::resume_atom_v));
    else {
      auto* size = args.if_contains("size");
      if (!size || !size->is_int64())
        return fail(me, "invalid_argument", "size must be an integer");
      int32_t n = static_cast<int32_t>(size->as_int64());
      int32_t got = 0;
      self->request(bridge, 10s, atoms::scale_atom_v, n)
          .receive([&](int32_t x) { got = x; },
                   [&](caf::error& e) { err = std::move(e); });
      if (!err)
        return ok(me,
                  json::object{{"node", me}, {"pool", subject}, {"size", got}});
    }
  }
  if (err)
    return fail(me, "error", caf::to_string(err));
  return ok(me,
            json::object{{"node", me}, {"done", what}, {"subject", subject}});
}

} // namespace distiller::cluster
