#include "actors/thoughts/agents/dates.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <initializer_list>
#include <utility>

#include "actors/thoughts/agents/detail/date_words.hpp"

namespace distiller::thoughts {

namespace chr = std::chrono;
using chr::sys_days;
using namespace detail;

namespace {

using day_count = chr::days;

// -- the scanner -------------------------------------------------------------

struct match {
  size_t first = 0; // token indexes, inclusive
  size_t last = 0;
  bool relative = true;
  std::optional<sys_days> date;
};

class scanner {
 public:
  scanner(std::string_view text, const std::vector<text::word>& words,
          std::optional<sys_days> ref)
      : text_(text), w_(words), ref_(ref) {}

  /// The longest date expression starting at token `i`, if any.
  std::optional<match> at(size_t i) const {
    if (auto m = numeric(i))
      return m;
    if (auto m = named_day(i))
      return m;
    if (auto m = weekday(i))
      return m;
    if (auto m = period(i))
      return m;
    if (auto m = offset(i))
      return m;
    return day_month(i);
  }

  /// Extends `m` with a preposition before it.
  date_mention mention(const match& m) const {
    date_mention out;
    out.begin = w_[m.first].begin;
    out.end = w_[m.last].end;
    out.phrase_begin = out.begin;
    out.relative = m.relative;
    out.date = m.date;
    if (m.first > 0 && linked(m.first - 1)) {
      const size_t p = m.first - 1;
      const std::string_view lead = w_[p].folded;
      size_t start = p;
      bool deadline = is_deadline_lead(lead);
      bool any = deadline || lead == "on" || lead == "for";
      if ((lead == "by" || lead == "on") && p > 0 && is(p - 1, "due") &&
          linked(p - 1)) {
        start = p - 1;
        deadline = true;
      }
      if (lead == "than" && p >= 2 && seq(p - 2, {"no", "later", "than"})) {
        start = p - 2;
        deadline = any = true;
      }
      if (any) {
        out.phrase_begin = w_[start].begin;
        out.deadline = deadline;
      }
    }
    out.text = std::string(text_.substr(out.begin, out.end - out.begin));
    out.phrase =
        std::string(text_.substr(out.phrase_begin, out.end - out.phrase_begin));
    return out;
  }

 private:
  bool is(size_t k, std::string_view s) const {
    return k < w_.size() && w_[k].folded == s;
  }

  std::string_view gap(size_t k) const {
    if (k + 1 >= w_.size())
      return {};
    return text_.substr(w_[k].end, w_[k + 1].begin - w_[k].end);
  }

  /// Tokens k and k+1 are separated by spaces only (no line break, no
  /// punctuation), so they can belong to one phrase.
  bool linked(size_t k) const {
    if (k + 1 >= w_.size())
      return false;
    std::string_view g = gap(k);
    while (!g.empty()) {
      if (g[0] == ' ' || g[0] == '\t')
        g.remove_prefix(1);
      else if (g.starts_with("\u00a0"))
        g.remove_prefix(2);
      else
        return false;
    }
    return true;
  }

  /// Linked, or separated by a comma: "March 12, 2027".
  bool linked_or_comma(size_t k) const {
    const std::string_view g = gap(k);
    return linked(k) || g == "," || g == ", ";
  }

  bool seq(size_t i, std::initializer_list<std::string_view> words) const {
    size_t k = i;
    for (std::string_view expected : words) {
      if (!is(k, expected) || (k > i && !linked(k - 1)))
        return false;
      ++k;
    }
    return true;
  }

  std::optional<sys_days> plus(int n) const {
    if (!ref_)
      return std::nullopt;
    return *ref_ + day_count{n};
  }

  match relative(size_t first, size_t last,
                 std::optional<sys_days> date) const {
    return {first, last, true, date};
  }

  template <class F>
  match relative_by(size_t first, size_t last, F f) const {
    return {first, last, true,
            ref_ ? std::optional<sys_days>(f(*ref_)) : std::nullopt};
  }

  // 2026-12-24, 2026/12/24, 24.12.2026, 24/12/2026, 12/24/2026.
  std::optional<match> numeric(size_t i) const {
    if (i >= w_.size() || w_[i].kind != text::word_kind::number)
      return std::nullopt;
    const std::string_view s = w_[i].folded;
    // "24.12.2026" is one number token for ICU.
    if (s.size() >= 8 && s.size() <= 10 &&
        std::count(s.begin(), s.end(), '.') == 2) {
      const size_t a = s.find('.');
      const size_t b = s.find('.', a + 1);
      const auto d = s.substr(0, a), m = s.substr(a + 1, b - a - 1),
                 y = s.substr(b + 1);
      if (all_digits(d) && all_digits(m) && all_digits(y) && y.size() == 4 &&
          d.size() <= 2 && m.size() <= 2)
        if (auto day = make_day(to_int(y), to_int(m), to_int(d)))
          return match{i, i, false, day};
      return std::nullopt;
    }
    if (i + 2 >= w_.size() || !all_digits(s))
      return std::nullopt;
    const std::string_view sep = gap(i);
    if ((sep != "-" && sep != "/") || gap(i + 1) != sep)
      return std::nullopt;
    const std::string_view b = w_[i + 1].folded, c = w_[i + 2].folded;
    if (!all_digits(b) || !all_digits(c) || b.size() > 2)
      return std::nullopt;
    if (s.size() == 4 && c.size() <= 2) { // year first
      if (auto day = make_day(to_int(s), to_int(b), to_int(c)))
        return match{i, i + 2, false, day};
      return std::nullopt;
    }
    if (sep == "/" && s.size() <= 2 && c.size() == 4) {
      int x = to_int(s), y = to_int(b);
      // Day and month only when the order is unambiguous.
      if (x > 12 && y <= 12)
        std::swap(x, y);
      else if (!(y > 12 && x <= 12) && x != y)
        return std::nullopt;
      if (auto day = make_day(to_int(c), x, y))
        return match{i, i + 2, false, day};
    }
    return std::nullopt;
  }

  // today, tomorrow, yesterday, the day after tomorrow, this morning …
  std::optional<match> named_day(size_t i) const {
    if (i >= w_.size())
      return std::nullopt;
    const size_t the = is(i, "the") && linked(i) ? 1 : 0;
    if (seq(i + the, {"day", "after", "tomorrow"}))
      return relative(i, i + the + 2, plus(2));
    if (seq(i + the, {"day", "before", "yesterday"}))
      return relative(i, i + the + 2, plus(-2));
    if (seq(i + the, {"end", "of", "the", "day"}))
      return relative(i, i + the + 3, plus(0));
    if (seq(i + the, {"end", "of", "day"}))
      return relative(i, i + the + 2, plus(0));
    if (is(i, "après") && gap(i) == "-" && is(i + 1, "demain"))
      return relative(i, i + 1, plus(2));
    if (is(i, "this") && linked(i) &&
        (is(i + 1, "morning") || is(i + 1, "afternoon") ||
         is(i + 1, "evening")))
      return relative(i, i + 1, plus(0));
    const std::string_view w = w_[i].folded;
    for (auto [name, n] : std::array<std::pair<std::string_view, int>, 15>{{
             {"today", 0},
             {"tonight", 0},
             {"eod", 0},
             {"tomorrow", 1},
             {"tmrw", 1},
             {"yesterday", -1},
             {"heute", 0},
             {"übermorgen", 2},
             {"gestern", -1},
             {"aujourd'hui", 0},
             {"demain", 1},
             {"今日", 0},
             {"明日", 1},
             {"明後日", 2},
             {"昨日", -1},
         }})
      if (w == name)
        return relative(i, i, plus(n));
    // Lower-case "morgen" is "tomorrow"; "Morgen" is also "morning".
    if (w == "morgen" && w_[i].text == "morgen")
      return relative(i, i, plus(1));
    return std::nullopt;
  }

  // Friday, this Friday, next Friday, last Friday (, 12 March).
  std::optional<match> weekday(size_t i) const {
    if (i >= w_.size())
      return std::nullopt;
    int mode = 0; // 0 bare, 1 this, 2 next, 3 last
    size_t k = i;
    if (linked(i)) {
      if (is(i, "this") || is(i, "coming") || is(i, "diesen") || is(i, "ce")) {
        mode = 1;
        k = i + 1;
      } else if (is(i, "next") || is(i, "nächsten") || is(i, "kommenden")) {
        mode = 2;
        k = i + 1;
      } else if (is(i, "last") || is(i, "letzten")) {
        mode = 3;
        k = i + 1;
      }
    }
    // After "by", "on", "until" … short forms are safe too ("by Sat").
    const bool led = i > 0 && linked(i - 1) &&
                     (is_deadline_lead(w_[i - 1].folded) || is(i - 1, "on"));
    const unsigned wd =
        k < w_.size() ? weekday_of(w_[k].folded, mode != 0 || led) : 0;
    if (wd == 0)
      return std::nullopt;
    // "Friday, 12 March": the explicit day wins.
    if (linked_or_comma(k))
      if (auto m = day_month(k + 1))
        return match{i, m->last, m->relative, m->date};
    return relative_by(i, k, [&](sys_days ref) {
      const unsigned today = iso_weekday(ref);
      const int ahead = (int(wd) - int(today) + 7) % 7;
      switch (mode) {
      case 1:
        return ref + day_count{ahead};
      case 2:
        return monday_of(ref) + day_count{7 + wd - 1};
      case 3:
        return ref - day_count{ahead == 0 ? 7 : 7 - ahead};
      default:
        return ref + day_count{ahead == 0 ? 7 : ahead};
      }
    });
  }

  // next week, end of the month, this weekend, next year …
  std::optional<match> period(size_t i) const {
    if (i >= w_.size())
      return std::nullopt;
    if (is(i, "eow"))
      return relative_by(i, i, end_of_week);
    if (is(i, "eom"))
      return relative_by(i, i, [](sys_days r) { return last_of_month(r, 0); });
    if (auto m = end_of(i))
      return m;
    if (auto m = this_or_next(i))
      return m;
    return foreign_period(i);
  }

  // [the] end of [the|this|next] week|month|year
  std::optional<match> end_of(size_t i) const {
    size_t k = i;
    if (is(k, "the") && linked(k))
      ++k;
    if (!seq(k, {"end", "of"}) || !linked(k + 1))
      return std::nullopt;
    k += 2;
    bool next = false;
    if ((is(k, "the") || is(k, "this")) && linked(k)) {
      ++k;
    } else if (is(k, "next") && linked(k)) {
      next = true;
      ++k;
    }
    if (is(k, "week"))
      return relative_by(i, k, [&](sys_days r) {
        return next ? monday_of(r) + day_count{11} : end_of_week(r);
      });
    if (is(k, "month"))
      return relative_by(
          i, k, [&](sys_days r) { return last_of_month(r, next ? 1 : 0); });
    if (is(k, "year"))
      return relative_by(i, k, [&](sys_days r) {
        const int y = int(chr::year_month_day{r}.year()) + (next ? 1 : 0);
        return *make_day(y, 12, 31);
      });
    return std::nullopt;
  }

  // [early|later] next|this week, next weekend, this month, last week …
  std::optional<match> this_or_next(size_t i) const {
    size_t k = i;
    if ((is(k, "early") || is(k, "later")) && linked(k))
      ++k;
    const bool early = k > i && is(i, "early");
    const bool later = k > i && is(i, "later");
    if (linked(k) && (is(k, "next") || is(k, "nächste") || is(k, "nächsten") ||
                      is(k, "kommende"))) {
      if (later)
        return std::nullopt;
      if (is(k + 1, "week") || is(k + 1, "woche"))
        return relative_by(i, k + 1, monday_of_next_week);
      if (early)
        return std::nullopt;
      if (is(k + 1, "weekend") || is(k + 1, "wochenende"))
        return relative_by(
            i, k + 1, [](sys_days r) { return monday_of(r) + day_count{12}; });
      if (is(k + 1, "month") || is(k + 1, "monat"))
        return relative_by(i, k + 1,
                           [](sys_days r) { return first_of_month(r, 1); });
      if (is(k + 1, "year") || is(k + 1, "jahr"))
        return relative_by(i, k + 1, [](sys_days r) {
          return *make_day(int(chr::year_month_day{r}.year()) + 1, 1, 1);
        });
      return std::nullopt;
    }
    if (early)
      return std::nullopt;
    if (linked(k) && is(k, "this")) {
      if (is(k + 1, "week"))
        return relative_by(i, k + 1, end_of_week);
      if (later)
        return std::nullopt;
      if (is(k + 1, "weekend"))
        return relative_by(i, k + 1, weekend_of);
      if (is(k + 1, "month"))
        return relative_by(i, k + 1,
                           [](sys_days r) { return last_of_month(r, 0); });
      if (is(k + 1, "year"))
        return relative_by(i, k + 1, [](sys_days r) {
          return *make_day(int(chr::year_month_day{r}.year()), 12, 31);
        });
      return std::nullopt;
    }
    if (later)
      return std::nullopt;
    if (seq(i, {"the", "weekend"}) || is(i, "weekend"))
      return relative_by(i, is(i, "the") ? i + 1 : i, weekend_of);
    if (seq(i, {"last", "week"}))
      return relative_by(
          i, i + 1, [](sys_days r) { return monday_of(r) - day_count{7}; });
    if (seq(i, {"last", "month"}))
      return relative_by(i, i + 1,
                         [](sys_days r) { return first_of_month(r, -1); });
    return std::nullopt;
  }

  // French puts "prochain(e)" after the noun; German "Ende des Monats".
  std::optional<match> foreign_period(size_t i) const {
    if (seq(i, {"la", "semaine", "prochaine"}))
      return relative_by(i, i + 2, monday_of_next_week);
    if (seq(i, {"semaine", "prochaine"}))
      return relative_by(i, i + 1, monday_of_next_week);
    if (seq(i, {"le", "mois", "prochain"}))
      return relative_by(i, i + 2,
                         [](sys_days r) { return first_of_month(r, 1); });
    if (seq(i, {"fin", "du", "mois"}) || seq(i, {"ende", "des", "monats"}))
      return relative_by(i, i + 2,
                         [](sys_days r) { return last_of_month(r, 0); });
    return std::nullopt;
  }

  // in 3 days, within two weeks, in a couple of days, 5 days from now …
  std::optional<match> offset(size_t i) const {
    if (i >= w_.size())
      return std::nullopt;
    auto shift = [](sys_days r, unit u, int n) {
      switch (u) {
      case unit::day:
        return r + day_count{n};
      case unit::week:
        return r + day_count{7 * n};
      case unit::month:
        return add_months(r, n);
      case unit::year:
        return add_months(r, 12 * n);
      default:
        return r;
      }
    };
    // "in N unit", "within N unit", "dans N unit"
    if ((is(i, "in") || is(i, "within") || is(i, "dans")) && linked(i)) {
      size_t k = i + 1;
      if (seq(k, {"a", "fortnight"}))
        return relative(i, k + 1, plus(14));
      int n = 0;
      if (seq(k, {"a", "couple", "of"})) {
        n = 2;
        k += 3;
      } else if (seq(k, {"a", "few"})) {
        n = 3;
        k += 2;
      } else if (k < w_.size() && linked(k)) {
        n = count_of(w_[k].folded);
        ++k;
      }
      if (n <= 0 || k >= w_.size() || !linked(k - 1))
        return std::nullopt;
      const unit u = unit_of(w_[k].folded);
      if (u == unit::none || (u == unit::year && n > 100))
        return std::nullopt;
      return relative_by(i, k, [&](sys_days r) { return shift(r, u, n); });
    }
    // "N unit from now|today", "a week from today"
    if (linked(i) && i + 3 < w_.size()) {
      const int n = count_of(w_[i].folded);
      const unit u = unit_of(w_[i + 1].folded);
      if (n > 0 && u != unit::none && u != unit::same_day &&
          (seq(i + 2, {"from", "now"}) || seq(i + 2, {"from", "today"})) &&
          linked(i + 1))
        return relative_by(i, i + 3,
                           [&](sys_days r) { return shift(r, u, n); });
    }
    return std::nullopt;
  }

  /// The day `d` of month `m`: in `year`, or the next one on or after the
  /// reference day.
  std::optional<match> resolve(size_t first, size_t last, int m, int d,
                               int year) const {
    if (year != 0) {
      if (auto day = make_day(year, m, d))
        return match{first, last, false, day};
      return std::nullopt;
    }
    if (d > 29 + (m == 2 ? 0 : 2) - (m == 4 || m == 6 || m == 9 || m == 11))
      return std::nullopt; // 30 February, 31 April …: no year has them
    if (!ref_)
      return match{first, last, true, std::nullopt};
    const int y = int(chr::year_month_day{*ref_}.year());
    for (int candidate = y; candidate <= y + 8; ++candidate)
      if (auto day = make_day(candidate, m, d); day && *day >= *ref_)
        return match{first, last, true, day};
    return std::nullopt;
  }

  /// A year after token k ("2027", ", 2027"), or 0.
  int year_after(size_t k, size_t& last) const {
    if (k + 1 < w_.size() && linked_or_comma(k))
      if (const int y = year_of(w_[k + 1])) {
        last = k + 1;
        return y;
      }
    return 0;
  }

  /// The month named by token k. Before a day number, "may", "march" and
  /// "mar" are also common words ("I may 2…"), so with `strict` they name
  /// a month only when capitalised.
  unsigned month_at(size_t k, bool strict) const {
    if (k >= w_.size())
      return 0;
    const unsigned m = month_of(w_[k].folded);
    const std::string_view f = w_[k].folded;
    if (strict && (f == "may" || f == "march" || f == "mar") &&
        !text::starts_uppercase(w_[k].text))
      return 0;
    return m;
  }

  // 12 March, 12th of March, 12. März, March 12th, March 12, 2027.
  std::optional<match> day_month(size_t i) const {
    if (i >= w_.size())
      return std::nullopt;
    if (const int d = day_of(w_[i])) {
      const std::string_view g = gap(i);
      size_t k = i + 1;
      if (linked(i) || g == ". ") { // "12. März"
        if (is(k, "of") && linked(k))
          ++k;
        if (const unsigned m = month_at(k, false)) {
          size_t last = k;
          const int y = year_after(k, last);
          return resolve(i, last, int(m), d, y);
        }
      }
    }
    if (const unsigned m = month_at(i, true); m != 0 && linked(i)) {
      size_t k = i + 1;
      if (is(k, "the") && linked(k))
        ++k;
      if (k < w_.size())
        if (const int d = day_of(w_[k])) {
          size_t last = k;
          const int y = year_after(k, last);
          return resolve(i, last, int(m), d, y);
        }
    }
    return std::nullopt;
  }

  std::string_view text_;
  const std::vector<text::word>& w_;
  std::optional<sys_days> ref_;
};

} // namespace

std::optional<sys_days> parse_iso_date(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-')
    return std::nullopt;
  const auto y = s.substr(0, 4), m = s.substr(5, 2), d = s.substr(8, 2);
  if (!all_digits(y) || !all_digits(m) || !all_digits(d))
    return std::nullopt;
  return make_day(to_int(y), to_int(m), to_int(d));
}

std::optional<sys_days> reference_day(std::string_view rfc3339) {
  if (rfc3339.size() < 10)
    return std::nullopt;
  if (rfc3339.size() > 10 && rfc3339[10] != 'T' && rfc3339[10] != 't' &&
      rfc3339[10] != ' ')
    return std::nullopt;
  return parse_iso_date(rfc3339.substr(0, 10));
}

std::string format_date(sys_days day) {
  const chr::year_month_day ymd{day};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", int(ymd.year()),
                unsigned(ymd.month()), unsigned(ymd.day()));
  return buf;
}

bool is_calendar_word(std::string_view folded) {
  return weekday_of(folded, false) != 0 || month_of(folded) != 0;
}

std::vector<date_mention> find_dates(std::string_view text,
                                     const std::vector<text::word>& words,
                                     std::optional<sys_days> reference) {
  std::vector<date_mention> out;
  const scanner scan(text, words, reference);
  for (size_t i = 0; i < words.size(); ++i) {
    if (auto m = scan.at(i)) {
      out.push_back(scan.mention(*m));
      i = m->last;
    }
  }
  return out;
}

std::vector<date_mention> find_dates(std::string_view text,
                                     std::optional<sys_days> reference) {
  return find_dates(text, text::words(text), reference);
}

} // namespace distiller::thoughts
