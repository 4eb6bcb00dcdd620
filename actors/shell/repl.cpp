#include "actors/shell/repl.hpp"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <stdexcept>

#include <unistd.h>

#include <boost/json.hpp>
#include <editline/readline.h>

#include "actors/shell/session.hpp"

namespace distiller::shell {

namespace {

/// The session libedit's completion callback asks (one shell per process).
session* completing = nullptr;
std::vector<std::string> candidates;

char* next_candidate(const char*, int state) {
  static size_t i = 0;
  if (state == 0)
    i = 0;
  if (i < candidates.size())
    return strdup(candidates[i++].c_str());
  return nullptr;
}

char** complete_line(const char* text, int start, int) {
  rl_attempted_completion_over = 1;
  if (!completing)
    return nullptr;
  std::string before{rl_line_buffer, static_cast<size_t>(start)};
  // Only the command being typed: after the last ';'.
  if (auto semi = before.rfind(';'); semi != std::string::npos)
    before = before.substr(semi + 1);
  std::vector<std::string> words;
  try {
    auto cmds = split_commands(before);
    if (!cmds.empty())
      words = cmds.back();
  } catch (const std::invalid_argument&) {
    return nullptr;
  }
  candidates = completing->complete(words, text);
  if (candidates.empty())
    return nullptr;
  return rl_completion_matches(text, next_candidate);
}

void on_interrupt(int) {
  session::interrupted = true;
}

/// SIGINT ends a running `top` instead of the shell, while a command runs.
struct interrupt_guard {
  struct sigaction old {};
  interrupt_guard() {
    struct sigaction sa {};
    sa.sa_handler = on_interrupt;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old);
  }
  ~interrupt_guard() { sigaction(SIGINT, &old, nullptr); }
};

} // namespace

std::string node_from_data_dir(const std::string& data_dir) {
  std::ifstream in{data_dir + "/node.json"};
  std::stringstream text;
  text << in.rdbuf();
  boost::system::error_code ec;
  auto v = boost::json::parse(text.str(), ec);
  if (!ec && v.is_object()) {
    auto& o = v.as_object();
    auto* host = o.if_contains("http_host");
    auto* port = o.if_contains("http_port");
    if (host && host->is_string() && port && port->is_number())
      return std::string{host->as_string()} + ":" +
             std::to_string(port->to_number<int64_t>());
  }
  return "127.0.0.1:8000";
}

int run_shell(const shell_options& opts) {
  std::unique_ptr<api_client> client;
  try {
    client = std::make_unique<api_client>(
        opts.node, std::chrono::milliseconds{opts.timeout_ms});
    client->set_token(opts.token);
  } catch (const std::invalid_argument& e) {
    std::cerr << "distiller shell: " << e.what() << "\n";
    return usage;
  }
  session s{*client, opts.json, std::cout, std::cerr};
  if (opts.command_given)
    return s.run_line(opts.command);

  if (!isatty(STDIN_FILENO)) {
    // Commands on stdin (a here-document, a pipe): one line each.
    int worst = ok;
    std::string line;
    while (!s.quit_requested() && std::getline(std::cin, line))
      worst = std::max(worst, s.run_line(line));
    return worst;
  }

  s.set_terminal(isatty(STDOUT_FILENO) != 0);
  completing = &s;
  rl_attempted_completion_function = complete_line;
  rl_readline_name = const_cast<char*>("distiller");
  using_history();
  stifle_history(1000);
  if (!opts.history_file.empty())
    read_history(opts.history_file.c_str());
  // The first answer says whether the node is there at all.
  auto probe = client->get("/cluster");
  if (probe.unreachable)
    std::cerr << "warning: " << probe.detail
              << " (commands will fail until it answers)\n";
  std::cout << "distiller shell — " << client->address()
            << " — help lists the commands, Tab completes, Ctrl-D leaves\n";
  std::string prompt = "distiller " + client->address() + "> ";
  while (!s.quit_requested()) {
    char* raw = readline(prompt.c_str());
    if (!raw) {
      std::cout << "\n";
      break;
    }
    std::string line{raw};
    std::free(raw);
    if (line.find_first_not_of(" \t") == std::string::npos)
      continue;
    add_history(line.c_str());
    if (!opts.history_file.empty())
      write_history(opts.history_file.c_str());
    interrupt_guard guard;
    s.run_line(line);
  }
  completing = nullptr;
  // Each command's failure was printed where it happened; leaving is fine.
  return ok;
}

} // namespace distiller::shell
