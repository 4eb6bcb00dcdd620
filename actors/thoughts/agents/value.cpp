// The value agent: importance, urgency and actionability from the
// classification, the analysis, the action items and cue words; every
// change to a score is recorded as a reason.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <initializer_list>
#include <optional>
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

namespace json = boost::json;

constexpr size_t max_reasons = 16;

/// Words that raise the stakes: health, money, law, close people.
constexpr std::string_view stakes_words[] = {
    "doctor",     "hospital", "health",     "medical", "diagnosis", "surgery",
    "medication", "rent",     "tax",        "taxes",   "bill",      "bills",
    "invoice",    "payment",  "mortgage",   "loan",    "debt",      "salary",
    "contract",   "lawyer",   "legal",      "court",   "visa",      "passport",
    "insurance",  "bank",     "family",     "kids",    "child",     "children",
    "mom",        "mum",      "dad",        "wife",    "husband",   "partner",
    "boss",       "client",   "customer",   "manager", "job",       "exam",
    "interview",  "security", "production", "outage",  "safety"};

constexpr std::string_view importance_words[] = {
    "important", "importantly", "crucial", "critical",    "essential",
    "vital",     "serious",     "major",   "significant", "priority",
    "wichtig",   "important",   "重要"};

constexpr std::string_view downplay_phrases[] = {
    "just a thought", "not important",  "not a big deal", "no big deal",
    "doesn't matter", "random thought", "minor",          "trivial",
    "low priority",   "nicht wichtig",  "pas important",  "nothing serious"};

constexpr std::string_view no_hurry_phrases[] = {
    "someday",         "some day",  "eventually",    "no rush",
    "no hurry",        "whenever",  "at some point", "one day",
    "in the long run", "long term", "irgendwann",    "un jour"};

constexpr std::string_view urgent_phrases[] = {
    "as soon as possible", "right away", "right now", "time sensitive"};

std::string signed2(double x) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%+.2f", x);
  return buf;
}

std::string fixed2(double x) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.2f", x);
  return buf;
}

/// One score and the reasons it moved.
class dimension {
 public:
  dimension(const char* name, double base, std::vector<std::string>& reasons)
      : name_(name), value_(base), reasons_(reasons) {}

  void add(double delta, const std::string& why) {
    if (std::abs(delta) < 0.005)
      return;
    value_ += delta;
    reasons_.push_back(std::string(name_) + " " + signed2(delta) + ": " + why);
  }

  double value() const { return round_to(clamp01(value_)); }

 private:
  const char* name_;
  double value_;
  std::vector<std::string>& reasons_;
};

std::string string_field(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

double number_field(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  json::error_code ec;
  const double x = v ? v->to_number<double>(ec) : 0.0;
  return v && !ec && std::isfinite(x) ? x : 0.0;
}

const json::array* array_field(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v ? v->if_array() : nullptr;
}

/// When the thought is due, in days after the reference day, and the
/// phrase that says so: the earliest day on or after the reference day
/// among the actions' due dates and deadline phrases ("by Friday") and,
/// when `any_date` (a task or a concern), every date of the analysis. A
/// reflection's "today" is no deadline.
std::optional<std::pair<int, std::string>>
first_due(const prepared_thought& p, const std::vector<action_item>& actions,
          const json::object& analysis, bool any_date) {
  if (!p.reference)
    return std::nullopt;
  std::optional<std::pair<int, std::string>> best;
  auto consider = [&](std::chrono::sys_days day, std::string_view text) {
    if (day < *p.reference)
      return;
    const int in_days = int((day - *p.reference).count());
    if (!best || in_days < best->first)
      best.emplace(in_days, std::string(text));
  };
  for (const auto& a : actions)
    if (a.due && a.due->date)
      consider(*a.due->date, a.due->phrase);
  for (const auto& m : p.dates)
    if (m.deadline && m.date)
      consider(*m.date, m.phrase);
  if (!any_date)
    return best;
  if (const auto* dates = array_field(analysis, "dates")) {
    for (const auto& d : *dates) {
      const auto* o = d.if_object();
      if (!o)
        continue;
      if (const auto day = parse_iso_date(string_field(*o, "date")))
        consider(*day, string_field(*o, "text"));
    }
  }
  return best;
}

/// The distinct phrases of `list` in the thought (at most `max`).
template <size_t N>
std::vector<std::string_view> present(const prepared_thought& p,
                                      const std::string_view (&list)[N],
                                      size_t max) {
  std::vector<std::string_view> out;
  for (std::string_view phrase : list) {
    if (out.size() == max)
      break;
    if (find_phrase(p, phrase))
      out.push_back(phrase);
  }
  return out;
}

/// Words of `list` used in the thought, not negated ("not important").
template <size_t N>
std::vector<std::string_view> used_words(const prepared_thought& p,
                                         const std::string_view (&list)[N],
                                         size_t max) {
  std::vector<std::string_view> out;
  std::set<std::string_view> seen;
  for (size_t i = 0; i < p.words.size() && out.size() < max; ++i) {
    const std::string_view w = lexeme(p.words[i].folded);
    for (std::string_view candidate : list) {
      if (w != candidate || !seen.insert(candidate).second)
        continue;
      if (i > 0 && is_negator(p.words[i - 1].folded))
        continue;
      out.push_back(candidate);
    }
  }
  return out;
}

std::string quoted_list(const std::vector<std::string_view>& words) {
  std::string out;
  for (const auto& w : words)
    out += (out.empty() ? "'" : ", '") + std::string(w) + "'";
  return out;
}

} // namespace

boost::json::object value(const prepared_thought& p,
                          const boost::json::object& classification,
                          const boost::json::object& analysis) {
  std::vector<std::string> reasons;
  const std::string category = string_field(classification, "category");
  const double confidence = clamp01(number_field(classification, "confidence"));
  const std::string confident =
      category + " (confidence " + fixed2(confidence) + ")";
  const json::object* sentiment = nullptr;
  if (const auto* v = analysis.if_contains("sentiment"))
    sentiment = v->if_object();
  const double mood = sentiment ? number_field(*sentiment, "score") : 0.0;
  const auto actions = find_actions(p);
  const auto due = first_due(p, actions, analysis,
                             category == "task" || category == "concern");
  const json::array* entities = array_field(analysis, "entities");
  std::string person;
  bool organisation = false;
  if (entities) {
    for (const auto& e : *entities) {
      const auto* o = e.if_object();
      if (!o)
        continue;
      const std::string type = string_field(*o, "type");
      if (type == "person" && person.empty())
        person = string_field(*o, "text");
      organisation = organisation || type == "organization";
    }
  }

  // -- importance ------------------------------------------------------------
  dimension importance("importance", 0.3, reasons);
  {
    double weight = 0;
    if (category == "concern")
      weight = 0.3;
    else if (category == "task")
      weight = 0.2;
    else if (category == "idea")
      weight = 0.15;
    else if (category == "question")
      weight = 0.1;
    importance.add(weight * confidence, confident);
    if (mood < 0) {
      importance.add(0.25 * -mood, "negative sentiment (" + fixed2(mood) + ")");
      if (category == "concern")
        importance.add(0.1, "negative sentiment in a concern");
    }
    const auto strong = used_words(p, importance_words, 2);
    if (!strong.empty())
      importance.add(0.15 * double(strong.size()),
                     "importance words " + quoted_list(strong));
    const auto stakes = used_words(p, stakes_words, 4);
    if (!stakes.empty())
      importance.add(0.08 * double(stakes.size()),
                     "stakes words " + quoted_list(stakes));
    if (!person.empty() || organisation)
      importance.add(0.05, person.empty()
                               ? "names an organization"
                               : "names a person ('" + person + "')");
    const auto downplay = present(p, downplay_phrases, 2);
    if (!downplay.empty())
      importance.add(-0.15 * double(downplay.size()),
                     "downplayed " + quoted_list(downplay));
    if (p.words.size() < 4)
      importance.add(-0.1, "very short thought (" +
                               std::to_string(p.words.size()) + " words)");
    else if (p.words.size() > 60)
      importance.add(0.05, "detailed thought (" +
                               std::to_string(p.words.size()) + " words)");
  }

  // -- urgency ---------------------------------------------------------------
  dimension urgency("urgency", 0.1, reasons);
  {
    if (due) {
      const int d = due->first;
      const double delta = d <= 0    ? 0.6
                           : d == 1  ? 0.5
                           : d <= 3  ? 0.4
                           : d <= 7  ? 0.3
                           : d <= 14 ? 0.2
                           : d <= 31 ? 0.1
                                     : 0.0;
      const std::string when = d == 0 ? "due today"
                               : d == 1
                                   ? "due tomorrow"
                                   : "due in " + std::to_string(d) + " days";
      urgency.add(delta, when + " ('" + due->second + "')");
    } else {
      for (const auto& m : p.dates)
        if (m.deadline && !m.date) {
          urgency.add(0.2, "deadline '" + m.phrase + "'");
          break;
        }
    }
    std::vector<std::string_view> urgent;
    std::set<std::string> seen;
    for (const auto& w : p.words)
      if (is_urgent_word(w.folded) && urgent.size() < 2 &&
          seen.insert(w.folded).second)
        urgent.push_back(w.folded);
    for (auto phrase : present(p, urgent_phrases, 2))
      if (urgent.size() < 2)
        urgent.push_back(phrase);
    if (!urgent.empty())
      urgency.add(0.2 * double(urgent.size()),
                  "urgency words " + quoted_list(urgent));
    if (category == "task" || category == "concern")
      urgency.add(0.1 * confidence, confident);
    const auto calm = present(p, no_hurry_phrases, 2);
    if (!calm.empty())
      urgency.add(-0.15 * double(calm.size()), "no hurry " + quoted_list(calm));
    if (p.text.find('!') != std::string::npos)
      urgency.add(0.05, "exclamation mark");
  }

  // -- actionability ---------------------------------------------------------
  dimension actionability("actionability", 0.1, reasons);
  {
    double weight = 0;
    if (category == "task")
      weight = 0.35;
    else if (category == "idea" || category == "question")
      weight = 0.1;
    else if (category == "concern")
      weight = 0.05;
    else if (category == "reflection")
      weight = -0.05;
    actionability.add(weight * confidence, confident);
    if (!actions.empty()) {
      const size_t n = std::min<size_t>(actions.size(), 3);
      actionability.add(
          0.15 * double(n),
          std::to_string(actions.size()) +
              (actions.size() == 1 ? " action item ('" : " action items ('") +
              actions.front().text + "'" + (actions.size() > 1 ? ", …)" : ")"));
    }
    if (due)
      actionability.add(0.1, "has a due date");
    if (!person.empty())
      actionability.add(0.05, "someone to contact ('" + person + "')");
  }

  const double i = importance.value(), u = urgency.value(),
               a = actionability.value();
  const double score = round_to(clamp01(0.4 * i + 0.35 * u + 0.25 * a));
  const char* priority = "low";
  if (score >= 0.6 || (u >= 0.7 && i >= 0.4))
    priority = "high";
  else if (score >= 0.35)
    priority = "medium";
  json::array why;
  for (size_t k = 0; k < reasons.size() && k < max_reasons; ++k)
    why.emplace_back(reasons[k]);
  json::object out;
  out["importance"] = i;
  out["urgency"] = u;
  out["actionability"] = a;
  out["score"] = score;
  out["priority"] = priority;
  out["reasons"] = std::move(why);
  return out;
}

} // namespace distiller::thoughts::detail

namespace distiller::thoughts {

boost::json::object value_thought(const agent_input& in) {
  const auto p = detail::prepare(in.text, in.created_at);
  return detail::value(p, detail::earlier_result(agent_kind::classify, in, p),
                       detail::earlier_result(agent_kind::analyse, in, p));
}

} // namespace distiller::thoughts
