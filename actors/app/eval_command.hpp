#pragma once

#include <memory>

#include <CLI/CLI.hpp>

/// `distiller eval retrieval --questions FILE.jsonl [--target URL]
/// [--top-k N] [--json]`: asks a node every question of the file
/// (search/evaluation.hpp for its format) and prints each question's rank
/// of its answering file, then recall@1/@3/@5 and MRR. Exit codes: 0 done,
/// 1 some question could not be asked (the node answered no 200), 2 bad
/// usage or an unreadable/malformed questions file (the message names the
/// line), 3 the node is unreachable.
namespace distiller::app {

class eval_command {
 public:
  explicit eval_command(CLI::App& app);
  ~eval_command();
  eval_command(const eval_command&) = delete;
  eval_command& operator=(const eval_command&) = delete;

  bool parsed() const;
  int run();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace distiller::app
