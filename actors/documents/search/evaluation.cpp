#include "actors/documents/search/evaluation.hpp"

#include <algorithm>
#include <stdexcept>

#include <boost/json.hpp>

namespace distiller::documents::search {

namespace json = boost::json;

std::vector<eval_question> parse_questions(std::string_view jsonl) {
  std::vector<eval_question> out;
  size_t line_no = 0;
  while (!jsonl.empty()) {
    ++line_no;
    auto nl = jsonl.find('\n');
    auto line = jsonl.substr(0, nl);
    jsonl.remove_prefix(nl == std::string_view::npos ? jsonl.size() : nl + 1);
    auto first = line.find_first_not_of(" \t\r");
    if (first == std::string_view::npos || line[first] == '#')
      continue;
    auto where = "line " + std::to_string(line_no) + ": ";
    boost::system::error_code ec;
    auto v = json::parse(line, ec);
    if (ec || !v.is_object())
      throw std::invalid_argument(where + "not a JSON object");
    auto& o = v.as_object();
    auto text = [&](const char* key) -> const json::string* {
      auto* x = o.if_contains(key);
      return x && x->is_string() ? &x->as_string() : nullptr;
    };
    auto* q = text("question");
    auto* s = text("source") ? text("source") : text("file");
    if (!q || q->empty())
      throw std::invalid_argument(where + "no \"question\" string");
    if (!s || s->empty())
      throw std::invalid_argument(where + "no \"source\" string (the file "
                                          "that answers the question)");
    out.push_back({std::string{*q}, std::string{*s}, line_no});
  }
  return out;
}

int rank_of_source(const std::vector<std::string>& filenames,
                   const std::string& source) {
  std::vector<std::string> seen;
  for (auto& f : filenames) {
    if (std::find(seen.begin(), seen.end(), f) != seen.end())
      continue;
    seen.push_back(f);
    if (f == source)
      return static_cast<int>(seen.size());
  }
  return 0;
}

eval_summary summarize(const std::vector<int>& ranks, size_t failed) {
  eval_summary s;
  s.questions = ranks.size();
  s.failed = failed;
  if (ranks.empty())
    return s;
  for (int r : ranks) {
    s.recall_at_1 += r == 1;
    s.recall_at_3 += r >= 1 && r <= 3;
    s.recall_at_5 += r >= 1 && r <= 5;
    s.mrr += r > 0 ? 1.0 / r : 0.0;
  }
  auto n = static_cast<double>(ranks.size());
  s.recall_at_1 /= n;
  s.recall_at_3 /= n;
  s.recall_at_5 /= n;
  s.mrr /= n;
  return s;
}

} // namespace distiller::documents::search
