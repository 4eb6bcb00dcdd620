#pragma once

#include <atomic>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "actors/shell/api_client.hpp"

/// The inspection shell's commands (docs/cluster.md, "The shell"): each
/// parses its words, asks the node it talks to over the /cluster API
/// (which asks every member), and prints a table, or with --json the API's
/// JSON body as it came.
///
/// Where it runs: the shell's thread. Nothing is sampled between commands:
/// a shell nobody types into costs the cluster nothing.
namespace distiller::shell {

/// Exit codes of a command, and of `distiller shell -c` (the worst one).
enum exit_code : int {
  ok = 0,
  /// The node answered with an error (refused, not found, …).
  failed = 1,
  /// The command line was wrong (unknown command, bad argument).
  usage = 2,
  /// The node the shell talks to could not be reached.
  unreachable = 3,
  /// An answer came, but some members did not answer (listed on stderr).
  partial = 4,
};

struct command_info {
  const char* name;
  const char* args;
  const char* summary;
  /// What its first argument names, for completion: "actor", "binding",
  /// "pool", "command" or "".
  const char* completes;
  bool changes;
};

/// Every command, in the order `help` lists them.
const std::vector<command_info>& commands();

/// Splits a line into commands at `;` and each into words (whitespace;
/// "…" and '…' quote). Throws std::invalid_argument on an open quote.
std::vector<std::vector<std::string>> split_commands(const std::string& line);

class session {
 public:
  session(api_client client, bool json, std::ostream& out, std::ostream& err);

  /// Runs every command of `line`; returns the worst exit code. Empty
  /// lines return ok.
  int run_line(const std::string& line);

  /// Runs one command (its words).
  int run(const std::vector<std::string>& words);

  /// Candidates for the word being typed: command names first, then the
  /// names the command's argument takes (asked from the node once a
  /// session, on first use).
  std::vector<std::string> complete(const std::vector<std::string>& before,
                                    const std::string& word);

  /// `quit` or `exit` was run.
  bool quit_requested() const noexcept { return quit_; }

  /// Set from a signal handler to end `top`.
  static std::atomic<bool> interrupted;

  /// `top` redraws on a terminal (clears the screen); plain frames
  /// otherwise.
  void set_terminal(bool yes) noexcept { terminal_ = yes; }

 private:
  struct parsed;
  using table_fn = std::function<void(const boost::json::object&)>;
  /// GETs `target`; prints the body (--json) or `table` of it.
  int view(const std::string& target, const parsed& p, const table_fn& table);
  /// POSTs `body` to `target` (a changing command).
  int change(const std::string& target, const std::string& body,
             const parsed& p);
  int dispatch(const parsed& p);
  int top(const parsed& p);
  int help(const parsed& p);
  /// Prints the answer's "errors" to err; returns partial if there were.
  int report_errors(const boost::json::object& body);
  /// The exit code and message of an answer that is not a 200.
  int fail_answer(const api_answer& a);
  /// `out` = the JSON object of a 200 answer and ok, or the exit code of
  /// what went wrong (printed).
  int answer_object(const api_answer& a, boost::json::object& out);
  /// The answer's body as it came, on one line of its own.
  void print_body(const api_answer& a);
  void load_names();

  api_client client_;
  bool json_;
  std::ostream& out_;
  std::ostream& err_;
  bool quit_ = false;
  bool terminal_ = false;
  std::vector<std::string> actor_names_;
  std::vector<std::string> binding_names_;
  bool names_loaded_ = false;
};

} // namespace distiller::shell
