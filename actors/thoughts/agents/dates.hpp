#pragma once

/// Date phrases in a thought ("by Friday", "tomorrow", "in 3 days",
/// "on 12 March", "2026-12-24", "end of the month" …) resolved to calendar
/// days relative to a reference day — the day the thought was submitted,
/// never the wall clock, so the same thought always gives the same dates.
/// The analyse agent lists them; the plan agent takes due dates from them.
///
/// Rules (weeks run Monday to Sunday, as in ISO 8601):
///   today, tonight, this morning/afternoon/evening, end of (the) day, EOD
///                                  → the reference day
///   tomorrow / the day after tomorrow / yesterday → +1 / +2 / −1 day
///   Friday, on Friday, by Friday   → the next Friday after the reference
///                                    day (1–7 days ahead, never the day
///                                    itself)
///   this Friday                    → 0–6 days ahead (the day itself counts)
///   next Friday                    → the Friday of next week
///   last Friday                    → the latest Friday before the day
///   next week, early next week     → Monday of next week
///   this week, end of (the) week, later this week, EOW
///                                  → Friday of this week (the reference day
///                                    itself on a Saturday or Sunday)
///   end of next week               → Friday of next week
///   (this) weekend / next weekend  → Saturday of this / next week (the
///                                    reference day itself on a Sunday)
///   last week                      → Monday of the week before
///   next month / last month        → the first day of that month
///   this month, end of (the) month, EOM → the last day of the month
///   end of next month              → the last day of next month
///   next year / end of (the) year  → 1 January next year / 31 December
///   in N days|weeks|months|years, N days from now, within N days,
///   in a week, in a couple of days (2), in a few days (3), in a fortnight
///                                  → the day plus N (months clamp to the
///                                    month's last day); N in digits or
///                                    one…twelve; hours and minutes → today
///   12 March, 12th of March, March 12, 12. März, 1er mars [2027]
///                                  → that day; without a year the next one
///                                    on or after the reference day
///   2026-12-24, 2026/12/24, 24.12.2026, 24/12/2026, 12/24/2026
///                                  → that day (slashed day/month only when
///                                    one part is above 12)
///   German and French: heute, morgen, übermorgen, gestern, aujourd'hui,
///   demain, après-demain, weekday names, month names, "bis", "avant";
///   Japanese 今日, 明日, 明後日, 昨日.
/// A leading "by", "before", "until", "till", "due (by|on)", "no later
/// than", "bis", "avant" makes the mention a deadline; "on" and "for" are
/// kept in the phrase only.
///
/// Threads: pure functions, safe from any thread.
/// Ownership: mentions are owned copies with byte offsets into the text.
/// Failure: never throws on any text (it must be valid UTF-8, as
/// text::clean makes it); phrases that name no valid day are not mentions.

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "actors/thoughts/agents/text.hpp"

namespace distiller::thoughts {

/// The calendar day an RFC 3339 timestamp is written in
/// ("2026-12-01T09:30:00.123Z" → 2026-12-01; an offset such as "+09:00"
/// keeps the day as written, which is the writer's local day); nullopt if
/// it does not start with a valid YYYY-MM-DD.
std::optional<std::chrono::sys_days> reference_day(std::string_view rfc3339);

/// Exactly "YYYY-MM-DD" as a valid day, or nullopt.
std::optional<std::chrono::sys_days> parse_iso_date(std::string_view s);

/// "YYYY-MM-DD".
std::string format_date(std::chrono::sys_days day);

struct date_mention {
  /// Byte offsets of the date expression ("Friday", "in 3 days").
  size_t begin = 0;
  size_t end = 0;
  /// Where the phrase starts, with its preposition ("by Friday"); equals
  /// `begin` when there is none.
  size_t phrase_begin = 0;
  /// The expression and the phrase as written.
  std::string text;
  std::string phrase;
  /// Introduced by "by", "before", "until" … (see above).
  bool deadline = false;
  /// Depends on the reference day ("tomorrow", "12 March" without a year).
  bool relative = false;
  /// The day; nullopt for a relative phrase without a reference day.
  std::optional<std::chrono::sys_days> date;
};

/// Every date phrase in `text` in order of appearance, not overlapping.
/// `words` must be text::words(text).
std::vector<date_mention>
find_dates(std::string_view text, const std::vector<text::word>& words,
           std::optional<std::chrono::sys_days> reference);

/// True for a month or weekday name (case-folded; English, German,
/// French), which is capitalised without being a name.
bool is_calendar_word(std::string_view folded);

/// The same, segmenting `text` itself.
std::vector<date_mention>
find_dates(std::string_view text,
           std::optional<std::chrono::sys_days> reference);

} // namespace distiller::thoughts
