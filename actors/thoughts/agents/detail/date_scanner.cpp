// The scanner (date_scanner.hpp): the token helpers and the absolute
// forms — numeric dates, named days, weekdays, day and month.

#include "actors/thoughts/agents/detail/date_scanner.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include "actors/thoughts/agents/detail/date_words.hpp"

namespace distiller::thoughts::detail {

namespace chr = std::chrono;
using chr::sys_days;
using day_count = chr::days;

std::optional<match> scanner::at(size_t i) const {
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

date_mention scanner::mention(const match& m) const {
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

bool scanner::is(size_t k, std::string_view s) const {
  return k < w_.size() && w_[k].folded == s;
}

std::string_view scanner::gap(size_t k) const {
  if (k + 1 >= w_.size())
    return {};
  return text_.substr(w_[k].end, w_[k + 1].begin - w_[k].end);
}

bool scanner::linked(size_t k) const {
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

bool scanner::linked_or_comma(size_t k) const {
  const std::string_view g = gap(k);
  return linked(k) || g == "," || g == ", ";
}

bool scanner::seq(size_t i,
                  std::initializer_list<std::string_view> words) const {
  size_t k = i;
  for (std::string_view expected : words) {
    if (!is(k, expected) || (k > i && !linked(k - 1)))
      return false;
    ++k;
  }
  return true;
}

std::optional<sys_days> scanner::plus(int n) const {
  if (!ref_)
    return std::nullopt;
  return *ref_ + day_count{n};
}

match scanner::relative(size_t first, size_t last,
                        std::optional<sys_days> date) const {
  return {first, last, true, date};
}

std::optional<match> scanner::numeric(size_t i) const {
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

std::optional<match> scanner::named_day(size_t i) const {
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
      (is(i + 1, "morning") || is(i + 1, "afternoon") || is(i + 1, "evening")))
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

std::optional<match> scanner::weekday(size_t i) const {
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

std::optional<match> scanner::resolve(size_t first, size_t last, int m, int d,
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

int scanner::year_after(size_t k, size_t& last) const {
  if (k + 1 < w_.size() && linked_or_comma(k))
    if (const int y = year_of(w_[k + 1])) {
      last = k + 1;
      return y;
    }
  return 0;
}

unsigned scanner::month_at(size_t k, bool strict) const {
  if (k >= w_.size())
    return 0;
  const unsigned m = month_of(w_[k].folded);
  const std::string_view f = w_[k].folded;
  if (strict && (f == "may" || f == "march" || f == "mar") &&
      !text::starts_uppercase(w_[k].text))
    return 0;
  return m;
}

std::optional<match> scanner::day_month(size_t i) const {
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

} // namespace distiller::thoughts::detail
