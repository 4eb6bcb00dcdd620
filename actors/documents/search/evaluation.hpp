#pragma once

/// Retrieval evaluation on a user's own corpus (`distiller eval retrieval`,
/// docs/document-pipeline.md "Measuring search on your documents"): a set of
/// questions, each with the file that answers it, asked of a node; for each
/// the 1-based rank of that file among the distinct files of the answer's
/// sources, and over all of them recall@1/@3/@5 and the mean reciprocal
/// rank. The parts here are pure (parsing, ranking, summing); the command
/// does the HTTP.
///
/// Questions file: JSON Lines, one object per line,
///   {"question": "How do starfish open mussels?", "source": "tidepools.pdf"}
/// (`file` is accepted for `source`); blank lines and lines starting with
/// `#` are skipped.
///
/// Threads: pure functions. Failure: parse_questions throws
/// std::invalid_argument naming the line and what is wrong with it.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace distiller::documents::search {

struct eval_question {
  std::string question;
  std::string source;
  /// 1-based line in the file, for messages.
  size_t line = 0;
};

std::vector<eval_question> parse_questions(std::string_view jsonl);

/// 1-based rank of `source` among the distinct `filenames` (in answer
/// order, each file counted at its first source); 0 when absent.
int rank_of_source(const std::vector<std::string>& filenames,
                   const std::string& source);

struct eval_summary {
  size_t questions = 0;
  size_t failed = 0; // requests without a 200 answer (counted as rank 0)
  double recall_at_1 = 0, recall_at_3 = 0, recall_at_5 = 0, mrr = 0;
};

/// Sums per-question ranks (0 = not found) into the summary.
eval_summary summarize(const std::vector<int>& ranks, size_t failed);

} // namespace distiller::documents::search
