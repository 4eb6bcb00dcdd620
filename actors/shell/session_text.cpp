// The shell's words (session_text.hpp): the command table, splitting a
// line into commands, and the text helpers the commands print with.

#include "actors/shell/session_text.hpp"

#include <algorithm>
#include <ctime>
#include <iomanip>
#include <sstream>
#include <stdexcept>

namespace distiller::shell {

namespace json = boost::json;

// -- words --------------------------------------------------------------------

namespace {

const std::vector<command_info> all_commands{
    {"nodes", "", "every member: state, roles, uptime, last heartbeat", "",
     false},
    {"actors",
     "[--node N] [--role R] [--sort mailbox|processed|failures|restarts] "
     "[--top K]",
     "every node's actors", "", false},
    {"pools", "", "every pool: size, busy, processed/s, failures", "", false},
    {"partitions", "[BINDING]",
     "per partition: owner node, committed, high watermark, lag, paused",
     "binding", false},
    {"lag", "", "lag per binding (consumer group and topic)", "", false},
    {"inspect", "ACTOR", "every field of an actor and its recent errors",
     "actor", false},
    {"top", "[--interval SECONDS] [--count N]",
     "a refreshing view of the busiest actors and the pools (at most once a "
     "second; q or Ctrl-C ends it)",
     "", false},
    {"trace", "TRACE_ID", "which actors and records carried a trace id", "",
     false},
    {"restart", "ACTOR [--node N]", "restart a supervised actor", "actor",
     true},
    {"pause", "BINDING [--node N]", "stop handing records to a binding's pool",
     "binding", true},
    {"resume", "BINDING [--node N]", "resume a paused binding", "binding",
     true},
    {"scale", "POOL N [--node N]", "change a pool's size (1..1024)", "pool",
     true},
    {"send", "ACTOR MESSAGE [--node N]",
     "send a documented message: tick (outbox-relay), reconcile (reconciler), "
     "janitor (thought-janitor), heads (thought-stream-watcher), watchtick "
     "(job-watcher)",
     "actor", true},
    {"help", "[COMMAND]", "list the commands, or one command's use", "command",
     false},
    {"quit", "", "leave the shell (also exit, Ctrl-D)", "", false},
};

} // namespace

namespace detail {

const command_info* find_command(const std::string& name) {
  for (auto& c : all_commands)
    if (name == c.name)
      return &c;
  if (name == "exit")
    return find_command("quit");
  return nullptr;
}

// -- json helpers -------------------------------------------------------------

std::string text(const json::value* v) {
  if (!v)
    return "";
  if (v->is_string())
    return std::string{v->as_string()};
  if (v->is_int64())
    return std::to_string(v->as_int64());
  if (v->is_uint64())
    return std::to_string(v->as_uint64());
  if (v->is_double()) {
    std::ostringstream s;
    s << std::fixed << std::setprecision(1) << v->as_double();
    return s.str();
  }
  if (v->is_bool())
    return v->as_bool() ? "yes" : "no";
  if (v->is_null())
    return "-";
  if (v->is_array()) {
    std::string out;
    for (auto& x : v->as_array())
      out += (out.empty() ? "" : ",") + text(&x);
    return out;
  }
  return json::serialize(*v);
}

std::string field(const json::value& row, const char* key) {
  if (!row.is_object())
    return "";
  return text(row.as_object().if_contains(key));
}

const json::array& array_of(const json::object& body, const char* key) {
  static const json::array empty;
  auto* v = body.if_contains(key);
  return v && v->is_array() ? v->as_array() : empty;
}

/// Columns padded to their widest cell; numbers right-aligned.
void print_table(std::ostream& out, const std::vector<std::string>& head,
                 const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(head.size());
  for (size_t i = 0; i < head.size(); ++i)
    width[i] = head[i].size();
  for (auto& r : rows)
    for (size_t i = 0; i < r.size() && i < width.size(); ++i)
      width[i] = std::max(width[i], r[i].size());
  auto numeric = [](const std::string& s) {
    return !s.empty() && s.find_first_not_of("0123456789.-") == s.npos;
  };
  auto line = [&](const std::vector<std::string>& cells) {
    std::string l;
    for (size_t i = 0; i < cells.size(); ++i) {
      auto pad =
          std::string(width[i] - std::min(width[i], cells[i].size()), ' ');
      bool last = i + 1 == cells.size();
      l += numeric(cells[i]) ? pad + cells[i] : cells[i] + (last ? "" : pad);
      if (!last)
        l += "  ";
    }
    out << l << "\n";
  };
  line(head);
  for (auto& r : rows)
    line(r);
}

/// Seconds since `rfc3339` (UTC, as the nodes write it), or -1.
int64_t age_s(const std::string& rfc3339) {
  std::tm tm{};
  std::istringstream in{rfc3339};
  in >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%S");
  if (in.fail())
    return -1;
  auto t = timegm(&tm);
  return static_cast<int64_t>(std::time(nullptr) - t);
}

std::string duration_text(int64_t s) {
  if (s < 0)
    return "?";
  if (s < 120)
    return std::to_string(s) + "s";
  if (s < 7200)
    return std::to_string(s / 60) + "m";
  if (s < 172800)
    return std::to_string(s / 3600) + "h" + std::to_string(s / 60 % 60) + "m";
  return std::to_string(s / 86400) + "d";
}

int64_t positive(const std::string& what, const std::string& v, int64_t lo,
                 int64_t hi) {
  size_t used = 0;
  int64_t n = 0;
  try {
    n = std::stoll(v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != v.size() || n < lo || n > hi)
    throw usage_error(what + " must be an integer in " + std::to_string(lo) +
                      ".." + std::to_string(hi) + ", not '" + v + "'");
  return n;
}

} // namespace detail

const std::vector<command_info>& commands() {
  return all_commands;
}

std::vector<std::vector<std::string>> split_commands(const std::string& line) {
  std::vector<std::vector<std::string>> out(1);
  std::string word;
  bool in_word = false;
  char quote = 0;
  auto end_word = [&] {
    if (in_word)
      out.back().push_back(word);
    word.clear();
    in_word = false;
  };
  for (char c : line) {
    if (quote) {
      if (c == quote)
        quote = 0;
      else
        word += c;
    } else if (c == '"' || c == '\'') {
      quote = c;
      in_word = true;
    } else if (c == ';') {
      end_word();
      out.emplace_back();
    } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      end_word();
    } else {
      word += c;
      in_word = true;
    }
  }
  if (quote)
    throw std::invalid_argument(std::string{"unclosed "} + quote + " quote");
  end_word();
  out.erase(
      std::remove_if(out.begin(), out.end(), [](auto& c) { return c.empty(); }),
      out.end());
  return out;
}

} // namespace distiller::shell
