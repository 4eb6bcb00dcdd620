// The classify agent: lexicon and rules score five categories; a softmax
// turns the scores into probabilities.

#include <array>
#include <cmath>
#include <initializer_list>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/array.hpp>

#include "actors/thoughts/agents/builtin.hpp"
#include "actors/thoughts/agents/detail/actions.hpp"
#include "actors/thoughts/agents/detail/agents.hpp"
#include "actors/thoughts/agents/detail/lexicon.hpp"

namespace distiller::thoughts::detail {

namespace {

enum category : size_t { idea, task, question, concern, reflection };

constexpr std::array<const char*, 5> category_names{"idea", "task", "question",
                                                    "concern", "reflection"};

/// With no cue at all a thought is a reflection, by a small margin.
constexpr double reflection_prior = 0.5;
constexpr size_t max_signals = 12;

struct cue {
  category target;
  double weight;
  const char* label;
  std::string_view phrase; // space-separated folded words, or CJK text
};

// Phrases are matched as whole words in one sentence; CJK cues (no spaces
// in the language) as substrings.
constexpr cue cues[] = {
    // ideas
    {idea, 2.5, "idea phrase", "could we"},
    {idea, 2.0, "idea phrase", "we could"},
    {idea, 2.5, "idea phrase", "how about"},
    {idea, 1.5, "idea phrase", "what about"},
    {idea, 2.0, "idea phrase", "why not"},
    {idea, 2.0, "idea phrase", "maybe we"},
    {idea, 1.5, "idea phrase", "maybe i"},
    {idea, 1.5, "idea phrase", "i could"},
    {idea, 2.5, "idea phrase", "wouldn't it be"},
    {idea, 1.5, "idea phrase", "would be cool"},
    {idea, 1.5, "idea phrase", "would be nice"},
    {idea, 1.5, "idea phrase", "would be great"},
    {idea, 1.5, "idea phrase", "would be fun"},
    {idea, 1.5, "idea phrase", "would be interesting"},
    {idea, 2.0, "idea word", "idea"},
    {idea, 2.0, "idea word", "ideas"},
    {idea, 1.5, "idea word", "imagine"},
    {idea, 1.5, "idea word", "brainstorm"},
    {idea, 1.5, "idea word", "invent"},
    {idea, 1.0, "idea word", "concept"},
    {idea, 1.0, "idea word", "prototype"},
    {idea, 1.0, "idea word", "startup"},
    {idea, 1.5, "idea phrase", "side project"},
    {idea, 1.0, "idea word", "experiment"},
    {idea, 1.0, "idea word", "suggestion"},
    {idea, 1.0, "idea word", "propose"},
    {idea, 1.5, "idea phrase", "new feature"},
    {idea, 0.5, "idea word", "perhaps"},
    {idea, 0.5, "idea word", "maybe"},
    {idea, 2.0, "idea word", "idee"},
    {idea, 2.5, "idea phrase", "was wäre wenn"},
    {idea, 2.0, "idea phrase", "wir könnten"},
    {idea, 2.0, "idea word", "idée"},
    {idea, 2.5, "idea phrase", "et si"},
    {idea, 2.0, "idea phrase", "on pourrait"},
    {idea, 2.0, "idea word", "アイデア"},
    {idea, 2.0, "idea word", "アイディア"},
    // tasks, beyond the action cues
    {task, 0.5, "request", "please"},
    {task, 1.5, "to-do word", "todo"},
    {task, 1.0, "task word", "deadline"},
    {task, 1.5, "obligation", "muss"},
    {task, 1.5, "obligation", "müssen"},
    {task, 1.5, "obligation", "sollte"},
    {task, 1.5, "reminder", "nicht vergessen"},
    {task, 1.5, "obligation", "dois"},
    {task, 1.5, "obligation", "doit"},
    {task, 1.5, "obligation", "faut"},
    {task, 1.5, "obligation", "devons"},
    {task, 1.5, "reminder", "n'oublie pas"},
    {task, 1.5, "obligation", "しなければ"},
    {task, 1.5, "obligation", "する必要"},
    {task, 1.5, "request", "ください"},
    // concerns, beyond the worry words
    {concern, 1.5, "worry phrase", "can't afford"},
    {concern, 1.5, "worry phrase", "cannot afford"},
    {concern, 1.5, "worry phrase", "what if something goes wrong"},
    {concern, 1.0, "worry phrase", "not sure i can"},
    // questions, beyond the question mark and wh-words
    {question, 1.0, "wondering", "i wonder"},
    {question, 1.0, "wondering", "wondering"},
    {question, 1.0, "uncertainty", "not sure whether"},
    {question, 1.0, "uncertainty", "not sure if"},
    {question, 1.5, "asking", "does anyone know"},
    {question, 1.0, "asking", "any idea"},
    {question, 0.5, "curiosity", "curious"},
    {question, 1.0, "asking", "how do i"},
    {question, 1.0, "asking", "how can i"},
    {question, 1.0, "asking", "est-ce que"},
    {question, 1.0, "asking", "なぜ"},
    {question, 1.0, "asking", "でしょうか"},
    // reflections
    {reflection, 2.0, "reflection phrase", "i realised"},
    {reflection, 2.0, "reflection phrase", "i realized"},
    {reflection, 2.0, "reflection phrase", "i learned"},
    {reflection, 2.0, "reflection phrase", "i learnt"},
    {reflection, 2.0, "reflection phrase", "i've learned"},
    {reflection, 1.5, "reflection phrase", "today i"},
    {reflection, 1.5, "reflection phrase", "today was"},
    {reflection, 1.5, "reflection phrase", "yesterday i"},
    {reflection, 1.5, "reflection phrase", "i feel"},
    {reflection, 1.5, "reflection phrase", "i felt"},
    {reflection, 1.5, "reflection phrase", "i noticed"},
    {reflection, 2.0, "reflection phrase", "looking back"},
    {reflection, 2.0, "reflection phrase", "in hindsight"},
    {reflection, 1.5, "reflection phrase", "i've been thinking"},
    {reflection, 1.5, "reflection phrase", "remember when"},
    {reflection, 1.0, "reflection phrase", "i used to"},
    {reflection, 1.0, "reflection phrase", "i wish"},
    {reflection, 0.5, "reflection phrase", "i think"},
    {reflection, 0.5, "reflection phrase", "i was"},
    {reflection, 1.5, "gratitude", "grateful"},
    {reflection, 1.5, "gratitude", "thankful"},
    {reflection, 1.0, "reflection word", "lesson"},
    {reflection, 2.0, "reflection word", "reflecting"},
    {reflection, 1.0, "reflection word", "proud"},
    {reflection, 2.0, "reflection phrase", "ich habe gelernt"},
    {reflection, 2.0, "reflection phrase", "mir ist aufgefallen"},
    {reflection, 2.0, "reflection phrase", "j'ai appris"},
    {reflection, 2.0, "reflection phrase", "気づいた"},
    {reflection, 1.5, "reflection phrase", "感じた"},
};

/// A question word of English or of the thought's language ("was" is
/// German for "what" but an English verb).
bool is_wh_word(std::string_view w, std::string_view language) {
  auto any = [&](std::initializer_list<std::string_view> list) {
    for (std::string_view q : list)
      if (w == q)
        return true;
    return false;
  };
  if (any({"what", "why", "how", "when", "where", "who", "which", "whom",
           "whose"}))
    return true;
  if (language == "de")
    return any({"warum", "wieso", "weshalb", "wie", "was", "wann", "wo", "wer",
                "welche", "welcher", "welches"});
  if (language == "fr")
    return any({"pourquoi", "comment", "quand", "où", "qui", "quel", "quelle",
                "quoi"});
  if (language == "es")
    return any({"qué", "cómo", "dónde", "cuándo", "quién", "cuál"});
  return false;
}

bool is_auxiliary(std::string_view w) {
  for (std::string_view q :
       {"is",      "are",    "am",    "was",   "were",     "do",     "does",
        "did",     "can",    "could", "would", "will",     "shall",  "should",
        "may",     "might",  "have",  "has",   "isn't",    "aren't", "don't",
        "doesn't", "didn't", "can't", "won't", "shouldn't"})
    if (w == q)
      return true;
  return false;
}

bool is_cjk_phrase(std::string_view phrase) {
  return !phrase.empty() && static_cast<unsigned char>(phrase[0]) >= 0xE3;
}

class scorer {
 public:
  void add(category c, double weight, std::string signal) {
    if (!seen_.insert(signal).second)
      return; // each distinct signal counts once
    scores_[c] += weight;
    signals_.push_back(std::move(signal));
  }

  boost::json::object result(bool empty) const {
    std::array<double, 5> raw = scores_;
    raw[reflection] += reflection_prior;
    double top_raw = raw[0];
    for (double x : raw)
      top_raw = std::max(top_raw, x);
    std::array<double, 5> p{};
    double sum = 0;
    for (size_t i = 0; i < p.size(); ++i) {
      p[i] = std::exp(raw[i] - top_raw); // shifted: no overflow
      sum += p[i];
    }
    size_t best = 0;
    for (size_t i = 0; i < p.size(); ++i) {
      p[i] = round_to(p[i] / sum);
      if (p[i] > p[best])
        best = i;
    }
    // Rounded scores still sum to 1: the best takes a positive remainder,
    // the lowest a negative one, so the best stays the best.
    size_t lowest = 0;
    double total = 0;
    for (size_t i = 0; i < p.size(); ++i) {
      total += p[i];
      if (p[i] < p[lowest])
        lowest = i;
    }
    const double rest = 1.0 - total;
    const size_t taker = rest >= 0 ? best : lowest;
    p[taker] = round_to(std::max(0.0, p[taker] + rest));
    double second = 0;
    for (size_t i = 0; i < p.size(); ++i)
      if (i != best)
        second = std::max(second, p[i]);
    boost::json::object scores;
    for (size_t i = 0; i < p.size(); ++i)
      scores[category_names[i]] = p[i];
    boost::json::array signals;
    for (size_t i = 0; i < signals_.size() && i < max_signals; ++i)
      signals.emplace_back(signals_[i]);
    if (signals.empty())
      signals.emplace_back(empty ? "empty text"
                                 : "no strong cues: reflection by default");
    boost::json::object out;
    out["category"] = category_names[best];
    // A near tie between the top two halves the confidence.
    out["confidence"] = round_to(clamp01(p[best] - second / 2));
    out["scores"] = std::move(scores);
    out["signals"] = std::move(signals);
    return out;
  }

 private:
  std::array<double, 5> scores_{};
  std::vector<std::string> signals_;
  std::set<std::string> seen_;
};

/// "what if" is an idea ("what if we…") unless a worry or negative word
/// follows it in the sentence ("what if the demo crashes").
void score_what_if(const prepared_thought& p, size_t i, size_t last,
                   scorer& s) {
  for (size_t k = i + 2; k < last; ++k) {
    if (worry_weight(p.words[k].folded) > 0 ||
        polarity(p.words[k].folded) < 0) {
      s.add(concern, 2.5,
            "worried 'what if … " + text::to_lower(p.words[k].text) + "'");
      return;
    }
  }
  s.add(idea, 2.5, "idea phrase 'what if'");
}

void score_sentence(const prepared_thought& p, size_t index, scorer& s) {
  const auto& sentence = p.sentences[index];
  const auto [first, last] = p.sentence_words[index];
  const bool asks = is_question(sentence);
  if (asks)
    s.add(question, 2.0, "question mark");
  if (first < last) {
    const std::string& head = p.words[first].folded;
    const bool idea_head = phrase_at(p, first, last, "what if") ||
                           phrase_at(p, first, last, "how about") ||
                           phrase_at(p, first, last, "what about") ||
                           phrase_at(p, first, last, "why not") ||
                           phrase_at(p, first, last, "could we");
    if (!idea_head && is_wh_word(head, p.language))
      s.add(question, 1.0, "wh-word '" + head + "'");
    else if (!idea_head && asks && is_auxiliary(head))
      s.add(question, 0.5, "question form '" + head + "'");
  }
  // Japanese questions end in the particle か.
  std::string_view t = sentence.text;
  if (t.ends_with("。"))
    t.remove_suffix(3);
  if (t.ends_with("か") && p.language == "ja")
    s.add(question, 1.5, "question particle 'か'");
  const std::string folded = text::fold_case(sentence.text);
  for (size_t i = first; i < last; ++i) {
    const std::string& w = p.words[i].folded;
    if (phrase_at(p, i, last, "what if"))
      score_what_if(p, i, last, s);
    if (const double weight = worry_weight(w); weight > 0)
      s.add(concern, weight, "worry word '" + w + "'");
    else if (polarity(w) < 0)
      s.add(concern, 0.5, "negative word '" + w + "'");
    bool cued = false;
    for (const auto& c : cues)
      if (!is_cjk_phrase(c.phrase) && phrase_at(p, i, last, c.phrase)) {
        s.add(c.target, c.weight,
              std::string(c.label) + " '" + std::string(c.phrase) + "'");
        cued = true;
      }
    // "I walked", "I finished": the writer tells what happened.
    if (!cued && w == "i" && i + 1 < last && spaces_only_after(p, i)) {
      const std::string& next = p.words[i + 1].folded;
      if (next.size() > 4 && next.ends_with("ed"))
        s.add(reflection, 0.5, "past tense 'i " + next + "'");
    }
  }
  for (const auto& c : cues)
    if (is_cjk_phrase(c.phrase) && folded.find(c.phrase) != std::string::npos)
      s.add(c.target, c.weight,
            std::string(c.label) + " '" + std::string(c.phrase) + "'");
}

} // namespace

boost::json::object classify(const prepared_thought& p) {
  scorer s;
  for (size_t i = 0; i < p.sentences.size(); ++i)
    score_sentence(p, i, s);
  // Action items (imperatives, obligations, intentions) make a task.
  for (const auto& a : find_actions(p))
    s.add(task, a.strength == action_strength::weak ? 1.0 : 2.0, a.cue);
  for (const auto& d : p.dates) {
    if (d.deadline)
      s.add(task, 1.0, "deadline '" + text::to_lower(d.phrase) + "'");
    else if (d.date && p.reference && *d.date > *p.reference)
      s.add(task, 0.5, "date '" + text::to_lower(d.text) + "'");
  }
  return s.result(p.words.empty() && p.sentences.empty());
}

} // namespace distiller::thoughts::detail

namespace distiller::thoughts {

boost::json::object classify_thought(const agent_input& in) {
  return detail::classify(detail::prepare(in.text, in.created_at));
}

} // namespace distiller::thoughts
