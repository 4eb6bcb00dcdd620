// The scanner (date_scanner.hpp): the relative forms — periods, "end of",
// "this"/"next"/"last", the German and French periods, offsets.

#include "actors/thoughts/agents/detail/date_scanner.hpp"

#include "actors/thoughts/agents/detail/date_words.hpp"

namespace distiller::thoughts::detail {

namespace chr = std::chrono;
using chr::sys_days;
using day_count = chr::days;

std::optional<match> scanner::period(size_t i) const {
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

std::optional<match> scanner::end_of(size_t i) const {
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

std::optional<match> scanner::this_or_next(size_t i) const {
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
    return relative_by(i, i + 1,
                       [](sys_days r) { return monday_of(r) - day_count{7}; });
  if (seq(i, {"last", "month"}))
    return relative_by(i, i + 1,
                       [](sys_days r) { return first_of_month(r, -1); });
  return std::nullopt;
}

std::optional<match> scanner::foreign_period(size_t i) const {
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

std::optional<match> scanner::offset(size_t i) const {
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
      return relative_by(i, i + 3, [&](sys_days r) { return shift(r, u, n); });
  }
  return std::nullopt;
}

} // namespace distiller::thoughts::detail
