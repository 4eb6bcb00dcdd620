#include "actors/shell/session.hpp"
#include "actors/shell/session_text.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <iomanip>
#include <map>
#include <ostream>
#include <set>
#include <stdexcept>

#include <boost/json.hpp>

namespace distiller::shell {

namespace json = boost::json;

std::atomic<bool> session::interrupted{false};

using namespace std::chrono_literals;
using detail::age_s;
using detail::array_of;
using detail::duration_text;
using detail::field;
using detail::find_command;
using detail::positive;
using detail::print_table;
using detail::usage_error;

namespace {

/// The options each command takes (all take --json).
const std::map<std::string, std::set<std::string>> command_options{
    {"actors", {"node", "role", "sort", "top"}},
    {"top", {"interval", "count"}},
    {"restart", {"node"}},
    {"pause", {"node"}},
    {"resume", {"node"}},
    {"scale", {"node"}},
    {"send", {"node"}},
};

size_t positional_count(const std::string& name, size_t& optional) {
  optional = 0;
  if (name == "partitions" || name == "help") {
    optional = 1;
    return 0;
  }
  if (name == "inspect" || name == "trace" || name == "restart" ||
      name == "pause" || name == "resume")
    return 1;
  if (name == "scale" || name == "send")
    return 2;
  return 0;
}

} // namespace

session::session(api_client client, bool json, std::ostream& out,
                 std::ostream& err)
    : client_(std::move(client)), json_(json), out_(out), err_(err) {}

int session::run_line(const std::string& line) {
  std::vector<std::vector<std::string>> cmds;
  try {
    cmds = split_commands(line);
  } catch (const std::invalid_argument& e) {
    err_ << "error: " << e.what() << "\n";
    return usage;
  }
  int worst = ok;
  for (auto& words : cmds) {
    worst = std::max(worst, run(words));
    if (quit_)
      break;
  }
  return worst;
}

int session::run(const std::vector<std::string>& words) {
  if (words.empty())
    return ok;
  parsed p;
  p.json = json_;
  try {
    p.cmd = find_command(words[0]);
    if (!p.cmd)
      throw usage_error("unknown command '" + words[0] +
                        "' (help lists the commands)");
    std::string name = p.cmd->name;
    auto allowed = command_options.count(name) ? command_options.at(name)
                                               : std::set<std::string>{};
    for (size_t i = 1; i < words.size(); ++i) {
      auto& w = words[i];
      if (w == "--json") {
        p.json = true;
      } else if (w.rfind("--", 0) == 0 && w.size() > 2) {
        auto eq = w.find('=');
        auto key = w.substr(2, eq == w.npos ? w.npos : eq - 2);
        if (!allowed.count(key))
          throw usage_error(name + " has no option --" + key + " (help " +
                            name + ")");
        std::string value;
        if (eq != w.npos)
          value = w.substr(eq + 1);
        else if (i + 1 < words.size())
          value = words[++i];
        else
          throw usage_error("--" + key + " needs a value");
        p.opts[key] = value;
      } else {
        p.args.push_back(w);
      }
    }
    size_t optional = 0;
    auto required = positional_count(name, optional);
    if (p.args.size() < required || p.args.size() > required + optional)
      throw usage_error("usage: " + name + " " + p.cmd->args);
    return dispatch(p);
  } catch (const usage_error& e) {
    err_ << "error: " << e.what() << "\n";
    return usage;
  }
}

int session::dispatch(const parsed& p) {
  std::string name = p.cmd->name;
  if (name == "quit") {
    quit_ = true;
    return ok;
  }
  if (name == "help")
    return help(p);
  if (name == "top")
    return top(p);
  if (name == "nodes")
    return view("/cluster", p, [this](const json::object& body) {
      std::vector<std::vector<std::string>> rows;
      for (auto& m : array_of(body, "members")) {
        auto self = m.as_object().if_contains("self");
        rows.push_back(
            {field(m, "node") +
                 (self && self->is_bool() && self->as_bool() ? " *" : ""),
             field(m, "state"), field(m, "roles"),
             duration_text(age_s(field(m, "started_at"))),
             field(m, "last_heartbeat_ms") + " ms", field(m, "http_url"),
             field(m, "version")});
      }
      print_table(
          out_,
          {"NODE", "STATE", "ROLES", "UPTIME", "HEARTBEAT", "HTTP", "VERSION"},
          rows);
      if (field(body, "view") == "stale")
        err_ << "warning: the membership view is stale (the node cannot "
                "read the members table)\n";
    });
  if (name == "actors") {
    std::string q;
    for (auto k : {"node", "role", "sort", "top"})
      if (!p.opt(k).empty())
        q += (q.empty() ? "?" : "&") + std::string{k} + "=" +
             url_encode(p.opt(k));
    return view("/cluster/actors" + q, p, [this](const json::object& body) {
      std::vector<std::vector<std::string>> rows;
      for (auto& a : array_of(body, "actors"))
        rows.push_back({field(a, "node"), field(a, "name"), field(a, "role"),
                        field(a, "state"), field(a, "mailbox"),
                        field(a, "processed"), field(a, "failures"),
                        field(a, "restarts")});
      print_table(out_,
                  {"NODE", "ACTOR", "ROLE", "STATE", "MAILBOX", "PROCESSED",
                   "FAILURES", "RESTARTS"},
                  rows);
    });
  }
  if (name == "pools")
    return view("/cluster/pools", p, [this](const json::object& body) {
      std::vector<std::vector<std::string>> rows;
      for (auto& x : array_of(body, "pools"))
        rows.push_back({field(x, "node"), field(x, "pool"), field(x, "size"),
                        field(x, "busy"), field(x, "processed_per_s"),
                        field(x, "processed"), field(x, "failures"),
                        field(x, "paused"), field(x, "state")});
      print_table(out_,
                  {"NODE", "POOL", "SIZE", "BUSY", "PROCESSED/S", "PROCESSED",
                   "FAILURES", "PAUSED", "STATE"},
                  rows);
    });
  if (name == "partitions") {
    std::string q = p.args.empty() ? "" : "?binding=" + url_encode(p.args[0]);
    return view("/cluster/partitions" + q, p, [this](const json::object& body) {
      std::vector<std::vector<std::string>> rows;
      for (auto& x : array_of(body, "partitions"))
        rows.push_back({field(x, "binding"), field(x, "partition"),
                        field(x, "node"), field(x, "committed"),
                        field(x, "high_watermark"), field(x, "lag"),
                        field(x, "paused")});
      print_table(out_,
                  {"BINDING", "PARTITION", "OWNER", "COMMITTED",
                   "HIGH_WATERMARK", "LAG", "PAUSED"},
                  rows);
    });
  }
  if (name == "lag")
    return view("/cluster/lag", p, [this](const json::object& body) {
      std::vector<std::vector<std::string>> rows;
      for (auto& x : array_of(body, "lag"))
        rows.push_back({field(x, "binding"), field(x, "partitions"),
                        field(x, "lag"), field(x, "unknown")});
      print_table(out_, {"BINDING", "PARTITIONS", "LAG", "UNKNOWN"}, rows);
    });
  if (name == "inspect")
    return view("/cluster/actors/" + url_encode(p.args[0]), p,
                [this](const json::object& body) {
                  bool first = true;
                  for (auto& a : array_of(body, "actors")) {
                    if (!first)
                      out_ << "\n";
                    first = false;
                    for (auto k :
                         {"node", "name", "role", "parent", "state", "mailbox",
                          "processed", "failures", "restarts"})
                      out_ << std::left << std::setw(11)
                           << (std::string{k} + ":") << field(a, k) << "\n";
                    auto& errs = array_of(a.as_object(), "recent_errors");
                    out_ << "recent errors: " << errs.size() << "\n";
                    for (auto& e : errs)
                      out_ << "  " << field(e, "time") << "  "
                           << field(e, "text") << "\n";
                  }
                });
  if (name == "trace")
    return view(
        "/cluster/trace/" + url_encode(p.args[0]), p,
        [this, &p](const json::object& body) {
          auto& entries = array_of(body, "entries");
          if (entries.empty()) {
            out_ << "no entries for trace " << p.args[0]
                 << " (the rings keep the last few thousand)\n";
            return;
          }
          std::vector<std::vector<std::string>> rows;
          for (auto& e : entries) {
            auto us = e.as_object().if_contains("time_us");
            std::string when;
            if (us && us->is_int64()) {
              auto t = static_cast<std::time_t>(us->as_int64() / 1000000);
              std::tm tm{};
              gmtime_r(&t, &tm);
              char buf[32];
              std::strftime(buf, sizeof buf, "%H:%M:%S", &tm);
              char ms[8];
              std::snprintf(ms, sizeof ms, ".%03d",
                            static_cast<int>(us->as_int64() / 1000 % 1000));
              when = std::string{buf} + ms;
            }
            rows.push_back({when, field(e, "node"), field(e, "actor"),
                            field(e, "what"), field(e, "detail")});
          }
          print_table(out_, {"TIME", "NODE", "ACTOR", "WHAT", "DETAIL"}, rows);
        });
  // Changing commands.
  std::string node_q =
      p.opt("node").empty() ? "" : "?node=" + url_encode(p.opt("node"));
  auto subject = url_encode(p.args[0]);
  if (name == "restart")
    return change("/cluster/actors/" + subject + "/restart" + node_q, "{}", p);
  if (name == "pause" || name == "resume")
    return change("/cluster/bindings/" + subject + "/" + name + node_q, "{}",
                  p);
  if (name == "scale") {
    auto n = positive("N", p.args[1], 1, 1024);
    return change("/cluster/pools/" + subject + "/scale" + node_q,
                  json::serialize(json::object{{"size", n}}), p);
  }
  if (name == "send")
    return change("/cluster/actors/" + subject + "/send" + node_q,
                  json::serialize(json::object{{"message", p.args[1]}}), p);
  throw usage_error("unknown command '" + name + "'");
}

// -- talking to the node ------------------------------------------------------

int session::fail_answer(const api_answer& a) {
  if (a.unreachable) {
    err_ << "error: " << a.detail << "\n";
    return unreachable;
  }
  boost::system::error_code ec;
  auto v = json::parse(a.body, ec);
  if (json_ && !ec)
    print_body(a);
  std::string detail = a.body;
  if (!ec && v.is_object()) {
    auto& o = v.as_object();
    detail = field(o, "detail");
    if (auto code = field(o, "error"); !code.empty())
      detail = code + ": " + detail;
  }
  err_ << "error: HTTP " << a.status << ": " << detail << "\n";
  return failed;
}

int session::report_errors(const json::object& body) {
  auto& errs = array_of(body, "errors");
  for (auto& e : errs)
    err_ << "warning: node " << field(e, "node") << " did not answer ("
         << field(e, "error") << "): " << field(e, "detail") << "\n";
  return errs.empty() ? ok : partial;
}

int session::answer_object(const api_answer& a, json::object& out) {
  if (a.unreachable || a.status != 200)
    return fail_answer(a);
  boost::system::error_code ec;
  auto v = json::parse(a.body, ec);
  if (ec || !v.is_object()) {
    err_ << "error: the node's answer is not a JSON object\n";
    return failed;
  }
  out = std::move(v.as_object());
  return ok;
}

void session::print_body(const api_answer& a) {
  out_ << a.body << (a.body.empty() || a.body.back() != '\n' ? "\n" : "");
}

int session::view(const std::string& target, const parsed& p,
                  const table_fn& table) {
  auto a = client_.get(target);
  json::object body;
  if (auto code = answer_object(a, body); code != ok)
    return code;
  if (p.json)
    print_body(a);
  else
    table(body);
  return report_errors(body);
}

int session::change(const std::string& target, const std::string& body_text,
                    const parsed& p) {
  auto a = client_.post(target, body_text);
  json::object body;
  if (auto code = answer_object(a, body); code != ok)
    return code;
  if (p.json) {
    print_body(a);
  } else {
    for (auto& r : array_of(body, "results")) {
      std::string what = p.cmd->name;
      out_ << field(r, "node") << ": " << what << " " << p.args[0];
      if (what == "scale")
        out_ << " → size " << field(r, "size");
      out_ << " done\n";
    }
  }
  return report_errors(body);
}

} // namespace distiller::shell
