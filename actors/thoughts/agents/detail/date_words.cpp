#include "actors/thoughts/agents/detail/date_words.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace distiller::thoughts::detail {

namespace chr = std::chrono;
using chr::sys_days;
using day_count = chr::days;

// -- calendar ----------------------------------------------------------------

std::optional<sys_days> make_day(int y, int m, int d) {
  if (m < 1 || m > 12 || d < 1 || d > 31)
    return std::nullopt;
  const chr::year_month_day ymd{chr::year{y}, chr::month{unsigned(m)},
                                chr::day{unsigned(d)}};
  if (!ymd.ok())
    return std::nullopt;
  return sys_days{ymd};
}

sys_days monday_of(sys_days d) {
  return d - day_count{chr::weekday{d}.iso_encoding() - 1};
}

unsigned iso_weekday(sys_days d) {
  return chr::weekday{d}.iso_encoding();
}

sys_days first_of_month(sys_days d, int month_offset) {
  const chr::year_month_day ymd{d};
  const auto ym =
      chr::year_month{ymd.year(), ymd.month()} + chr::months{month_offset};
  return sys_days{ym / chr::day{1}};
}

sys_days last_of_month(sys_days d, int month_offset) {
  const chr::year_month_day ymd{d};
  const auto ym =
      chr::year_month{ymd.year(), ymd.month()} + chr::months{month_offset};
  return sys_days{
      chr::year_month_day_last{ym.year(), chr::month_day_last{ym.month()}}};
}

sys_days add_months(sys_days d, int n) {
  const chr::year_month_day ymd{d};
  const auto ym = chr::year_month{ymd.year(), ymd.month()} + chr::months{n};
  const auto last =
      chr::year_month_day_last{ym.year(), chr::month_day_last{ym.month()}}
          .day();
  return sys_days{ym / std::min(ymd.day(), last)};
}

sys_days end_of_week(sys_days ref) {
  return iso_weekday(ref) <= 5 ? monday_of(ref) + day_count{4} : ref;
}

sys_days weekend_of(sys_days ref) {
  return iso_weekday(ref) == 7 ? ref : monday_of(ref) + day_count{5};
}

sys_days monday_of_next_week(sys_days d) {
  return monday_of(d) + day_count{7};
}

// -- vocabulary --------------------------------------------------------------

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(),
                                   [](char c) { return c >= '0' && c <= '9'; });
}

int to_int(std::string_view digits) {
  int n = 0;
  for (char c : digits)
    n = n * 10 + (c - '0');
  return n;
}

unsigned weekday_of(std::string_view w, bool with_modifier) {
  struct name {
    std::string_view text;
    unsigned day;
    bool needs_modifier;
  };
  static constexpr std::array<name, 36> names{{
      {"monday", 1, false},   {"tuesday", 2, false},  {"wednesday", 3, false},
      {"thursday", 4, false}, {"friday", 5, false},   {"saturday", 6, false},
      {"sunday", 7, false},   {"mon", 1, true},       {"tue", 2, false},
      {"tues", 2, false},     {"wed", 3, false},      {"thu", 4, false},
      {"thur", 4, false},     {"thurs", 4, false},    {"fri", 5, false},
      {"sat", 6, true},       {"sun", 7, true},       {"montag", 1, false},
      {"dienstag", 2, false}, {"mittwoch", 3, false}, {"donnerstag", 4, false},
      {"freitag", 5, false},  {"samstag", 6, false},  {"sonnabend", 6, false},
      {"sonntag", 7, false},  {"lundi", 1, false},    {"mardi", 2, false},
      {"mercredi", 3, false}, {"jeudi", 4, false},    {"vendredi", 5, false},
      {"samedi", 6, false},   {"dimanche", 7, false}, {"weds", 3, false},
      {"tu", 2, true},        {"th", 4, true},        {"fr", 5, true},
  }};
  for (const auto& n : names)
    if (n.text == w && (with_modifier || !n.needs_modifier))
      return n.day;
  return 0;
}

unsigned month_of(std::string_view w) {
  static constexpr std::array<std::pair<std::string_view, unsigned>, 53> names{{
      {"january", 1},   {"february", 2}, {"march", 3},     {"april", 4},
      {"may", 5},       {"june", 6},     {"july", 7},      {"august", 8},
      {"september", 9}, {"october", 10}, {"november", 11}, {"december", 12},
      {"jan", 1},       {"feb", 2},      {"mar", 3},       {"apr", 4},
      {"jun", 6},       {"jul", 7},      {"aug", 8},       {"sep", 9},
      {"sept", 9},      {"oct", 10},     {"nov", 11},      {"dec", 12},
      {"januar", 1},    {"jänner", 1},   {"februar", 2},   {"märz", 3},
      {"mai", 5},       {"juni", 6},     {"juli", 7},      {"oktober", 10},
      {"dezember", 12}, {"janvier", 1},  {"février", 2},   {"mars", 3},
      {"avril", 4},     {"juin", 6},     {"juillet", 7},   {"août", 8},
      {"septembre", 9}, {"octobre", 10}, {"novembre", 11}, {"décembre", 12},
      {"fevrier", 2},   {"aout", 8},     {"decembre", 12}, {"maerz", 3},
      {"jan.", 1},      {"feb.", 2},     {"aug.", 8},      {"oct.", 10},
      {"dec.", 12},
  }};
  for (const auto& [text, m] : names)
    if (text == w)
      return m;
  return 0;
}

int count_of(std::string_view w) {
  if (all_digits(w))
    return w.size() <= 3 ? to_int(w) : 0;
  static constexpr std::array<std::pair<std::string_view, int>, 30> names{{
      {"a", 1},       {"an", 1},      {"one", 1},  {"two", 2},
      {"three", 3},   {"four", 4},    {"five", 5}, {"six", 6},
      {"seven", 7},   {"eight", 8},   {"nine", 9}, {"ten", 10},
      {"eleven", 11}, {"twelve", 12}, {"ein", 1},  {"einem", 1},
      {"einer", 1},   {"zwei", 2},    {"drei", 3}, {"vier", 4},
      {"fünf", 5},    {"un", 1},      {"une", 1},  {"deux", 2},
      {"trois", 3},   {"quatre", 4},  {"cinq", 5}, {"couple", 2},
      {"few", 3},     {"several", 3},
  }};
  for (const auto& [text, n] : names)
    if (text == w)
      return n;
  return 0;
}

unit unit_of(std::string_view w) {
  static constexpr std::array<std::pair<std::string_view, unit>, 34> names{{
      {"day", unit::day},          {"days", unit::day},
      {"tag", unit::day},          {"tage", unit::day},
      {"tagen", unit::day},        {"jour", unit::day},
      {"jours", unit::day},        {"week", unit::week},
      {"weeks", unit::week},       {"woche", unit::week},
      {"wochen", unit::week},      {"semaine", unit::week},
      {"semaines", unit::week},    {"month", unit::month},
      {"months", unit::month},     {"monat", unit::month},
      {"monaten", unit::month},    {"mois", unit::month},
      {"year", unit::year},        {"years", unit::year},
      {"jahr", unit::year},        {"jahren", unit::year},
      {"an", unit::year},          {"ans", unit::year},
      {"hour", unit::same_day},    {"hours", unit::same_day},
      {"hr", unit::same_day},      {"hrs", unit::same_day},
      {"minute", unit::same_day},  {"minutes", unit::same_day},
      {"min", unit::same_day},     {"mins", unit::same_day},
      {"stunden", unit::same_day}, {"heures", unit::same_day},
  }};
  for (const auto& [text, u] : names)
    if (text == w)
      return u;
  return unit::none;
}

int day_of(const text::word& w) {
  std::string_view s = w.folded;
  size_t digits = 0;
  while (digits < s.size() && s[digits] >= '0' && s[digits] <= '9')
    ++digits;
  if (digits == 0 || digits > 2)
    return 0;
  const std::string_view suffix = s.substr(digits);
  if (!suffix.empty() && suffix != "st" && suffix != "nd" && suffix != "rd" &&
      suffix != "th" && suffix != "er" && suffix != "e")
    return 0;
  const int d = to_int(s.substr(0, digits));
  return d >= 1 && d <= 31 ? d : 0;
}

int year_of(const text::word& w) {
  if (w.kind != text::word_kind::number || w.folded.size() != 4 ||
      !all_digits(w.folded))
    return 0;
  const int y = to_int(w.folded);
  return y >= 1900 && y <= 2199 ? y : 0;
}

bool is_deadline_lead(std::string_view w) {
  for (std::string_view lead :
       {"by", "before", "until", "till", "til", "due", "bis", "avant", "vor"})
    if (w == lead)
      return true;
  return false;
}

} // namespace distiller::thoughts::detail
