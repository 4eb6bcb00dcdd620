#pragma once

/// The calendar arithmetic and the vocabulary of the date parser
/// (internal to dates.cpp and its scanner, date_scanner.hpp): weekday,
/// month, count and unit words in English, German and French, and
/// day/week/month helpers on std::chrono::sys_days. Weeks run Monday to Sunday.
///
/// Threads: pure functions on constant tables. Failure: never throws.

#include <chrono>
#include <optional>
#include <string_view>

#include "actors/thoughts/agents/text.hpp"

namespace distiller::thoughts::detail {

// -- calendar ----------------------------------------------------------------

/// The day y-m-d if it exists.
std::optional<std::chrono::sys_days> make_day(int y, int m, int d);

/// Monday of the week of `d`.
std::chrono::sys_days monday_of(std::chrono::sys_days d);

/// Monday of the week after the week of `d`.
std::chrono::sys_days monday_of_next_week(std::chrono::sys_days d);

/// 1 (Monday) … 7 (Sunday).
unsigned iso_weekday(std::chrono::sys_days d);

/// The first / last day of the month `month_offset` months after d's.
std::chrono::sys_days first_of_month(std::chrono::sys_days d, int month_offset);
std::chrono::sys_days last_of_month(std::chrono::sys_days d, int month_offset);

/// `d` plus `n` months, the day clamped to the month's last day.
std::chrono::sys_days add_months(std::chrono::sys_days d, int n);

/// Friday of d's week, or `d` itself once Friday has passed.
std::chrono::sys_days end_of_week(std::chrono::sys_days d);

/// Saturday of d's week, or `d` itself on a Sunday.
std::chrono::sys_days weekend_of(std::chrono::sys_days d);

// -- vocabulary --------------------------------------------------------------
// -----------------------------------------------------------------

bool all_digits(std::string_view s);

/// The value of ASCII digits (precondition: all_digits, at most 9).
int to_int(std::string_view digits);

/// ISO weekday 1..7 of a weekday name, 0 if none. Short forms that are
/// also common words ("mon" is French for "my", "sat", "sun") count only
/// when `with_modifier` ("next sat", "by Sat").
unsigned weekday_of(std::string_view w, bool with_modifier);

/// Month 1..12 of a month name (English, German, French, and English
/// abbreviations), 0 if none.
unsigned month_of(std::string_view w);

/// A small count: digits (1..999) or a number word; 0 if none.
int count_of(std::string_view w);

enum class unit { none, same_day, day, week, month, year };

/// The unit a word names ("days", "Wochen", "mois", "hours" …).
unit unit_of(std::string_view w);

/// Day of month 1..31 from "12", "12th", "1st", "1er", "2e"; 0 if none.
int day_of(const text::word& w);

/// A four-digit year 1900..2199, 0 if none.
int year_of(const text::word& w);

/// "by", "before", "until", "bis", "avant" …: the phrase is a deadline.
bool is_deadline_lead(std::string_view w);

} // namespace distiller::thoughts::detail
