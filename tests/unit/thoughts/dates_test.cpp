// Date phrases resolved against a fixed reference day: 2026-12-01, a
// Tuesday. The rules are the ones listed in dates.hpp.

#include "actors/thoughts/agents/dates.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

using namespace distiller::thoughts;

namespace {

const auto tuesday = reference_day("2026-12-01T09:00:00Z");

/// The first date in `text` as "YYYY-MM-DD", "null" (unresolved) or ""
/// (no date phrase).
std::string first_date(const std::string& text,
                       std::optional<std::chrono::sys_days> ref = tuesday) {
  const auto found = find_dates(text::clean(text), ref);
  if (found.empty())
    return "";
  return found.front().date ? format_date(*found.front().date) : "null";
}

TEST(dates, reference_day_is_the_date_as_written) {
  ASSERT_TRUE(tuesday);
  EXPECT_EQ(format_date(*tuesday), "2026-12-01");
  EXPECT_EQ(std::chrono::weekday{*tuesday}, std::chrono::Tuesday);
  EXPECT_EQ(format_date(*reference_day("2026-12-01T23:30:00+09:00")),
            "2026-12-01");
  EXPECT_EQ(format_date(*reference_day("2026-12-01")), "2026-12-01");
  EXPECT_FALSE(reference_day(""));
  EXPECT_FALSE(reference_day("yesterday"));
  EXPECT_FALSE(reference_day("2026-02-30T00:00:00Z"));
  EXPECT_FALSE(reference_day("2026-12-01X"));
  EXPECT_EQ(format_date(*parse_iso_date("0999-01-05")), "0999-01-05");
  EXPECT_FALSE(parse_iso_date("2026-1-05"));
}

TEST(dates, named_days) {
  EXPECT_EQ(first_date("Call her tomorrow."), "2026-12-02");
  EXPECT_EQ(first_date("Do it today"), "2026-12-01");
  EXPECT_EQ(first_date("tonight"), "2026-12-01");
  EXPECT_EQ(first_date("by EOD"), "2026-12-01");
  EXPECT_EQ(first_date("by the end of the day"), "2026-12-01");
  EXPECT_EQ(first_date("the day after tomorrow"), "2026-12-03");
  EXPECT_EQ(first_date("I saw it yesterday"), "2026-11-30");
  EXPECT_EQ(first_date("this afternoon"), "2026-12-01");
}

TEST(dates, weekdays) {
  EXPECT_EQ(first_date("Send the report by Friday."), "2026-12-04");
  EXPECT_EQ(first_date("on Wednesday"), "2026-12-02");
  // The weekday of the reference day itself means a week later …
  EXPECT_EQ(first_date("see you Tuesday"), "2026-12-08");
  // … unless "this" says the same day.
  EXPECT_EQ(first_date("this Tuesday"), "2026-12-01");
  EXPECT_EQ(first_date("this Friday"), "2026-12-04");
  // "next Friday" is the Friday of next week.
  EXPECT_EQ(first_date("next Friday"), "2026-12-11");
  EXPECT_EQ(first_date("next Monday"), "2026-12-07");
  EXPECT_EQ(first_date("last Friday"), "2026-11-27");
  EXPECT_EQ(first_date("by Sat"), "2026-12-05");
  EXPECT_EQ(first_date("sat on the sofa"), ""); // "sat" alone is a verb
  EXPECT_EQ(first_date("bis Freitag"), "2026-12-04");
  EXPECT_EQ(first_date("avant vendredi"), "2026-12-04");
}

TEST(dates, weeks_months_and_years) {
  // "next week" is Monday of next week: 2026-12-07.
  EXPECT_EQ(first_date("Let's meet next week"), "2026-12-07");
  EXPECT_EQ(first_date("early next week"), "2026-12-07");
  EXPECT_EQ(first_date("this week"), "2026-12-04");
  EXPECT_EQ(first_date("by the end of the week"), "2026-12-04");
  EXPECT_EQ(first_date("end of next week"), "2026-12-11");
  EXPECT_EQ(first_date("this weekend"), "2026-12-05");
  EXPECT_EQ(first_date("next weekend"), "2026-12-12");
  EXPECT_EQ(first_date("last week"), "2026-11-23");
  EXPECT_EQ(first_date("by the end of the month"), "2026-12-31");
  EXPECT_EQ(first_date("end of month"), "2026-12-31");
  EXPECT_EQ(first_date("end of next month"), "2027-01-31");
  EXPECT_EQ(first_date("next month"), "2027-01-01");
  EXPECT_EQ(first_date("next year"), "2027-01-01");
  EXPECT_EQ(first_date("before the end of the year"), "2026-12-31");
  EXPECT_EQ(first_date("la semaine prochaine"), "2026-12-07");
  EXPECT_EQ(first_date("nächste Woche"), "2026-12-07");
}

TEST(dates, offsets) {
  EXPECT_EQ(first_date("in 3 days"), "2026-12-04");
  EXPECT_EQ(first_date("in three days"), "2026-12-04");
  EXPECT_EQ(first_date("within two weeks"), "2026-12-15");
  EXPECT_EQ(first_date("in a week"), "2026-12-08");
  EXPECT_EQ(first_date("in a couple of days"), "2026-12-03");
  EXPECT_EQ(first_date("in a few days"), "2026-12-04");
  EXPECT_EQ(first_date("in a fortnight"), "2026-12-15");
  EXPECT_EQ(first_date("5 days from now"), "2026-12-06");
  EXPECT_EQ(first_date("in 2 hours"), "2026-12-01");
  EXPECT_EQ(first_date("in a month"), "2027-01-01");
  EXPECT_EQ(first_date("in 3 Tagen"), "2026-12-04");
  EXPECT_EQ(first_date("dans 2 jours"), "2026-12-03");
  // Months clamp to the last day: 31 January + 1 month = 28 February.
  EXPECT_EQ(first_date("in 1 month", reference_day("2027-01-31")),
            "2027-02-28");
}

TEST(dates, calendar_dates) {
  // Without a year: the next such day on or after the reference day.
  EXPECT_EQ(first_date("on 12 March"), "2027-03-12");
  EXPECT_EQ(first_date("on 24 December"), "2026-12-24");
  EXPECT_EQ(first_date("March 12th, 2028"), "2028-03-12");
  EXPECT_EQ(first_date("the 3rd of January"), "2027-01-03");
  EXPECT_EQ(first_date("Dec 1"), "2026-12-01");
  EXPECT_EQ(first_date("am 12. März"), "2027-03-12");
  EXPECT_EQ(first_date("le 1er mars"), "2027-03-01");
  EXPECT_EQ(first_date("29 February"), "2028-02-29"); // next leap year
  EXPECT_EQ(first_date("31 April"), "");              // no such day
  EXPECT_EQ(first_date("I may 2 go"), "");            // the verb "may"
  EXPECT_EQ(first_date("May 2"), "2027-05-02");
  EXPECT_EQ(first_date("2026-12-24"), "2026-12-24");
  EXPECT_EQ(first_date("2026/12/24"), "2026-12-24");
  EXPECT_EQ(first_date("24.12.2026"), "2026-12-24");
  EXPECT_EQ(first_date("24/12/2026"), "2026-12-24");
  EXPECT_EQ(first_date("12/24/2026"), "2026-12-24");
  EXPECT_EQ(first_date("05/06/2026"), ""); // ambiguous day and month
  EXPECT_EQ(first_date("2026-02-30"), "");
}

TEST(dates, prepositions_and_deadlines) {
  const auto found = find_dates(
      "Send it by Friday, call on Monday, no later than 2026-12-20 and due "
      "by tomorrow.",
      tuesday);
  ASSERT_EQ(found.size(), 4u);
  EXPECT_EQ(found[0].text, "Friday");
  EXPECT_EQ(found[0].phrase, "by Friday");
  EXPECT_TRUE(found[0].deadline);
  EXPECT_TRUE(found[0].relative);
  EXPECT_EQ(found[1].phrase, "on Monday");
  EXPECT_FALSE(found[1].deadline);
  EXPECT_EQ(found[2].phrase, "no later than 2026-12-20");
  EXPECT_TRUE(found[2].deadline);
  EXPECT_FALSE(found[2].relative);
  EXPECT_EQ(found[3].phrase, "due by tomorrow");
  EXPECT_TRUE(found[3].deadline);
}

TEST(dates, offsets_point_into_the_text) {
  const std::string s = "Pay rent by Friday";
  const auto found = find_dates(s, tuesday);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(s.substr(found[0].begin, found[0].end - found[0].begin), "Friday");
  EXPECT_EQ(s.substr(found[0].phrase_begin), "by Friday");
}

TEST(dates, without_a_reference_only_absolute_dates_resolve) {
  const auto found =
      find_dates("tomorrow, 12 March and 2026-12-24", std::nullopt);
  ASSERT_EQ(found.size(), 3u);
  EXPECT_FALSE(found[0].date);
  EXPECT_FALSE(found[1].date);
  ASSERT_TRUE(found[2].date);
  EXPECT_EQ(format_date(*found[2].date), "2026-12-24");
}

TEST(dates, phrases_do_not_cross_sentences_or_lines) {
  EXPECT_EQ(find_dates("We meet next. Week one is over.", tuesday).size(), 0u);
  EXPECT_EQ(find_dates("in 3\ndays", tuesday).size(), 0u);
  EXPECT_TRUE(find_dates("", tuesday).empty());
  EXPECT_TRUE(find_dates("🙂🙂", tuesday).empty());
}

} // namespace
