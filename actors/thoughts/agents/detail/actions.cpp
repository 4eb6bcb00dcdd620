#include "actors/thoughts/agents/detail/actions.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <initializer_list>
#include <set>
#include <string_view>

#include "actors/thoughts/agents/detail/lexicon.hpp"

namespace distiller::thoughts::detail {

namespace {

constexpr size_t max_actions = 10;
constexpr size_t max_action_chars = 80;

struct cue_phrase {
  std::array<std::string_view, 4> words; // empty entries end the phrase
  action_strength strength;
  const char* kind; // "obligation" or "intention"
  /// What follows is a thing, not a verb: "don't forget the keys" becomes
  /// "Remember the keys".
  bool object = false;
};

// Longest first where one phrase starts another ("have got to", "have to").
constexpr std::array<cue_phrase, 33> cue_phrases{{
    {{"don't", "forget", "to"}, action_strength::strong, "reminder"},
    {{"dont", "forget", "to"}, action_strength::strong, "reminder"},
    {{"do", "not", "forget", "to"}, action_strength::strong, "reminder"},
    {{"don't", "forget"}, action_strength::strong, "reminder", true},
    {{"dont", "forget"}, action_strength::strong, "reminder", true},
    {{"do", "not", "forget"}, action_strength::strong, "reminder", true},
    {{"remember", "to"}, action_strength::strong, "reminder"},
    {{"have", "got", "to"}, action_strength::strong, "obligation"},
    {{"need", "to"}, action_strength::strong, "obligation"},
    {{"needs", "to"}, action_strength::strong, "obligation"},
    {{"have", "to"}, action_strength::strong, "obligation"},
    {{"has", "to"}, action_strength::strong, "obligation"},
    {{"got", "to"}, action_strength::strong, "obligation"},
    {{"gotta"}, action_strength::strong, "obligation"},
    {{"must"}, action_strength::strong, "obligation"},
    {{"supposed", "to"}, action_strength::strong, "obligation"},
    {{"ought", "to"}, action_strength::normal, "obligation"},
    {{"should"}, action_strength::normal, "obligation"},
    {{"i'll"}, action_strength::normal, "commitment"},
    {{"we'll"}, action_strength::normal, "commitment"},
    {{"i", "will"}, action_strength::normal, "commitment"},
    {{"we", "will"}, action_strength::normal, "commitment"},
    {{"i'm", "going", "to"}, action_strength::weak, "intention"},
    {{"we're", "going", "to"}, action_strength::weak, "intention"},
    {{"going", "to"}, action_strength::weak, "intention"},
    {{"gonna"}, action_strength::weak, "intention"},
    {{"planning", "to"}, action_strength::weak, "intention"},
    {{"plan", "to"}, action_strength::weak, "intention"},
    {{"intend", "to"}, action_strength::weak, "intention"},
    {{"want", "to"}, action_strength::weak, "intention"},
    {{"would", "like", "to"}, action_strength::weak, "intention"},
    {{"i'd", "like", "to"}, action_strength::weak, "intention"},
    {{"wanna"}, action_strength::weak, "intention"},
}};

bool one_of(std::string_view w, std::initializer_list<std::string_view> list) {
  return std::find(list.begin(), list.end(), w) != list.end();
}

/// Words before an action that are not part of it.
bool is_filler(std::string_view w) {
  return one_of(w, {"so",     "ok",         "okay",     "also",      "then",
                    "and",    "please",     "pls",      "plz",       "oh",
                    "just",   "quickly",    "first",    "finally",   "btw",
                    "now",    "today",      "tomorrow", "tonight",   "still",
                    "really", "definitely", "probably", "seriously", "actually",
                    "maybe",  "soon",       "asap",     "urgently"});
}

/// Words that end an action's clause.
bool is_clause_end(std::string_view w) {
  return one_of(w, {"because", "since", "but", "although", "though", "unless",
                    "otherwise", "if", "while", "whereas", "cause", "cuz"});
}

/// After a cue, words that cannot start the action's verb phrase.
bool is_not_a_verb(std::string_view w) {
  return one_of(w, {"the", "a",     "an",   "my",    "your",  "his",   "her",
                    "our", "their", "this", "that",  "these", "those", "i",
                    "you", "he",    "she",  "we",    "they",  "it",    "to",
                    "be",  "not",   "no",   "never", "there", "here"});
}

/// A participle after "be": "must be done", "should be sent".
bool is_participle(std::string_view w) {
  return (w.size() > 3 && w.ends_with("ed")) ||
         one_of(w, {"done", "sent", "paid", "made", "finished", "ready",
                    "fixed", "written", "built", "submitted", "booked",
                    "signed", "shipped", "taken", "given", "cleaned"});
}

struct start {
  size_t word = 0;      // first word of the action
  size_t cue_begin = 0; // first word of its cue (== word when none)
  size_t clause = 0;    // first word of its clause, for passive actions
  bool passive = false; // "the report must be done": keep the subject
  action_strength strength = action_strength::normal;
  std::string cue;
  /// Put before the action's words ("Remember ").
  std::string prefix = {};
};

class extractor {
 public:
  explicit extractor(const prepared_thought& p) : p_(p) {}

  std::vector<action_item> run() {
    std::vector<action_item> out;
    std::set<std::string> seen;
    for (size_t s = 0; s < p_.sentences.size() && out.size() < max_actions;
         ++s) {
      if (is_question(p_.sentences[s]))
        continue;
      for (auto& a : in_sentence(s)) {
        if (out.size() == max_actions)
          break;
        if (seen.insert(text::fold_case(a.text)).second)
          out.push_back(std::move(a));
      }
    }
    return out;
  }

 private:
  const std::string& w(size_t i) const { return p_.words[i].folded; }

  bool at(size_t i, size_t end, std::string_view word) const {
    return i < end && w(i) == word;
  }

  /// The cue phrase starting at word i, and its length in words.
  const cue_phrase* cue_at(size_t i, size_t end, size_t& len) const {
    for (const auto& c : cue_phrases) {
      size_t n = 0;
      while (n < c.words.size() && !c.words[n].empty())
        ++n;
      bool ok = i + n <= end;
      for (size_t k = 0; ok && k < n; ++k)
        ok = w(i + k) == c.words[k] &&
             (k == 0 || spaces_only_after(p_, i + k - 1));
      if (ok) {
        len = n;
        return &c;
      }
    }
    return nullptr;
  }

  /// The action a cue at [i, i+len) introduces, if the words after it make
  /// one.
  std::optional<start> after_cue(const cue_phrase& c, size_t i, size_t len,
                                 size_t clause, size_t end) const {
    // "I don't need to", "we shouldn't": not an action.
    if (i > clause && is_negator(w(i - 1)) && c.words[0] != "don't" &&
        c.words[0] != "dont" && c.words[0] != "do")
      return std::nullopt;
    // "It should arrive", "that must be it": not the writer's action.
    if (i > clause && one_of(w(i - 1), {"it", "this", "that", "there", "which",
                                        "what", "who"}))
      return std::nullopt;
    size_t v = i + len;
    while (v < end &&
           one_of(w(v), {"really", "definitely", "probably", "also", "still",
                         "finally", "just", "seriously", "actually", "quickly",
                         "first", "absolutely", "urgently"}))
      ++v;
    if (v >= end)
      return std::nullopt;
    std::string cue = std::string(c.kind) + " '";
    for (size_t k = 0; k < len; ++k)
      cue += (k ? " " : "") + std::string(p_.words[i + k].text);
    cue = text::to_lower(cue) + "'";
    if (w(v) == "be") {
      if (v + 1 < end && is_participle(w(v + 1)))
        return start{clause, i, clause, true, c.strength, cue};
      return std::nullopt;
    }
    if (c.object)
      return start{v, i, clause, false, c.strength, cue, "Remember "};
    if (is_not_a_verb(w(v)) || p_.words[v].kind == text::word_kind::number)
      return std::nullopt;
    // "going to work", "want to sleep": places and states, not tasks.
    if (c.strength == action_strength::weak &&
        one_of(w(v), {"work", "school", "bed", "sleep", "home", "town"}))
      return std::nullopt;
    return start{v, i, clause, false, c.strength, cue};
  }

  /// The action starting at the head of a clause [i, end), if any.
  std::optional<start> at_head(size_t i, size_t end) const {
    const size_t clause = i;
    // A label ("TODO:", "Note:") or a list number ("1.", "2)").
    bool labelled = false;
    while (i < end) {
      const std::string_view g = gap_after(p_, i);
      const bool label = g.find(':') != std::string_view::npos &&
                         (w(i) == "todo" || w(i) == "to-do" || w(i) == "task" ||
                          w(i) == "tasks" || w(i) == "reminder" ||
                          w(i) == "note" || w(i) == "action");
      const bool number = p_.words[i].kind == text::word_kind::number &&
                          (g.starts_with(".") || g.starts_with(")"));
      if (w(i) == "to" && at(i + 1, end, "do") &&
          gap_after(p_, i + 1).find(':') != std::string_view::npos) {
        labelled = true;
        i += 2;
        continue;
      }
      if (label || number) {
        labelled = labelled || label;
        ++i;
        continue;
      }
      if (is_filler(w(i))) {
        ++i;
        continue;
      }
      break;
    }
    if (i >= end)
      return std::nullopt;
    size_t len = 0;
    if (const cue_phrase* c = cue_at(i, end, len))
      return after_cue(*c, i, len, clause, end);
    if ((w(i) == "let's" || w(i) == "lets") && i + 1 < end &&
        !is_not_a_verb(w(i + 1)))
      return start{i + 1,
                   i,
                   clause,
                   false,
                   action_strength::normal,
                   "suggestion 'let's'"};
    if (w(i) == "let" && at(i + 1, end, "us") && i + 2 < end)
      return start{i + 2,
                   i,
                   clause,
                   false,
                   action_strength::normal,
                   "suggestion 'let us'"};
    // "Plan is …", "Text of …", "Remember when …": not imperatives.
    const bool noun_use =
        i + 1 < end &&
        one_of(w(i + 1), {"is", "was", "are", "were", "has", "had", "of", "'s",
                          "when", "how", "why", "what", "if"});
    if (is_imperative_verb(w(i)) && !noun_use)
      return start{i,
                   i,
                   clause,
                   false,
                   action_strength::normal,
                   "imperative '" + w(i) + "'"};
    if (labelled)
      return start{i, i, clause, false, action_strength::normal, "to-do label"};
    return std::nullopt;
  }

  std::vector<start> starts(size_t first, size_t last) const {
    std::vector<start> out;
    size_t clause = first;
    if (auto s = at_head(first, last))
      out.push_back(*s);
    for (size_t i = first; i < last; ++i) {
      if (!out.empty() && i <= out.back().word)
        continue;
      // A new clause after "and", "then", ",", ";" may start an action.
      const bool after_comma =
          i > first && (gap_after(p_, i - 1).find(',') != std::string::npos ||
                        gap_after(p_, i - 1).find(';') != std::string::npos);
      const bool conj = one_of(w(i), {"and", "then", "also", "plus", "or"});
      if (conj || after_comma || is_clause_end(w(i))) {
        const size_t head = conj || is_clause_end(w(i)) ? i + 1 : i;
        if (head < last && (conj || after_comma) &&
            is_imperative_verb(w(head)) &&
            !one_of(head + 1 < last ? std::string_view(w(head + 1)) : "",
                    {"is", "was", "are", "of"})) {
          out.push_back(
              {head, head, head, false,
               out.empty() ? action_strength::normal : out.back().strength,
               "imperative '" + w(head) + "'"});
          continue;
        }
        clause = head;
      }
      size_t len = 0;
      if (const cue_phrase* c = cue_at(i, last, len)) {
        if (auto s = after_cue(*c, i, len, clause, last)) {
          if (out.empty() || s->word > out.back().word)
            out.push_back(*s);
        }
        i += len - 1;
      }
    }
    return out;
  }

  /// The end (exclusive word index) of the action starting at `s`, given
  /// where the next action's clause starts.
  size_t action_end(const start& s, size_t next, size_t last) const {
    for (size_t i = s.word + 1; i < next; ++i)
      if (is_clause_end(w(i)))
        return i;
    // An action introduced by "and …" stops before the "and".
    size_t end = std::min(next, last);
    while (end > s.word + 1 &&
           one_of(w(end - 1), {"and", "then", "also", "plus", "or"}))
      --end;
    return end;
  }

  std::vector<action_item> in_sentence(size_t s) {
    const auto [first, last] = p_.sentence_words[s];
    std::vector<action_item> out;
    const auto st = starts(first, last);
    bool urgent = false;
    for (size_t i = first; i < last; ++i)
      urgent = urgent || is_urgent_word(w(i));
    const std::string_view sentence = p_.sentences[s].text;
    for (std::string_view phrase :
         {"as soon as possible", "right away", "right now"})
      urgent =
          urgent || text::fold_case(sentence).find(phrase) != std::string::npos;
    for (size_t k = 0; k < st.size(); ++k) {
      // The next action's clause begins at its subject ("and I should …")
      // when that comes after this action's verb.
      size_t next = last;
      if (k + 1 < st.size()) {
        next = st[k + 1].cue_begin;
        if (st[k + 1].clause > st[k].word)
          next = std::min(next, st[k + 1].clause);
      }
      const size_t end = action_end(st[k], next, last);
      if (end <= st[k].word)
        continue;
      // Where this action's date phrase may stand: its clause, and for the
      // first action also the words before it ("Tomorrow I need to …").
      const size_t region_begin =
          k == 0 ? p_.sentences[s].begin
                 : p_.words[std::min(st[k].cue_begin, st[k].clause)].begin;
      const size_t region_end =
          next < last ? p_.words[next].begin : p_.sentences[s].end;
      auto item = build(st[k], end, region_begin, region_end);
      if (item.text.empty())
        continue;
      item.sentence = s;
      item.urgent = urgent;
      item.priority = priority_of(item);
      out.push_back(std::move(item));
    }
    return out;
  }

  action_item build(const start& s, size_t end, size_t region_begin,
                    size_t region_end) const {
    action_item item;
    item.strength = s.strength;
    item.cue = s.cue;
    const date_mention* due = nullptr;
    for (const auto& d : p_.dates) {
      if (d.phrase_begin < region_begin || d.end > region_end)
        continue;
      if (d.date && p_.reference && *d.date < *p_.reference)
        continue; // "yesterday" is no due date
      if (!due || (d.deadline && !due->deadline))
        due = &d;
    }
    if (due)
      item.due = *due;
    // The action's words without the date phrase, urgency fillers and the
    // cue of a passive action ("the report must be done" keeps its words).
    const size_t begin_byte = p_.words[s.word].begin;
    const size_t end_byte = p_.words[end - 1].end;
    std::string text;
    size_t pos = begin_byte;
    auto cut = [&](size_t from, size_t to) {
      if (to <= pos || from >= end_byte)
        return;
      from = std::max(from, pos);
      text.append(p_.text, pos, from - pos);
      text.push_back(' ');
      pos = std::min(to, end_byte);
    };
    for (const auto& d : p_.dates)
      if (d.phrase_begin >= begin_byte && d.end <= end_byte)
        cut(d.phrase_begin, d.end);
    if (pos < end_byte)
      text.append(p_.text, pos, end_byte - pos);
    text = tidy(text);
    if (!text.empty())
      text = s.prefix + text;
    item.text = text.empty() ? text
                             : text::shorten(text::capitalize_first(text),
                                             max_action_chars);
    return item;
  }

  /// Removes trailing urgency fillers, conjunctions left by a removed date
  /// phrase, and trailing ASCII punctuation.
  static std::string tidy(const std::string& raw) {
    std::string t = text::collapse_whitespace(raw);
    auto ascii_iequal = [](std::string_view a, std::string_view b) {
      return a.size() == b.size() &&
             std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == y;
             });
    };
    // `word` is lower-case ASCII, so comparing bytes is enough.
    auto strip_suffix_word = [&](std::string_view word) {
      if (t.size() > word.size() && t[t.size() - word.size() - 1] == ' ' &&
          ascii_iequal(std::string_view(t).substr(t.size() - word.size()),
                       word)) {
        t.resize(t.size() - word.size() - 1);
        return true;
      }
      return false;
    };
    for (bool changed = true; changed && !t.empty();) {
      changed = false;
      while (!t.empty() && std::string_view(",;:.!-").find(t.back()) !=
                               std::string_view::npos) {
        t.pop_back();
        changed = true;
      }
      while (!t.empty() && t.back() == ' ') {
        t.pop_back();
        changed = true;
      }
      for (std::string_view word :
           {"please", "pls", "asap", "as soon as possible", "right away",
            "right now", "urgently", "immediately", "and", "then", "or"})
        changed = strip_suffix_word(word) || changed;
    }
    return t;
  }

  priority_level priority_of(const action_item& a) const {
    std::optional<int> days;
    if (a.due && a.due->date && p_.reference)
      days = int((*a.due->date - *p_.reference).count());
    if (a.urgent || (days && *days <= 1))
      return priority_level::high;
    if ((days && *days <= 7) || a.strength != action_strength::weak)
      return priority_level::medium;
    return priority_level::low;
  }

  const prepared_thought& p_;
};

} // namespace

const char* priority_name(priority_level p) noexcept {
  switch (p) {
  case priority_level::low:
    return "low";
  case priority_level::high:
    return "high";
  default:
    return "medium";
  }
}

std::vector<action_item> find_actions(const prepared_thought& p) {
  return extractor(p).run();
}

} // namespace distiller::thoughts::detail
