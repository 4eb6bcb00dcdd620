#include "actors/app/eval_command.hpp"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "actors/app/auth_command.hpp"
#include "actors/documents/search/evaluation.hpp"
#include "actors/shell/api_client.hpp"

namespace distiller::app {

namespace json = boost::json;
namespace search = documents::search;

struct eval_command::impl {
  CLI::App* retrieval = nullptr;
  std::string questions;
  std::string target = "http://127.0.0.1:8000";
  int top_k = 5;
  bool as_json = false;
  int timeout_ms = 30000;
  std::string token;
};

eval_command::eval_command(CLI::App& app) : impl_(std::make_unique<impl>()) {
  auto* eval = app.add_subcommand(
      "eval", "Measure the node's answers on your own questions");
  eval->require_subcommand(1);
  auto* r = eval->add_subcommand(
      "retrieval", "Ask a node each question of a JSON Lines file "
                   "({\"question\": …, \"source\": FILE}) and print the rank "
                   "of each answering file, recall@1/3/5 and MRR");
  r->add_option("--questions", impl_->questions,
                "The questions file (JSON Lines)")
      ->required();
  r->add_option("--target", impl_->target,
                "The node: http://HOST:PORT (default http://127.0.0.1:8000)");
  r->add_option("--top-k", impl_->top_k, "Sources asked per question (1–100)")
      ->check(CLI::Range(1, 100));
  r->add_flag("--json", impl_->as_json,
              "Print the result as JSON (per question and summary)");
  r->add_option("--timeout-ms", impl_->timeout_ms, "Per question");
  r->add_option("--token", impl_->token,
                "API token for a node that requires one (default: "
                "$DISTILLER_TOKEN)");
  impl_->retrieval = r;
}

eval_command::~eval_command() = default;

bool eval_command::parsed() const {
  return impl_->retrieval->parsed();
}

int eval_command::run() {
  auto& o = *impl_;
  std::ifstream in{o.questions};
  if (!in) {
    std::fprintf(stderr, "distiller eval: cannot read %s\n",
                 o.questions.c_str());
    return 2;
  }
  std::stringstream text;
  text << in.rdbuf();
  std::vector<search::eval_question> questions;
  try {
    questions = search::parse_questions(text.str());
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "distiller eval: %s: %s\n", o.questions.c_str(),
                 e.what());
    return 2;
  }
  if (questions.empty()) {
    std::fprintf(stderr, "distiller eval: %s has no questions\n",
                 o.questions.c_str());
    return 2;
  }
  std::unique_ptr<shell::api_client> client;
  try {
    client = std::make_unique<shell::api_client>(
        o.target, std::chrono::milliseconds{o.timeout_ms});
    client->set_token(token_or_env(o.token));
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "distiller eval: --target: %s\n", e.what());
    return 2;
  }
  std::vector<int> ranks;
  size_t failed = 0;
  json::array rows;
  if (!o.as_json)
    std::printf("%4s  %-28s %s\n", "rank", "source", "question");
  for (auto& q : questions) {
    auto answer = client->post(
        "/api/v2/query", json::serialize(json::object{{"question", q.question},
                                                      {"top_k", o.top_k}}));
    if (answer.unreachable) {
      std::fprintf(stderr, "distiller eval: %s is unreachable: %s\n",
                   client->address().c_str(), answer.detail.c_str());
      return 3;
    }
    int rank = 0;
    std::string error;
    if (answer.status == 200) {
      std::vector<std::string> files;
      boost::system::error_code ec;
      auto v = json::parse(answer.body, ec);
      if (!ec && v.is_object())
        if (auto* srcs = v.as_object().if_contains("sources");
            srcs && srcs->is_array())
          for (auto& src : srcs->as_array())
            if (auto* f = src.is_object()
                              ? src.as_object().if_contains("filename")
                              : nullptr;
                f && f->is_string())
              files.emplace_back(f->as_string());
      rank = search::rank_of_source(files, q.source);
    } else {
      ++failed;
      error = "HTTP " + std::to_string(answer.status) + ": " +
              answer.body.substr(0, 200);
    }
    ranks.push_back(rank);
    if (o.as_json) {
      json::object row{{"line", q.line},
                       {"question", q.question},
                       {"source", q.source},
                       {"rank", rank}};
      if (!error.empty())
        row["error"] = error;
      rows.push_back(std::move(row));
    } else {
      std::printf("%4s  %-28s %s%s\n",
                  rank ? std::to_string(rank).c_str() : "-", q.source.c_str(),
                  q.question.c_str(),
                  error.empty() ? "" : ("  (" + error + ")").c_str());
    }
  }
  auto s = search::summarize(ranks, failed);
  if (o.as_json) {
    std::printf("%s\n",
                json::serialize(json::object{{"target", client->address()},
                                             {"top_k", o.top_k},
                                             {"questions", s.questions},
                                             {"failed", s.failed},
                                             {"recall_at_1", s.recall_at_1},
                                             {"recall_at_3", s.recall_at_3},
                                             {"recall_at_5", s.recall_at_5},
                                             {"mrr", s.mrr},
                                             {"ranks", std::move(rows)}})
                    .c_str());
  } else {
    std::printf("\n%zu questions against %s (top_k %d): recall@1 %.3f  "
                "recall@3 %.3f  recall@5 %.3f  MRR %.3f%s\n",
                s.questions, client->address().c_str(), o.top_k, s.recall_at_1,
                s.recall_at_3, s.recall_at_5, s.mrr,
                s.failed ? ("; " + std::to_string(s.failed) +
                            " question(s) not answered")
                               .c_str()
                         : "");
  }
  return s.failed ? 1 : 0;
}

} // namespace distiller::app
