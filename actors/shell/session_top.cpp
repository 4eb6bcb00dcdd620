// The shell's session (session.hpp): `top`, `help` and completion.

#include "actors/shell/session.hpp"
#include "actors/shell/session_text.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <iomanip>
#include <ostream>
#include <thread>

#include <boost/json.hpp>

namespace distiller::shell {

namespace json = boost::json;

using namespace std::chrono_literals;
using detail::array_of;
using detail::field;
using detail::find_command;
using detail::positive;
using detail::print_table;
using detail::usage_error;

// -- top and help -------------------------------------------------------------

int session::top(const parsed& p) {
  int64_t interval = 2;
  if (!p.opt("interval").empty())
    interval = positive("--interval", p.opt("interval"), 1, 3600);
  // Not on a terminal, one frame unless asked for more.
  int64_t count = terminal_ && !p.json ? 0 : 1;
  if (!p.opt("count").empty())
    count = positive("--count", p.opt("count"), 1, 1000000);
  int worst = ok;
  interrupted = false;
  for (int64_t frame = 0; count == 0 || frame < count; ++frame) {
    if (frame > 0) {
      // At most one sample a second, whatever is asked; ends early on
      // Ctrl-C.
      auto until =
          std::chrono::steady_clock::now() + std::chrono::seconds{interval};
      while (std::chrono::steady_clock::now() < until && !interrupted)
        std::this_thread::sleep_for(50ms);
      if (interrupted)
        break;
    }
    json::object a, q;
    if (auto code = answer_object(
            client_.get("/cluster/actors?sort=mailbox&top=15"), a);
        code != ok)
      return code;
    if (auto code = answer_object(client_.get("/cluster/pools"), q); code != ok)
      return code;
    if (p.json) {
      out_ << json::serialize(json::object{{"actors", a["actors"]},
                                           {"pools", q["pools"]},
                                           {"errors", a["errors"]}})
           << "\n";
    } else {
      if (terminal_)
        out_ << "\x1b[H\x1b[2J";
      std::time_t now = std::time(nullptr);
      std::tm tm{};
      gmtime_r(&now, &tm);
      char buf[32];
      std::strftime(buf, sizeof buf, "%H:%M:%S", &tm);
      out_ << "distiller top — " << client_.address() << " — " << buf
           << " UTC — every " << interval << "s"
           << (terminal_ ? ", Ctrl-C ends" : "") << "\n\n";
      std::vector<std::vector<std::string>> rows;
      for (auto& x : array_of(q, "pools"))
        rows.push_back({field(x, "node"), field(x, "pool"), field(x, "size"),
                        field(x, "busy"), field(x, "processed_per_s"),
                        field(x, "failures"), field(x, "paused")});
      print_table(
          out_,
          {"NODE", "POOL", "SIZE", "BUSY", "PROCESSED/S", "FAILURES", "PAUSED"},
          rows);
      out_ << "\n";
      rows.clear();
      for (auto& x : array_of(a, "actors"))
        rows.push_back({field(x, "node"), field(x, "name"), field(x, "state"),
                        field(x, "mailbox"), field(x, "processed"),
                        field(x, "failures"), field(x, "restarts")});
      print_table(out_,
                  {"NODE", "ACTOR", "STATE", "MAILBOX", "PROCESSED", "FAILURES",
                   "RESTARTS"},
                  rows);
    }
    out_.flush();
    worst = std::max(worst, report_errors(a));
  }
  return worst;
}

int session::help(const parsed& p) {
  if (!p.args.empty()) {
    auto* c = find_command(p.args[0]);
    if (!c)
      throw usage_error("unknown command '" + p.args[0] + "'");
    out_ << c->name << (std::string{c->args}.empty() ? "" : " ") << c->args
         << "\n  " << c->summary << "\n"
         << (c->changes ? "  changes the cluster: needs shell.allow_write on "
                          "the node, and is logged (shell_command)\n"
                        : "")
         << "  --json prints the API's JSON answer\n";
    return ok;
  }
  out_ << "Commands (each asks every member of the cluster; add --json for "
          "the API's JSON):\n";
  for (auto& c : commands())
    out_ << "  " << std::left << std::setw(11) << c.name << c.summary
         << (c.changes ? " [changes]" : "") << "\n";
  out_ << "Commands are separated by ';'. Exit codes: 0 ok, 1 refused or "
          "failed, 2 usage, 3 node unreachable, 4 some members did not "
          "answer.\n";
  return ok;
}

// -- completion ---------------------------------------------------------------

void session::load_names() {
  if (names_loaded_)
    return;
  names_loaded_ = true;
  boost::system::error_code ec;
  auto a = client_.get("/cluster/actors");
  if (!a.unreachable && a.status == 200) {
    auto v = json::parse(a.body, ec);
    if (!ec && v.is_object())
      for (auto& x : array_of(v.as_object(), "actors"))
        actor_names_.push_back(field(x, "name"));
  }
  auto b = client_.get("/cluster/pools");
  if (!b.unreachable && b.status == 200) {
    auto v = json::parse(b.body, ec);
    if (!ec && v.is_object())
      for (auto& x : array_of(v.as_object(), "pools"))
        binding_names_.push_back(field(x, "pool"));
  }
  for (auto* xs : {&actor_names_, &binding_names_}) {
    std::sort(xs->begin(), xs->end());
    xs->erase(std::unique(xs->begin(), xs->end()), xs->end());
  }
}

std::vector<std::string>
session::complete(const std::vector<std::string>& before,
                  const std::string& word) {
  std::vector<std::string> pool;
  if (before.empty()) {
    for (auto& c : commands())
      pool.push_back(c.name);
  } else if (before.size() == 1) {
    auto* c = find_command(before[0]);
    if (!c)
      return {};
    std::string kind = c->completes;
    if (kind == "command") {
      for (auto& x : commands())
        pool.push_back(x.name);
    } else if (kind == "actor") {
      load_names();
      pool = actor_names_;
    } else if (kind == "binding" || kind == "pool") {
      load_names();
      pool = binding_names_;
    }
  }
  std::vector<std::string> out;
  for (auto& x : pool)
    if (x.rfind(word, 0) == 0)
      out.push_back(x);
  return out;
}

} // namespace distiller::shell
