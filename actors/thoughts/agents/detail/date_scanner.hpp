#pragma once

/// The date parser's scanner (internal to dates.cpp): tries each date form
/// at a token of a thought's words and resolves it against the reference
/// day. The absolute forms and the token helpers are in date_scanner.cpp,
/// the relative ones ("next week", "in 3 days", "end of the month") in
/// date_relative.cpp; dates.hpp lists the rules.
///
/// Threads: a scanner reads its text and words only; any thread.
/// Failure: never throws; a form that does not match gives std::nullopt.

#include <chrono>
#include <cstddef>
#include <initializer_list>
#include <optional>
#include <string_view>
#include <vector>

#include "actors/thoughts/agents/dates.hpp"
#include "actors/thoughts/agents/text.hpp"

namespace distiller::thoughts::detail {

/// A date form found at tokens first..last (inclusive); no date when it is
/// relative and there is no reference day.
struct match {
  size_t first = 0;
  size_t last = 0;
  bool relative = true;
  std::optional<std::chrono::sys_days> date;
};

class scanner {
 public:
  using sys_days = std::chrono::sys_days;

  scanner(std::string_view text, const std::vector<text::word>& words,
          std::optional<sys_days> ref)
      : text_(text), w_(words), ref_(ref) {}

  /// The longest date expression starting at token `i`, if any.
  std::optional<match> at(size_t i) const;

  /// Extends `m` with a preposition before it.
  date_mention mention(const match& m) const;

 private:
  bool is(size_t k, std::string_view s) const;

  std::string_view gap(size_t k) const;

  /// Tokens k and k+1 are separated by spaces only (no line break, no
  /// punctuation), so they can belong to one phrase.
  bool linked(size_t k) const;

  /// Linked, or separated by a comma: "March 12, 2027".
  bool linked_or_comma(size_t k) const;

  bool seq(size_t i, std::initializer_list<std::string_view> words) const;

  std::optional<sys_days> plus(int n) const;

  match relative(size_t first, size_t last, std::optional<sys_days> date) const;

  template <class F>
  match relative_by(size_t first, size_t last, F f) const {
    return {first, last, true,
            ref_ ? std::optional<sys_days>(f(*ref_)) : std::nullopt};
  }

  /// 2026-12-24, 2026/12/24, 24.12.2026, 24/12/2026, 12/24/2026.
  std::optional<match> numeric(size_t i) const;

  /// today, tomorrow, yesterday, the day after tomorrow, this morning …
  std::optional<match> named_day(size_t i) const;

  /// Friday, this Friday, next Friday, last Friday (, 12 March).
  std::optional<match> weekday(size_t i) const;

  /// next week, end of the month, this weekend, next year …
  std::optional<match> period(size_t i) const;

  /// [the] end of [the|this|next] week|month|year
  std::optional<match> end_of(size_t i) const;

  /// [early|later] next|this week, next weekend, this month, last week …
  std::optional<match> this_or_next(size_t i) const;

  /// French puts "prochain(e)" after the noun; German "Ende des Monats".
  std::optional<match> foreign_period(size_t i) const;

  /// in 3 days, within two weeks, in a couple of days, 5 days from now …
  std::optional<match> offset(size_t i) const;

  /// The day `d` of month `m`: in `year`, or the next one on or after the
  /// reference day.
  std::optional<match> resolve(size_t first, size_t last, int m, int d,
                               int year) const;

  /// A year after token k ("2027", ", 2027"), or 0.
  int year_after(size_t k, size_t& last) const;

  /// The month named by token k. Before a day number, "may", "march" and
  /// "mar" are also common words ("I may 2…"), so with `strict` they name
  /// a month only when capitalised.
  unsigned month_at(size_t k, bool strict) const;

  /// 12 March, 12th of March, 12. März, March 12th, March 12, 2027.
  std::optional<match> day_month(size_t i) const;

  std::string_view text_;
  const std::vector<text::word>& w_;
  std::optional<sys_days> ref_;
};

} // namespace distiller::thoughts::detail
